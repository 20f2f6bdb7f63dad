"""诉求办理 in a real browser against `streamlit run` on the demo data."""

import pytest

from tests.browser import click, metric_value, wait_for_charts

pytestmark = pytest.mark.browser


def test_yuyuan_shows_three_rates_and_trust_property_before_after(open_url):
    page = open_url("tickets?community=裕园社区")
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    for name in ("T2 响应率", "T3 解决率", "T4 满意率"):
        value = metric_value(page, name)
        assert value.endswith("%") and value != "无数据"
    page.get_by_text("件有效回访").first.wait_for(timeout=60_000)
    # the first tab is drawn; 举一反三 is a tab of its own, not yet run, until it is chosen
    wait_for_charts(page)
    assert page.get_by_role("heading", name="月度趋势").count() == 1
    assert page.get_by_text("做法前后：该类诉求是否减少").count() == 0
    click(page, page.get_by_role("tab", name="举一反三"))
    page.get_by_text("举一反三：从一个问题到一类问题").wait_for(timeout=60_000)
    assert page.get_by_role("heading", name="月度趋势").count() == 0
    assert metric_value(page, "T3 解决率").endswith("%")      # the headline stays above the tabs
    # the before/after of the trust property management, with its change, and its ticket list
    page.get_by_text("做法前后：该类诉求是否减少").scroll_into_view_if_needed()
    page.get_by_text("-68%").first.wait_for(state="attached", timeout=60_000)   # a cell of the table (drawn on a canvas)
    page.locator(".js-plotly-plot").filter(has_text="信托制物业").first.wait_for(timeout=60_000)
    button = page.get_by_role("button", name="下载该做法前后的诉求清单（44 件，CSV）")
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("诉求编号,街道,社区,小区,一级类别") and len(lines) == 45
    assert all(",下水道堵塞," in line for line in lines[1:])
    assert page.locator("[data-testid='stException']").count() == 0
