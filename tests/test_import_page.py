"""The `data` page: AppTest of its sections and the demo removal; a real browser uploading a
file, checking it, importing it and undoing it."""

from __future__ import annotations

import shutil

import pytest

from governance import db
from tests.browser import expect_text, open_page, running_server, wait_for_app
from tests.conftest import ROOT

# the page opens on the communities table: two new communities of 江堤街道, GBK as Excel saves it
COMMUNITIES = ("省,市,区县,街道,社区,类型,户数,居民人数\n"
               "湖北省,武汉市,汉阳区,江堤街道,江堤新苑社区,城市,1200,3100\n"
               "湖北省,武汉市,汉阳区,江堤街道,江堤新村,农村,300,\n").encode("gbk")


@pytest.fixture
def own_app(demo_db_master, tmp_path, monkeypatch):
    """AppTest on the data page over a private copy of the demo database (this test writes)."""
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    monkeypatch.setenv("GOVERNANCE_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/6_data.py").run()
    return at, path


def test_page_sections_and_templates(own_app):
    at, _ = own_app
    assert not at.exception
    assert [h.value for h in at.header] == ["1. 选择数据表，下载模板", "2. 上传文件，检查后导入", "3. 导入记录",
                                             "4. 用本街道的数据替换演示数据"]
    assert at.selectbox(key="data_table").value == "communities"
    at.selectbox(key="data_table").set_value("tickets").run()
    assert "诉求" in at.get("file_uploader")[0].proto.label
    assert any("还没有导入过数据" in i.value for i in at.info)


def test_replace_demo_data_needs_confirmation_and_removes_the_banner(own_app):
    at, path = own_app
    assert any("演示数据" in w.value for w in at.warning)  # app.py's banner
    assert at.button(key="data_remove_demo").disabled
    at.checkbox(key="data_confirm_demo").check().run()
    at.button(key="data_remove_demo").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("已删除演示数据 ")
    assert not any("演示数据**" in w.value for w in at.warning)
    assert "替换演示数据" in " ".join(m.value for m in at.markdown)
    at.button(key="undo_1").click().run()
    assert at.success[0].value.startswith("已撤销第 1 批：恢复演示数据 ")
    assert any("演示数据" in w.value for w in at.warning)


def test_upload_preview_import_undo_in_a_browser(demo_db_master, browser, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    upload = tmp_path / "社区.csv"
    upload.write_bytes(COMMUNITIES)
    with running_server(path) as base:
        page = open_page(browser, f"{base}/data")
        assert page.get_by_text("Page not found").count() == 0
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(upload))
        page.get_by_text("检查通过：共 2 行，将新增 2 行、更新 0 行").wait_for(timeout=60_000)
        wait_for_app(page)
        page.get_by_role("button", name="导入").click()
        page.get_by_text("已导入 社区.csv：第 1 批，社区表新增 2 行、更新 0 行").wait_for(timeout=60_000)
        wait_for_app(page)

        # another session sees the import without a restart: the new community is a filter option
        other = open_page(browser, f"{base}/data")
        other.get_by_text("第 1 批").first.wait_for(timeout=30_000)
        expect_text(other, "社区 · 社区.csv · 新增 2 行，更新 0 行")
        other.context.close()
        overview = open_page(browser, f"{base}/overview?street=江堤街道&community=江堤新苑社区")
        expect_text(overview, "江堤新苑社区")
        overview.context.close()

        page.get_by_role("button", name="撤销").first.click()
        page.get_by_text("已撤销第 1 批（社区）：删除新增的 2 行，恢复被更新的 0 行。").wait_for(timeout=60_000)
        wait_for_app(page)
        page.context.close()
    con = db.connect(path, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM communities WHERE street = '江堤街道'").fetchall() == [(6,)]
        assert con.execute("SELECT undone_at IS NOT NULL FROM import_batches").fetchall() == [(True,)]
    finally:
        con.close()
