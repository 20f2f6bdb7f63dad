"""Database location, opening, and the query runner for the SQL files in `queries/`.

Queries are files named by what they return (`queries/<area>/<result>.sql`); values are
always bound as `$name` parameters. Each call runs on its own cursor, because one DuckDB
connection refuses concurrent calls from several Streamlit sessions.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from governance.schema import SCHEMA_VERSION, create_schema

ROOT = Path(__file__).resolve().parent.parent
QUERIES_DIR = ROOT / "queries"
DEFAULT_DB = ROOT / "data" / "governance.duckdb"

# Hard cap on rows a query hands back to a page for a list the user sees.
MAX_ROWS = 5000
# Cap for per-community (or per-month, per-compound) aggregates that a page sums into totals or
# ranks: these must be complete at province scale (5,000 communities × months), never cut at MAX_ROWS.
SUM_ROWS = 1_000_000

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class DatabaseError(Exception):
    """A database that cannot be used; the message is in Chinese, for the user."""


def db_path() -> Path:
    """The configured database: $GOVERNANCE_DB, else data/governance.duckdb."""
    return Path(os.environ.get("GOVERNANCE_DB") or DEFAULT_DB)


def is_default_path(path: Path) -> bool:
    return Path(path).resolve() == DEFAULT_DB.resolve()


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a database and check its schema version; create the schema on a new file."""
    path = Path(path)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseError(
                f"数据库文件 {path} 正被另一个程序（例如正在运行的看板）占用，请关闭后重试，"
                "或在看板的“数据管理”页面中操作。"
            ) from exc
        raise DatabaseError(f"无法打开数据库文件 {path}：它不是 DuckDB 数据库或已损坏。") from exc
    except duckdb.Error as exc:
        raise DatabaseError(f"无法打开数据库文件 {path}：{exc}") from exc
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "meta" not in tables:
            if tables:
                raise DatabaseError(f"数据库文件 {path} 不是本看板的数据库（缺少 meta 表），未做任何修改。")
            if read_only:
                raise DatabaseError(f"数据库文件 {path} 是空的。")
            create_schema(con)
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if version is None or int(version[0]) != SCHEMA_VERSION:
            found = version[0] if version else "无"
            raise DatabaseError(
                f"数据库文件 {path} 的结构版本为 {found}，本程序需要版本 {SCHEMA_VERSION}；"
                "为避免误读，未打开该文件。"
            )
        if not read_only:
            from governance.rollups import ensure_fresh

            create_schema(con)  # idempotent: adds any table or macro of this version that is missing
            ensure_fresh(con)  # rollups missing or older than the data (e.g. written by an older program)
    except DatabaseError:
        con.close()
        raise
    return con


@lru_cache(maxsize=None)
def load_sql(name: str) -> str:
    """The text of queries/<name>.sql; `name` must be a path inside queries/."""
    path = (QUERIES_DIR / f"{name}.sql").resolve()
    if QUERIES_DIR.resolve() not in path.parents:
        raise ValueError(f"query outside queries/: {name}")
    return path.read_text(encoding="utf-8")


def sql_params(sql: str) -> set[str]:
    """Named parameters a query uses (comments stripped first)."""
    body = re.sub(r"--[^\n]*", "", sql)
    return set(_PARAM.findall(body))


def run_query(con, name: str, params: dict | None = None, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Run queries/<name>.sql on its own cursor with the parameters it names.

    Parameters the query does not use are ignored (DuckDB refuses extra ones); a missing one
    is an error. At most `max_rows` rows come back; `df.attrs['capped']` says if more existed.
    """
    sql = load_sql(name)
    wanted = sql_params(sql)
    params = params or {}
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"query {name} needs parameters {sorted(missing)}")
    bound = {k: params[k] for k in wanted}
    cur = con.cursor()
    try:
        rel = cur.execute(sql, bound)
        rows = rel.fetchmany(max_rows + 1)
        cols = [d[0] for d in rel.description]
    finally:
        cur.close()
    df = pd.DataFrame.from_records(rows, columns=cols)
    df.attrs["capped"] = len(df) > max_rows
    return df.iloc[:max_rows] if len(df) > max_rows else df


def data_version(con) -> str:
    """Changes whenever the data changes; part of every cache key."""
    cur = con.cursor()
    try:
        return cur.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]
    finally:
        cur.close()


def all_query_names() -> list[str]:
    return sorted(str(p.relative_to(QUERIES_DIR).with_suffix("")) for p in QUERIES_DIR.rglob("*.sql"))
