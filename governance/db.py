"""Database location, opening, and the query runner for the SQL files in `queries/`.

Queries are files named by what they return (`queries/<area>/<result>.sql`); values are
always bound as `$name` parameters. Each call runs on its own cursor, because one DuckDB
connection refuses concurrent calls from several Streamlit sessions.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from governance.access import Scope, set_scope
from governance.schema import SCHEMA_VERSION, create_schema, ensure_default_settings, is_complete

ROOT = Path(__file__).resolve().parent.parent
QUERIES_DIR = ROOT / "queries"
DEFAULT_DB = ROOT / "data" / "governance.duckdb"

# Hard cap on rows a query hands back to a page for a list the user sees.
MAX_ROWS = 5000
# Cap for per-community (or per-month, per-compound) aggregates that a page sums into totals or
# ranks: these must be complete at province scale (5,000 communities × months), never cut at MAX_ROWS.
SUM_ROWS = 1_000_000
# Hard cap on the time one query may run (seconds); $GOVERNANCE_QUERY_TIMEOUT overrides it.
QUERY_TIMEOUT = 30.0

# DuckDB's memory for one process (its buffers: hash tables, sorts, windows); beyond it DuckDB
# spills to a temporary folder beside the database file. Its default is 80 % of the machine, which
# let a rollup rebuild after a province-scale import take 2.4 GB inside the dashboard process; with
# 512 MB the province's queries run within noise of before and the rebuild of 10 million tickets'
# rollups takes 13 s instead of 8. $GOVERNANCE_DUCKDB_MEMORY overrides (e.g. 2GB on a larger server).
DUCKDB_MEMORY = "512MB"
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class DatabaseError(Exception):
    """A database that cannot be used; the message is in Chinese, for the user."""


class QueryTimeout(DatabaseError):
    """A query ran longer than the time limit and was interrupted."""


class DataChanged(Exception):
    """The data changed (an import committed) since the version a page run started with."""


def query_timeout() -> float:
    try:
        return float(os.environ.get("GOVERNANCE_QUERY_TIMEOUT") or QUERY_TIMEOUT)
    except ValueError:
        return QUERY_TIMEOUT


def duckdb_memory() -> str:
    value = os.environ.get("GOVERNANCE_DUCKDB_MEMORY") or DUCKDB_MEMORY
    return value.strip() if _MEMORY.match(value) else DUCKDB_MEMORY


def db_path() -> Path:
    """The configured database: $GOVERNANCE_DB, else data/governance.duckdb."""
    return Path(os.environ.get("GOVERNANCE_DB") or DEFAULT_DB)


def is_default_path(path: Path) -> bool:
    return Path(path).resolve() == DEFAULT_DB.resolve()


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a database and check its schema version; create the schema on a new file. Opened for
    writing, a database gets the documented default settings for any key it has no value of."""
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
        con.execute(f"SET memory_limit = '{duckdb_memory()}'")  # checked against _MEMORY: digits and a unit
        _check_complete(con, path)
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
        if read_only and not is_complete(con):
            raise DatabaseError(f"数据库文件 {path} 由较早版本的程序写出，缺少权限范围等结构；请先用本程序以可写方式打开一次"
                                "（例如运行 python -m governance users list --db 路径），未做任何修改。")
        if not read_only:
            from governance.rollups import ensure_fresh

            if not is_complete(con):
                create_schema(con)  # idempotent: adds any table or macro of this version that is missing
            ensure_default_settings(con)  # the documented defaults for any setting the file has none of
            ensure_fresh(con)  # rollups missing or older than the data (e.g. written by an older program)
    except DatabaseError:
        con.close()
        raise
    except duckdb.Error as exc:  # a damaged file can open and fail on its first read
        con.close()
        raise DatabaseError(f"无法读取数据库文件 {path}：它已损坏或不完整（{str(exc)[:120]}），未做任何修改。") from exc
    return con


