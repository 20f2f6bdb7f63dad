"""The 社会组织 page in Chromium against a real `streamlit run` on the demo database."""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser import click, metric_value, text_containing, wait_for_app

pytestmark = pytest.mark.browser


def _metric(page, label: str) -> str:
    return metric_value(page, label)


def test_xishan_page_shows_43_and_152_and_downloads_the_list(open_url):
    page = open_url("organizations?community=西山社区")
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    assert _metric(page, "S1 社会组织数") == "43"
    assert _metric(page, "S6 成员单位") == "152"
    page.get_by_text("西山社区爱心联盟：14 → 152 家").wait_for(timeout=60_000)
    assert page.get_by_text("西山社区爱心联盟：14 → 152 家").count() == 1
    # the S6 chart labels the alliance's first and latest member units (a tab of its own)
    click(page, page.get_by_role("tab", name="联盟与志愿队伍"))
    text_containing(page.locator("[data-testid='stPlotlyChart']").first, "14 家", "152 家")

    click(page, page.get_by_role("tab", name="组织名单"))

    with page.expect_download() as info:
        page.get_by_role("button", name="下载组织名单（CSV）").click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 43
    assert "西山社区爱心联盟" in {r["组织名称"] for r in rows}

    box = page.get_by_label("搜索组织名称")
    box.fill("联盟")
    box.press("Enter")
    page.get_by_text("共 1 个组织（名称含搜索词）").wait_for(timeout=30_000)
    wait_for_app(page)
    assert page.locator("[data-testid='stException']").count() == 0


def test_street_view_ranks_communities_against_target(open_url):
    page = open_url("organizations?street=硖石街道")
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    assert _metric(page, "S3 达标社区") == "3 / 4"
    click(page, page.get_by_role("tab", name="各社区达标"))
    ranking = page.locator("[data-testid='stPlotlyChart']").filter(has_text="达标线")
    ranking.first.wait_for(timeout=60_000)   # drawn after the cards: wait for it before counting
    assert ranking.count() == 1
    text_containing(ranking, "硖石甲社区", "西山社区")
