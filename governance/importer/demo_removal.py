"""Removing the demonstration data (simulated or published rows) as one batch that can be undone."""

from __future__ import annotations

import datetime as dt

from governance.access import Actor, require
from governance.importer.problems import _refuse
from governance.importer.specs import CHILDREN, DEMO_REMOVAL
from governance.importer.writing import _PK, _columns, _in_transaction, _next_batch_id
from governance.labels import TABLE_LABELS
from governance.schema import DATA_TABLES


def demo_row_count(con) -> int:
    cur = con.cursor()
    try:
        return sum(cur.execute(f"SELECT count(*) FROM {t} WHERE source IN ('simulated', 'published')").fetchall()[0][0]
                   for t in DATA_TABLES)
    finally:
        cur.close()


def remove_demo_data(con, *, actor: Actor) -> str:
    """Delete every simulated or published row, as one batch that can be undone.

    DuckDB refuses to delete parent rows in the transaction that deleted their children
    (its foreign-key limitation), so each table is one transaction, children first, every
    step saving its rows in undo_<table> under the batch first recorded. If the process dies
    between steps, the batch holds exactly what was removed so far: undoing it restores that,
    running the removal again finishes the rest.
    """
    require(actor, "remove_demo")
    who = actor.who
    demo = "source IN ('simulated', 'published')"

    def start(cur):
        for parent, children in CHILDREN.items():
            pid = _PK[parent][0]
            for child, col in children:
                n = cur.execute(f"SELECT count(*) FROM {child} WHERE NOT ({demo}) AND {col} IN "
                                f"(SELECT {pid} FROM {parent} WHERE {demo})").fetchall()[0][0]
                if n:
                    raise _refuse(f"有 {n:,} 行导入的{TABLE_LABELS[child]}数据属于演示数据中的{TABLE_LABELS[parent]}，"
                                  "只删除演示数据会使它们失去归属", "先撤销这些导入批次，再删除演示数据")
        total = sum(cur.execute(f"SELECT count(*) FROM {t} WHERE {demo}").fetchall()[0][0] for t in DATA_TABLES)
        if not total:
            raise _refuse("数据库中没有演示数据")
        batch = _next_batch_id(cur)
        cur.execute("INSERT INTO import_batches VALUES (?, ?, ?, '', 0, 0, ?, ?, NULL)",
                    [batch, DEMO_REMOVAL, f"删除演示数据 {total:,} 行", dt.datetime.now().replace(microsecond=0), who])
        cur.execute("INSERT INTO audit_log (happened_at, actor, action, target, detail) VALUES (?, ?, 'remove_demo', ?, ?)",
                    [dt.datetime.now().replace(microsecond=0), who, str(batch), f"删除演示数据 {total:,} 行"])
        return batch, total

    batch, total = _in_transaction(con, start)
    for t in reversed(DATA_TABLES):  # children first
        def step(cur, t=t):
            cur.execute(f"INSERT INTO undo_{t} SELECT {batch}, * FROM {t} WHERE {demo}")
            cur.execute(f"DELETE FROM {t} WHERE {demo}")
        _in_transaction(con, step)
    return f"已删除演示数据 {total:,} 行（第 {batch} 批；如需恢复，可在导入记录中撤销这一批）。"


def _restore_demo(cur, batch_id: int) -> str:
    total = 0
    try:
        for t in DATA_TABLES:  # parents first
            cols = ", ".join(_columns(cur, t))
            total += cur.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM undo_{t} WHERE undo_batch = ?",
                                 [batch_id]).fetchall()[0][0]
            cur.execute(f"DELETE FROM undo_{t} WHERE undo_batch = ?", [batch_id])
    except Exception as exc:  # duckdb.ConstraintException: own data now uses the same names or ids
        if "constraint" not in str(exc).lower():
            raise
        raise _refuse("无法恢复演示数据：之后导入的数据与演示数据的名称或编号重复",
                      "先撤销之后的导入批次，再恢复演示数据") from None
    cur.execute("UPDATE import_batches SET undone_at = ? WHERE batch_id = ?",
                [dt.datetime.now().replace(microsecond=0), batch_id])
    return f"已撤销第 {batch_id} 批：恢复演示数据 {total:,} 行。"
