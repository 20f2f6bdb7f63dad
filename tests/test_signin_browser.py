"""Sign-in in a real browser: a real OpenID Connect provider (oidc-provider-mock) on a free loopback
port, a real `streamlit run` with `[auth]` in its secrets, and Debian's Chromium.

Registered users (demo data): a viewer and an editor of 江堤街道, an admin of everything.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from governance import access, db
from tests.browser import open_page, running_server, sign_in, text_containing, wait_for_app
from tests.browser import signin_server as login_mode_server

pytestmark = pytest.mark.browser

VIEWER, EDITOR, ADMIN, STRANGER = "viewer@example.org", "editor@example.org", "admin@example.org", "nobody@example.org"
OURS = ["江欣苑社区", "江堤甲社区"]           # 湖北省/武汉市/汉阳区/江堤街道
THEIRS = ["裕园社区", "中大槐树街道"]          # 山东省/济南市/槐荫区/中大槐树街道
PAGES = ["overview", "coverage", "organizations", "tickets", "compare", "data", "glossary", "users"]


@pytest.fixture(scope="module")
def signin_server(demo_db_master, tmp_path_factory):
    folder = tmp_path_factory.mktemp("signin")
    path = folder / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    con = db.connect(path)
    admin = access.cli_actor(con)
    for email, role, scope in [(VIEWER, "viewer", "江堤街道"), (EDITOR, "editor", "江堤街道"), (ADMIN, "admin", "全部")]:
        access.add_user(con, admin, email, role, scope, name={"viewer": "王查看", "editor": "李编辑", "admin": "张管理"}[role])
    con.close()
    with login_mode_server(path, folder) as (base, provider):
        yield base, path, provider


def new_page(browser, url: str):
    return open_page(browser, url)


def go(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


def main_text(page, *words: str) -> str:
    """The main area's text, once it shows every one of `words` (the page may still be drawing)."""
    return text_containing(page.locator("[data-testid='stMain']"), *words)


def nav_labels(page) -> list[str]:
    # each link reads "<icon name>\n\n<title>"
    page.locator("[data-testid='stSidebarNav'] a").first.wait_for(timeout=60_000)
    return [t.strip().split("\n")[-1].strip() for t in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]


def test_not_signed_in_every_page_shows_only_the_sign_in_screen(signin_server, browser):
    base, _, _ = signin_server
    for url in PAGES + ["", "compare?communities=江欣苑社区,裕园社区", "tickets?street=江堤街道"]:
        page = new_page(browser, f"{base}/{url}")
        page.get_by_role("button", name="登录").wait_for(timeout=30_000)
        body = page.locator("body").inner_text()
        assert "需要登录后使用" in body
        for word in OURS + THEIRS + ["演示数据", "组织覆盖", "诉求量", "%"]:
            assert word not in body, (url, word)
        assert page.locator("[data-testid='stSidebarNav']").count() == 0
        assert page.get_by_text("Page not found").count() == 0
        page.context.close()


def test_an_unregistered_identity_is_not_authorised(signin_server, browser):
    base, _, provider = signin_server
    page = sign_in(browser, base, provider, STRANGER, "tickets")
    page.get_by_text("未授权").first.wait_for(timeout=30_000)
    body = page.locator("body").inner_text()
    assert f"账号：{STRANGER}" in body and "还没有登记为本看板的用户" in body
    for word in OURS + THEIRS + ["演示数据", "诉求量"]:
        assert word not in body, word
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    page.context.close()


def test_a_viewer_sees_only_the_scope_and_no_write_controls(signin_server, browser):
    base, _, provider = signin_server
    page = sign_in(browser, base, provider, VIEWER)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("范围：湖北省/武汉市/汉阳区/江堤街道").wait_for(timeout=30_000)
    assert "退出登录" in sidebar.inner_text() and "王查看" in sidebar.inner_text()
    labels = nav_labels(page)
    assert "总览" in labels and "数据管理" not in labels and "用户管理" not in labels
    text = main_text(page, "江欣苑社区")
    assert "江堤街道 › 汉阳区" not in text
    for word in THEIRS + ["康城社区", "西山社区"]:
        assert word not in text, word

    go(page, f"{base}/tickets?street=中大槐树街道")
    page.get_by_text("不在您的查看范围").first.wait_for(timeout=30_000)
    text = main_text(page, "江堤街道（您的范围）的全部社区")
    assert "裕园社区" not in text   # the scope's own communities instead

    go(page, f"{base}/compare?communities=江欣苑社区,裕园社区,江堤甲社区")
    page.get_by_text("链接中的社区“裕园社区”不在您的查看范围").wait_for(timeout=30_000)
    text = main_text(page, "江堤甲社区")
    assert "西山社区" not in text and "康城社区" not in text

    go(page, f"{base}/glossary")
    page.get_by_text("您的查看范围：湖北省/武汉市/汉阳区/江堤街道（查看者）").wait_for(timeout=30_000)

    for url in ("data", "users"):
        go(page, f"{base}/{url}")
        assert page.locator("[data-testid='stFileUploader']").count() == 0
        assert page.get_by_role("button", name="撤销").count() == 0
        assert page.get_by_role("button", name="删除演示数据").count() == 0
        assert page.get_by_role("button", name="保存").count() == 0
    page.context.close()


