"""每月一题 in a real browser: an editor (单机模式: an admin) adopts the July bulletin's first candidate of
江堤街道 with an owner unit; the confirmation names it, and the August bulletin lists it under
六、每月一题 进展 with that owner, where it can then be closed."""

import shutil

import pytest

from tests.browser import open_page, open_tab, running_server, wait_for_app

pytestmark = pytest.mark.browser
OWNER = "江堤街道城市管理办公室"


@pytest.fixture
def own_server(demo_db_master, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    with running_server(path) as base:
        yield base


def test_adopt_from_the_bulletin_and_follow_it_next_month(own_server, browser):
    page = open_page(browser, f"{own_server}/bulletin?street=江堤街道&month=2023-07")
    # no problem adopted yet: 进展 says how one gets adopted
    page.get_by_role("tab", name="六、每月一题 进展", exact=True).wait_for()
    open_tab(page, "六、每月一题 进展")
    page.get_by_text("本范围尚无已确定的每月一题", exact=False).first.wait_for()
    open_tab(page, "五、每月一题 候选")
    page.get_by_text("采纳为每月一题", exact=True).wait_for()
    candidate = page.get_by_role("combobox", name="候选类别", exact=True).input_value()
    assert "件）" in candidate
    owner = page.get_by_label("牵头单位", exact=True)
    owner.fill(OWNER)
    owner.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="采纳", exact=True).click()
    confirmation = page.get_by_text("已采纳第 1 号每月一题", exact=False)
    confirmation.wait_for(timeout=60_000)
    wait_for_app(page)
    assert "2023-08-01 起" in confirmation.inner_text() and "自 2023-08 的月度通报起" in confirmation.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0

    # the next month's bulletin lists it, with the owner unit in its table and a verdict in its summary
    august = open_page(browser, f"{own_server}/bulletin?street=江堤街道&month=2023-08")
    august.get_by_role("tab", name="六、每月一题 进展", exact=True).wait_for()
    open_tab(august, "六、每月一题 进展")
    summary = august.get_by_text("已采纳 1 项：", exact=False)
    summary.wait_for()
    assert any(f"{k} 1 项" in summary.inner_text() for k in ("好转", "持平", "反弹"))
    august.get_by_text("结束每月一题", exact=True).wait_for()   # an open problem can be closed here
    pick = august.get_by_role("combobox", name="结束哪一题", exact=True).input_value()
    assert pick.startswith("第 1 号：")
    # the owner unit in the 进展 table: the grid draws on a canvas and keeps an accessible (hidden) table
    # of the cells in view, so bring the table into view and wait for that cell to be attached
    august.get_by_text("每月一题 进展", exact=True).scroll_into_view_if_needed()
    cell = august.locator("[data-testid=stDataFrame] td[role=gridcell]", has_text=OWNER).first
    cell.wait_for(state="attached")
    assert cell.text_content() == OWNER
    assert august.locator("[data-testid='stException']").count() == 0
