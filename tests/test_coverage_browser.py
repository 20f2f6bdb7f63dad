"""The 组织覆盖 page in Chromium against a real `streamlit run` on the demo database."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.browser import click, metric_value, wait_for_charts

pytestmark = pytest.mark.browser


def metric_values(page, *wanted: str) -> dict[str, str]:
    """The `wanted` cards' values by label, each read from its own card once it is drawn (a rerun
    may still be drawing: the KeyError of issue 13 came from reading the cards before they were shown)."""
    return {label: metric_value(page, label) for label in wanted}


def test_jiangxinyuan_published_chain_in_a_real_browser(open_url):
    page = open_url("coverage?community=江欣苑社区")
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("heading", name="组织覆盖").first.wait_for(timeout=60_000)
    m = metric_values(page, "小区党支部（个）", "楼栋党小组（个）", "党员中心户（户）")
    assert m["小区党支部（个）"] == "8"
    assert m["楼栋党小组（个）"] == "88"
    assert m["党员中心户（户）"] == "177"
    # the funnel and the chain picture are drawn; the monthly chart is a tab of its own
    page.locator("[data-testid='stPlotlyChart']").nth(1).wait_for(timeout=60_000)
    wait_for_charts(page)
    assert page.get_by_text("覆盖率逐月变化", exact=True).count() == 0
    click(page, page.get_by_role("tab", name="逐月变化"))
    page.locator(".js-plotly-plot").filter(has_text="C4").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stPlotlyChart']").count() == 1
    assert metric_value(page, "小区党支部（个）") == "8"     # the headline stays above the tabs


def test_gap_csv_downloads_and_parses(open_url, tmp_path):
    page = open_url("coverage?community=康城社区")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_text("断点清单", exact=True).count() == 0      # a tab of its own, not run until chosen
    click(page, page.get_by_role("tab", name="各社区与断点"))
    shown = metric_values(page, "无党支部的小区", "无楼栋党小组的楼栋")
    button = page.get_by_role("button", name="下载断点清单（CSV）")
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "gaps.csv"
    download.save_as(path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese correctly
    gaps = pd.read_csv(path, encoding="utf-8-sig")
    assert list(gaps.columns) == ["街道", "社区", "小区", "楼栋", "缺口", "涉及楼栋", "涉及户数"]
    assert set(gaps["社区"]) == {"康城社区"}
    # the counts above the table match the rows of the file
    compounds = gaps[gaps["楼栋"] == "（整个小区）"]
    assert f"{len(compounds)} 个" == shown["无党支部的小区"]
    n_no_group = gaps["缺口"].str.contains("无楼栋党小组").sum()
    assert f"{n_no_group} 栋" == shown["无楼栋党小组的楼栋"]
    # uncovered compounds cover all their buildings: C1's gap is visible in the file
    assert compounds["涉及楼栋"].sum() > 0