def _digest(path: Path) -> str:
    h = hashlib.sha256(path.read_bytes())
    wal = Path(f"{path}.wal")
    h.update(wal.read_bytes() if wal.exists() else b"")
    return h.hexdigest()


def test_an_editor_imports_inside_the_scope_and_is_refused_outside(signin_server, browser, tmp_path):
    base, path, provider = signin_server
    page = sign_in(browser, base, provider, EDITOR, "data")
    go(page, f"{base}/data")
    page.get_by_text("您的范围：湖北省/武汉市/汉阳区/江堤街道").wait_for(timeout=30_000)
    ours = tmp_path / "江堤新社区.csv"
    ours.write_text("省,市,区县,街道,社区,类型\n湖北省,武汉市,汉阳区,江堤街道,江堤新苑社区,城市\n", encoding="utf-8")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(ours))
    page.get_by_text("检查通过：共 1 行，将新增 1 行、更新 0 行").wait_for(timeout=60_000)
    page.get_by_role("button", name="导入").click()
    page.get_by_text("已导入 江堤新社区.csv").wait_for(timeout=60_000)
    wait_for_app(page)
    # names in Markdown carry a word joiner after "@" so that they are no live mail links
    who = re.escape(EDITOR).replace("@", "@\u2060?")
    page.get_by_text(re.compile(f"由 {who} 导入")).first.wait_for(timeout=30_000)

    before = _digest(path)
    theirs = tmp_path / "混合.csv"
    theirs.write_text("省,市,区县,街道,社区,类型\n湖北省,武汉市,汉阳区,江堤街道,江堤二新社区,城市\n"
                      "山东省,济南市,槐荫区,中大槐树街道,槐树新社区,城市\n", encoding="utf-8")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(theirs))
    page.get_by_text("发现 ").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_role("button", name="导入").count() == 0
    assert _digest(path) == before
    # the grid is a canvas: read the problem list through its CSV download
    with page.expect_download() as dl:
        page.get_by_role("button", name="下载问题清单（CSV）").click()
    listed = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert "3," in listed and "湖北省/武汉市/汉阳区/江堤街道" in listed and "不在您的范围内" in listed, listed
    page.context.close()


def test_an_admin_sees_every_street_and_manages_users(signin_server, browser):
    base, path, provider = signin_server
    page = sign_in(browser, base, provider, ADMIN)
    page.locator("[data-testid='stSidebar']").get_by_text("范围：全部").wait_for(timeout=30_000)
    assert "用户管理" in nav_labels(page) and "数据管理" in nav_labels(page)
    main_text(page, "裕园社区", "江欣苑社区")
    go(page, f"{base}/users")
    page.get_by_text("已登记的用户").wait_for(timeout=30_000)
    page.get_by_label("邮箱（统一身份认证返回的 email）").fill("new.person@example.org")
    page.get_by_label("姓名（可不填）").fill("赵新")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已添加用户 new.person@example.org：查看者，范围 全部。").wait_for(timeout=60_000)
    page.context.close()
    # the new user can sign in now
    page = sign_in(browser, base, provider, "new.person@example.org")
    page.locator("[data-testid='stSidebar']").get_by_text("赵新").wait_for(timeout=30_000)
    page.context.close()


def test_local_mode_on_a_network_address_refuses_writes(demo_db_master, browser, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    with running_server(path, address="0.0.0.0") as base:
        page = new_page(browser, f"{base}/data")
        page.get_by_text("写入操作已停用").first.wait_for(timeout=30_000)
        assert page.locator("[data-testid='stFileUploader']").count() == 0
        assert page.get_by_role("button", name="删除演示数据").count() == 0
        assert "数据管理" in nav_labels(page)   # the page is there, saying why nothing can be written
        go(page, f"{base}/overview")
        main_text(page, "江欣苑社区")   # reading still works
        page.context.close()
