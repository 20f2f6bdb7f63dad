"""The running dashboard's access to its database: opened once per server process, every
query on its own cursor, results cached on (database, data version, query, parameters)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from governance import db
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
        with st.spinner("首次启动：正在生成演示数据库（约需几秒）……"):
            build_demo_database(path)
    return db.connect(path)


def connection():
    """The process-wide connection; pages never use it directly, only through query()."""
    return _open(str(db.db_path().resolve()))


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached(path_str: str, version: str, name: str, params: tuple, max_rows: int) -> pd.DataFrame:
    con = _open(path_str)
    return db.run_query(con, name, dict(params), max_rows=max_rows)


def _freeze(value):
    if isinstance(value, list):
        return tuple(value)
    return value


def query(name: str, params: dict | None = None, max_rows: int = db.MAX_ROWS) -> pd.DataFrame:
    """Run queries/<name>.sql with bound parameters, cached until the data changes."""
    con = connection()
    path_str = str(db.db_path().resolve())
    frozen = tuple(sorted((k, _freeze(v)) for k, v in (params or {}).items()))
    return _cached(path_str, db.data_version(con), name, frozen, max_rows)
