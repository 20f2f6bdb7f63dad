"""Limits: the upload size (set in .streamlit/config.toml, explained in Chinese beside the
uploader), rows handed to a page (capped, with a note), and time per query (interrupted, with a
Chinese notice instead of a hung page)."""

from __future__ import annotations

import shutil
import threading
import time
import tomllib
from pathlib import Path

import pytest

from governance import db, runtime
from tests.apptest import open_tab
from tests.browser import expect_text, open_page, running_server, wait_for_app
from governance.access import ALL_SCOPE

ROOT = Path(__file__).resolve().parent.parent
SLOW_SQL = "SELECT count(*) AS n FROM range(1000000000000) a"   # minutes of work: must be interrupted



@pytest.fixture
def fresh_cache():
    """Results cached by earlier tests would hide a patched query; patched results must not leak."""
    runtime._cached.clear()
    yield
    runtime._cached.clear()


# ------------------------------------------------------------------ upload size


def test_upload_limit_is_set_in_the_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert 1 <= config["server"]["maxUploadSize"] <= 200


def test_the_server_does_not_reload_modules_under_live_sessions():
    """With the watcher on, a file changed on disk during the load test failed 14 renders."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"


def test_data_page_states_the_limit_in_chinese(app):
    limit = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]["maxUploadSize"]
    at = app("pages/6_data.py")
    assert not at.exception
    hint = " ".join(c.value for c in at.caption)
    assert f"单个文件最大 {limit} MB" in hint
    assert "File must be … or smaller" in hint and "未上传" in hint


@pytest.mark.browser
def test_a_file_over_the_limit_is_refused_with_the_chinese_hint_beside_it(demo_db_master, browser, tmp_path):
    """A server with a 1 MB limit (same setting, set by environment): a 2 MB CSV is refused."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    big = tmp_path / "诉求.csv"
    big.write_bytes(b"\xef\xbb\xbf" + ("诉求编号,街道\n" + "GD0000001,江堤街道\n" * 110_000).encode("utf-8"))
    assert big.stat().st_size > 2 * 1024 * 1024
    with running_server(path, env={"STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "1"}) as base:
        page = open_page(browser, f"{base}/data")
        assert page.get_by_text("Page not found").count() == 0
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(big))
        page.get_by_text("or smaller").first.wait_for(timeout=30_000)
        wait_for_app(page)
        expect_text(page, "单个文件最大 1 MB")
        assert page.get_by_text("检查通过").count() == 0 and page.get_by_text("发现").count() == 0
        page.context.close()


# ------------------------------------------------------------------ rows


def test_query_results_are_capped_and_say_so(demo_con):
    df = db.run_query(demo_con, "common/communities", max_rows=5, scope=ALL_SCOPE)
    assert len(df) == 5 and df.attrs["capped"] is True
    full = db.run_query(demo_con, "common/communities", scope=ALL_SCOPE)
    assert len(full) == 33 and full.attrs["capped"] is False
    assert db.MAX_ROWS <= 5000


def test_a_capped_list_on_a_page_carries_the_note(app, monkeypatch, fresh_cache):
    real = db.run_query

    def small(con, name, params=None, max_rows=db.MAX_ROWS, **kw):
        return real(con, name, params, max_rows=3 if name == "tickets/by_category" else max_rows, **kw)

    monkeypatch.setattr(db, "run_query", small)
    at = open_tab(app("pages/4_tickets.py"), "诉求类别")   # the category table is on its own tab
    assert any(c.value == "仅显示前 3 行；请缩小筛选范围以查看全部。" for c in at.caption)


# ------------------------------------------------------------------ time


@pytest.mark.timeout(60)  # without the limit the query runs for minutes: fail fast instead
def test_a_runaway_query_is_interrupted(demo_con, monkeypatch):
    real_sql = db.load_sql
    monkeypatch.setattr(db, "load_sql", lambda name: SLOW_SQL if name == "test/slow" else real_sql(name))
    t0 = time.time()
    with pytest.raises(db.QueryTimeout, match="运行超过 0.5 秒，已中止"):
        db.run_query(demo_con, "test/slow", {}, timeout=0.5, scope=ALL_SCOPE)
    assert time.time() - t0 < 10
    assert db.run_query(demo_con, "common/communities", scope=ALL_SCOPE).shape[0] == 33   # the connection still works


def test_the_time_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("GOVERNANCE_QUERY_TIMEOUT", "2.5")
    assert db.query_timeout() == 2.5
    monkeypatch.setenv("GOVERNANCE_QUERY_TIMEOUT", "abc")
    assert db.query_timeout() == db.QUERY_TIMEOUT


def test_concurrent_queries_each_get_their_own_cursor(demo_con):
    """Eight threads at once on one connection (as eight sessions are): every answer is right."""
    expected = db.run_query(demo_con, "common/communities", scope=ALL_SCOPE)
    failures = []

    def work():
        try:
            for _ in range(15):
                got = db.run_query(demo_con, "common/communities", version=db.data_version(demo_con), scope=ALL_SCOPE)
                if not got.equals(expected):
                    failures.append("different answer")
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            failures.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == []


@pytest.mark.timeout(120)
def test_a_slow_page_query_shows_a_chinese_notice(app, monkeypatch, fresh_cache):
    real_sql = db.load_sql
    monkeypatch.setattr(db, "load_sql", lambda name: SLOW_SQL if name == "tickets/summary" else real_sql(name))
    monkeypatch.setenv("GOVERNANCE_QUERY_TIMEOUT", "1")
    at = app("pages/4_tickets.py")
    assert not at.exception
    assert any("运行超过 1 秒，已中止。请缩小筛选范围" in e.value for e in at.error)
