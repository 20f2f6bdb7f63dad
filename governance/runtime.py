"""The running dashboard's access to its database: opened once per server process, every
query on its own cursor, results cached on (database, data version, query, parameters)."""

from __future__ import annotations

import functools
import importlib
import os
import threading
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from governance import db, snapshots, writer
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


# --- several dashboard processes (python -m governance serve --replicas N) -------------------
# Each process reads the newest published snapshot of the primary read-only (governance/snapshots.py)
# and hands every write to the writer (governance/writer.py). A run reads the snapshot pinned at
# its start; a newer one is taken at the start of the next run, never inside a run. Connections
# to snapshots superseded RETIRE_AFTER seconds ago are closed, so the writer can remove the files.
SNAPSHOT_ENV = "GOVERNANCE_READ_SNAPSHOTS"
RETIRE_AFTER = 120.0
_snap_lock = threading.Lock()
_snap_cons: dict[str, list] = {}   # snapshot path -> [connection, time it was superseded or None]


def snapshot_mode() -> bool:
    return os.environ.get(SNAPSHOT_ENV) == "1"


def _newest_snapshot() -> str:
    snap = snapshots.newest(db.db_path())
    if snap is None:
        raise db.DatabaseError(f"还没有发布数据库 {db.db_path()} 的只读快照：请用 python -m governance serve 启动看板。")
    return str(snap)


def _snapshot_connection(snap: str):
    with _snap_lock:
        entry = _snap_cons.get(snap)
        if entry is None:
            entry = _snap_cons[snap] = [db.connect(snap, read_only=True), None]
        return entry[0]


def _retire_superseded(newest: str) -> None:
    now = time.monotonic()
    with _snap_lock:
        for snap, entry in list(_snap_cons.items()):
            if snap == newest:
                continue
            if entry[1] is None:
                entry[1] = now
            elif now - entry[1] > RETIRE_AFTER:
                del _snap_cons[snap]
                entry[0].close()


def _pinned_snapshot() -> str:
    try:
        snap = st.session_state.get("_snapshot")
    except Exception:   # outside a Streamlit run (the benchmark)
        snap = None
    if snap is None or (snap not in _snap_cons and snap != _newest_snapshot()):
        # never open an old snapshot again once its connection was closed: the writer may be
        # rewriting that file into the next snapshot (a run pinned to another version reruns)
        snap = _newest_snapshot()
    return snap


def connection():
    """The process-wide connection (in snapshot mode: to the snapshot this run reads); pages never
    use it directly, only through query()."""
    if snapshot_mode():
        return _snapshot_connection(_pinned_snapshot())
    return _open(path_str())


def begin_run():
    """Called by app.py at the start of every run: open the database and pin its data version.

    Every query of the run then reads exactly that version, so a page shows the data from
    before an import or from after it, never a mix of both.
    """
    if snapshot_mode():
        snap = _newest_snapshot()
        st.session_state["_snapshot"] = snap
        _retire_superseded(snap)
    con = connection()
    st.session_state["_data_version"] = db.data_version(con)
    return con


def write(op: str, *args, **kwargs):
    """Run the write `op` (governance.writer.OPS) as fn(connection, *args, **kwargs): here on the
    process's own read-write connection, or, in snapshot mode, handed to the writer, returning once
    the snapshot with the write in it is published (the next run reads it)."""
    if snapshot_mode():
        try:
            return writer.call(db.db_path(), op, *args, **kwargs)
        except writer.WriterFailed as exc:
            st.error(str(exc), icon=":material/error:")
            st.stop()
    module, name = writer.OPS[op]
    return getattr(importlib.import_module(module), name)(connection(), *args, **kwargs)


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached(key: str, _path_str: str, _version: str, _name: str, _params: tuple, _max_rows: int,
            _scope: Scope) -> pd.DataFrame:
    # Streamlit hashes only `key`, which spells out every other argument (see query()), the scope
    # included, so one user's results are never served to another scope: hashing one short string
    # instead of six values makes a cache hit about twice as cheap
    con = connection()
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
