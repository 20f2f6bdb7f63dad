"""Undo of a batch: rows it added are deleted, rows it updated get back their previous version.

A workbook's batch spans several tables. DuckDB refuses to delete parent rows in the transaction
that deleted their children (its foreign-key limitation, see demo_removal), so such a batch is
first checked as a whole, then undone table by table, children first, each in its own
transaction; it is marked undone with its last table. If the process dies in between, undoing the
batch again finishes the rest (a table already undone has nothing left of the batch)."""

from __future__ import annotations

import datetime as dt

from governance.access import Actor, allowed, require
from governance.importer import scoping
from governance.importer.demo_removal import _restore_demo
from governance.importer.problems import _refuse
from governance.importer.specs import CHILDREN, DEMO_REMOVAL
from governance.importer.writing import _PK, _columns, _in_transaction, update_sets
from governance.labels import TABLE_LABELS
from governance.schema import DATA_TABLES

WORKBOOK = "workbook"  # as governance.importer.workbook.WORKBOOK (that module imports the writer)


def _added(table: str, batch_id: int) -> str:
    keycols = ", ".join(_PK[table])
    return f"(SELECT {keycols} FROM {table} WHERE batch_id = {int(batch_id)} AND ({keycols}) NOT IN " \
           f"(SELECT ({keycols}) FROM undo_{table} WHERE undo_batch = {int(batch_id)}))"


def _check(cur, table: str, batch_id: int, own_children_go_too: bool) -> None:
    """Refuse when a later batch changed this batch's rows, or rows of other batches refer to rows
    it added (with `own_children_go_too`, the batch's own child rows are undone first)."""
    later = cur.execute(f"SELECT min(undo_batch) FROM undo_{table} WHERE batch_id = ? AND undo_batch > ?",
                        [batch_id, batch_id]).fetchall()[0][0]
    if later is not None:
        raise _refuse(f"第 {later} 批更新过第 {batch_id} 批导入的记录", f"先撤销第 {later} 批，再撤销第 {batch_id} 批")
    id_col = _PK[table][0]
    for child, col in CHILDREN.get(table, []):
        others = f" AND batch_id IS DISTINCT FROM {int(batch_id)}" if own_children_go_too else ""
        n = cur.execute(f"SELECT count(*) FROM {child} WHERE {col} IN (SELECT {id_col} FROM {_added(table, batch_id)})"
                        f"{others}").fetchall()[0][0]
        if n:
            raise _refuse(f"第 {batch_id} 批导入的{TABLE_LABELS[table]}仍被 {n:,} 行{TABLE_LABELS[child]}数据引用，不能撤销",
                          f"先撤销导入这些{TABLE_LABELS[child]}的批次")


def _undo_table(cur, table: str, batch_id: int) -> tuple[int, int]:
    """Delete the rows the batch added to `table`, restore the rows it updated: (deleted, restored)."""
    pk = _PK[table]
    keycols = ", ".join(pk)
    n_deleted = cur.execute(f"DELETE FROM {table} WHERE ({keycols}) IN {_added(table, batch_id)}").fetchall()[0][0]
    cols = [c for c in _columns(cur, table) if c not in pk]
    on = " AND ".join(f"t.{k} = u.{k}" for k in pk)
    sets = update_sets(cur, table, cols)
    n_restored = cur.execute(f"UPDATE {table} t SET {sets} FROM undo_{table} u "
                             f"WHERE u.undo_batch = {int(batch_id)} AND {on}").fetchall()[0][0]
    cur.execute(f"DELETE FROM undo_{table} WHERE undo_batch = ?", [batch_id])
    return n_deleted, n_restored


def _mark_undone(cur, batch_id: int) -> None:
    cur.execute("UPDATE import_batches SET undone_at = ? WHERE batch_id = ?",
                [dt.datetime.now().replace(microsecond=0), batch_id])


def undo(con, batch_id: int, *, actor: Actor) -> str:
    """Undo one batch: delete the rows it added, give the rows it changed their previous version.

    `actor` must be allowed to undo, and every community the batch wrote rows for must lie inside
    their scope (the removal of the demonstration data: only who may remove it); the undo is audited.
    """
    require(actor, "undo")

    def start(cur):
        rows = cur.execute("SELECT table_name, undone_at FROM import_batches WHERE batch_id = ?", [batch_id]).fetchall()
        if not rows:
            raise _refuse(f"没有第 {batch_id} 批导入记录")
        table, undone_at = rows[0]
        if undone_at is not None:
            raise _refuse(f"第 {batch_id} 批已于 {undone_at:%Y-%m-%d %H:%M} 撤销过")
        if table == DEMO_REMOVAL:
            decision = allowed(actor, "remove_demo")
            if not decision.ok:
                raise _refuse(f"第 {batch_id} 批是删除演示数据，不能撤销：{decision.reason}")
        elif not actor.scope.is_all:
            outside = scoping.batch_outside(cur, batch_id)
            if outside is None or outside:
                raise _refuse(f"第 {batch_id} 批含有您范围（{actor.scope.label()}）以外社区的数据，不能撤销",
                              "请联系管理员")
        cur.execute("INSERT INTO audit_log (happened_at, actor, action, target, detail) VALUES (?, ?, 'undo', ?, ?)",
                    [dt.datetime.now().replace(microsecond=0), actor.who, str(batch_id),
                     "整个工作簿" if table == WORKBOOK else TABLE_LABELS.get(table, table)])
        if table == DEMO_REMOVAL:
            return table, _restore_demo(cur, batch_id)
        if table == WORKBOOK:
            for t in reversed(DATA_TABLES):
                _check(cur, t, batch_id, own_children_go_too=True)
            return table, None
        _check(cur, table, batch_id, own_children_go_too=False)
        n_deleted, n_restored = _undo_table(cur, table, batch_id)
        _mark_undone(cur, batch_id)
        return table, f"已撤销第 {batch_id} 批（{TABLE_LABELS[table]}）：删除新增的 {n_deleted:,} 行，恢复被更新的 {n_restored:,} 行。"

    table, message = _in_transaction(con, start, scope=actor.scope)
    if table != WORKBOOK:
        return message
    deleted = restored = 0
    tables = list(reversed(DATA_TABLES))  # children first
    for i, t in enumerate(tables):
        def step(cur, t=t, last=i == len(tables) - 1):
            d, r = _undo_table(cur, t, batch_id)
            if last:
                _mark_undone(cur, batch_id)
            return d, r
        d, r = _in_transaction(con, step)
        deleted, restored = deleted + d, restored + r
    return f"已撤销第 {batch_id} 批（整个工作簿）：各表共删除新增的 {deleted:,} 行，恢复被更新的 {restored:,} 行。"