def _check_complete(con, path: Path) -> None:
    """A truncated file opens and even accepts writes; its size gives it away before anything is read."""
    if not path.exists() or Path(f"{path}.wal").exists():  # blocks still in the WAL are not in the file yet
        return
    _, _, block_size, total_blocks, used_blocks, free_blocks, *_ = con.execute("PRAGMA database_size").fetchone()
    # blocks in use must be in the file; free ones at its end are cut off when DuckDB checkpoints
    # (e.g. after an undo deleted rows), so the total count overstates the size of a sound file
    need = block_size * (total_blocks - free_blocks)
    if path.stat().st_size < need:
        raise DatabaseError(f"数据库文件 {path} 不完整（只有 {path.stat().st_size:,} 字节，应至少为 "
                            f"{need:,} 字节），可能在复制或保存时被截断；未做任何修改。"
                            "请从备份恢复该文件。")


def _is_damage(exc: duckdb.Error) -> bool:
    """A read failed because the file is damaged (not because a query is wrong)."""
    return isinstance(exc, (duckdb.IOException, duckdb.InternalException)) or "corrupt" in str(exc).lower()


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


def run_query(con, name: str, params: dict | None = None, max_rows: int = MAX_ROWS,
              version: str | None = None, timeout: float | None = None, *, scope: Scope) -> pd.DataFrame:
    """Run queries/<name>.sql on its own cursor with the parameters it names, inside `scope`.

    `scope` is whose data this is (governance/access.py): it is set on the cursor, and the schema's
    `selected_communities(...)` keeps only communities inside it; there is no default.

    Parameters the query does not use are ignored (DuckDB refuses extra ones); a missing one
    is an error. At most `max_rows` rows come back; `df.attrs['capped']` says if more existed.
    A query that names `$max_rows` gets it bound here (e.g. `LIMIT $max_rows + 1`, so it does the
    work for the rows returned only and the cap is still seen).
    With `version`, the query runs in one read transaction that first checks the data version,
    so its result belongs to exactly that version (DataChanged otherwise). A query running
    longer than `timeout` seconds is interrupted (QueryTimeout).
    """
    sql = load_sql(name)
    wanted = sql_params(sql)
    params = {**(params or {}), "max_rows": max_rows} if "max_rows" in wanted else (params or {})
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"query {name} needs parameters {sorted(missing)}")
    bound = {k: params[k] for k in wanted}
    limit = query_timeout() if timeout is None else timeout
    cur = con.cursor()
    timer = threading.Timer(limit, cur.interrupt)
    try:
        set_scope(cur, scope)
        if version is not None:
            cur.execute("BEGIN TRANSACTION")
            found = cur.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]
            if found != version:
                raise DataChanged(found)
        timer.start()
        try:
            rel = cur.execute(sql, bound)
            rows = rel.fetchmany(max_rows + 1)
            cols = [d[0] for d in rel.description]
        finally:
            timer.cancel()
    except duckdb.InterruptException as exc:
        raise QueryTimeout(f"查询“{name}”运行超过 {limit:g} 秒，已中止。请缩小筛选范围（例如选择一个街道或缩短期间）后重试。") from exc
    except duckdb.Error as exc:
        if _is_damage(exc):
            raise DatabaseError(f"读取数据库时出错：数据库文件可能已损坏或不完整（{str(exc)[:120]}）。"
                                "请从备份恢复该文件，或重新生成演示数据库；看板没有修改该文件。") from exc
        raise
    finally:
        cur.close()  # also ends the read transaction
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


@contextlib.contextmanager
def transaction(con, scope: Scope | None = None):
    """A cursor in one transaction: committed when the block ends, rolled back (and re-raised) when
    it raises; with `scope`, the cursor reads communities inside it (governance/access.py)."""
    cur = con.cursor()
    try:
        if scope is not None:
            set_scope(cur, scope)
        cur.execute("BEGIN")
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.close()
