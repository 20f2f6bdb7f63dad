"""Shared test fixtures: the hand-built fixture database, the demo database, AppTest, and a
real `streamlit run` with Debian's Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from governance import db
from governance.demo import build_demo_database
from tests import fixtures
from tests.browser import launch_browser, open_page, running_server

ROOT = Path(__file__).resolve().parent.parent
# AppTest shows tracebacks instead of the redacted message users see.
os.environ["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] = "full"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real streamlit server with Chromium")


@pytest.fixture
def fixture_db(tmp_path) -> Path:
    """A fresh copy of the hand-built fixture database."""
    return fixtures.build(tmp_path / "fixture.duckdb")


@pytest.fixture
def fixture_con(fixture_db):
    con = db.connect(fixture_db)
    yield con
    con.close()


@pytest.fixture(scope="session")
def demo_db_master(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_database(path)
    return path


@pytest.fixture(scope="session")
def demo_db(demo_db_master, tmp_path_factory) -> Path:
    """A demo database for read-mostly tests in this process (AppTest, queries)."""
    path = tmp_path_factory.mktemp("demo-ro") / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    return path


@pytest.fixture(scope="session")
def demo_con(demo_db):
    con = db.connect(demo_db)
    yield con
    con.close()


@pytest.fixture
def app(demo_db, monkeypatch):
    """AppTest factory on the demo database: app(query_params) -> a run AppTest on app.py."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GOVERNANCE_DB", str(demo_db))

    def make(page: str | None = None, **query_params):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in query_params.items():
            at.query_params[k] = v
        at.run()
        if page:
            at.switch_page(page).run()
        return at

    return make


@pytest.fixture
def bound_text(monkeypatch) -> list:
    """Every text value bound to a query from now on (Streamlit's caches cleared, so pages really query)."""
    import streamlit as st

    seen: list = []
    real = db.run_query

    def spy(con, name, params=None, *a, **kw):
        seen.extend(v for v in (params or {}).values() if isinstance(v, str))
        return real(con, name, params, *a, **kw)

    monkeypatch.setattr(db, "run_query", spy)
    st.cache_data.clear()  # every cached result and derived figure
    return seen


@pytest.fixture(scope="session")
def server(demo_db_master, tmp_path_factory):
    """A real streamlit server on its own copy of the demo database; yields the base URL."""
    path = tmp_path_factory.mktemp("demo-server") / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    with running_server(path) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    with launch_browser() as b:
        yield b


@pytest.fixture
def open_url(server, browser):
    """open_url('coverage?community=…') -> a Playwright page in a fresh context, fully rendered."""
    pages = []

    def go(path: str, **kw):
        page = open_page(browser, f"{server}/{path.lstrip('/')}", **kw)
        pages.append(page)
        return page

    yield go
    for p in pages:
        p.context.close()
