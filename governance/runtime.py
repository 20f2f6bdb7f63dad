"""The running dashboard's access to its database: opened once per server process, every
query on its own cursor, results cached on (database, data version, query, parameters)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from governance import db
from governance.access import Scope
from governance.demo import build_demo_database


@st.cache_resource(show_spinner=False)
def _open(path_str: str):
    path = Path(path_str)
    if not path.exists():
        if not db.is_default_path(path):
            raise db.DatabaseError(
                f"找不到数据库文件 {path}（由环境变量 GOVERNANCE_DB 指定）。"
                "请检查路径，或用 `python -m governance demo --db 路径` 生成演示数据库。"
            )
        # the server's log says it too: the first start is a few seconds slower than the next ones
        print(f"首次启动：正在生成演示数据库 {path}（约需几秒）……", flush=True)
        with st.spinner("首次启动：正在生成演示数据库（约需几秒）……"):
            build_demo_database(path)
        print(f"演示数据库已生成：{path}", flush=True)
    return db.connect(path)


@functools.lru_cache(maxsize=16)
def _resolved(path: str, cwd: str) -> str:
    return str(Path(cwd, path).resolve())


def path_str() -> str:
    """The database file's resolved path, as cache keys spell it (resolved once per path: resolve()
    asks the file system about every directory on the way, on every query)."""
    path = db.db_path()
    return _resolved(str(path), "" if path.is_absolute() else os.getcwd())


def data_version() -> str:
    """The data version this run reads: the one pinned at its start (begin_run), else the database's."""
    return st.session_state.get("_data_version") or db.data_version(connection())


def connection():
    """The process-wide connection; pages never use it directly, only through query()."""
    return _open(path_str())


def begin_run():
    """Called by app.py at the start of every run: open the database and pin its data version.

    Every query of the run then reads exactly that version, so a page shows the data from
    before an import or from after it, never a mix of both.
    """
    con = connection()
    st.session_state["_data_version"] = db.data_version(con)
    return con


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached(key: str, _path_str: str, _version: str, _name: str, _params: tuple, _max_rows: int,
            _scope: Scope) -> pd.DataFrame:
    # Streamlit hashes only `key`, which spells out every other argument (see query()), the scope
    # included, so one user's results are never served to another scope: hashing one short string
    # instead of six values makes a cache hit about twice as cheap
    con = _open(_path_str)
    return db.run_query(con, _name, dict(_params), max_rows=_max_rows, version=_version, scope=_scope)


def _freeze(value):
    if isinstance(value, list):
        return tuple(value)
    return value


def actor():
    """Who is asking in this run; a run that app.py's sign-in gate did not let through reads nothing."""
    who = st.session_state.get("_actor")
    if who is None:
        st.stop()
        raise RuntimeError("no signed-in actor outside a Streamlit run: pass actor= explicitly")
    return who


def scope_key() -> str:
    """The asking user's scope, for cache keys of anything derived from query results."""
    return actor().scope.key()


def query(name: str, params: dict | None = None, max_rows: int = db.MAX_ROWS, *, as_actor=None) -> pd.DataFrame:
    """Run queries/<name>.sql with bound parameters in the asking user's scope, cached until the
    data changes. `as_actor` is for callers outside a Streamlit run (the benchmark)."""
    scope = (as_actor or actor()).scope
    path = path_str()
    frozen = tuple(sorted((k, _freeze(v)) for k, v in (params or {}).items()))
    version = data_version()
    try:
        # dates, numbers, text, None: exact reprs
        key = repr((path, version, name, frozen, max_rows, scope.key()))
        return _cached(key, path, version, name, frozen, max_rows, scope)
    except db.DataChanged:
        st.rerun()  # an import committed during this run: draw the page again on the new data
    except db.DatabaseError as exc:  # too slow, or a damaged file: a notice instead of a traceback
        st.error(str(exc), icon=":material/error:")
        st.stop()


@st.cache_data(show_spinner=False, max_entries=500)
def _derived(key: str, _fn):
    return _fn()


@st.cache_resource(show_spinner=False, max_entries=200)
def _shared(key: str, _fn):
    return _fn()


def derived(name: str, parts, fn, shared: bool = False):
    """`fn()` (something computed from query results: a comparison, a table, a figure) cached like
    a query: per database, data version and the asking user's scope, plus `parts`, which must spell
    out every other input of `fn` (only this key is hashed, `fn` never is).

    shared=True hands every rerun the same object instead of a copy (for Plotly figures: a copy,
    or building one from a dict, re-validates every trace); the caller must not change it."""
    version = data_version()
    key = repr((path_str(), version, scope_key(), name, parts))
    if shared:   # a shared figure is escaped before it is shared (ui.plotly_chart then leaves it as it is)
        return _shared(key, lambda: _escaped(fn()))
    return _derived(key, fn)


def _escaped(value):
    import plotly.graph_objects as go

    from governance.labels import plot_safe

    return plot_safe(value) if isinstance(value, go.Figure) else value
