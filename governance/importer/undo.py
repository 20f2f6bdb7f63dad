"""Undo of a batch: rows it added are deleted, rows it updated get back their previous version."""

from __future__ import annotations

import datetime as dt

from governance.access import Actor, allowed, require
from governance.importer import scoping
from governance.importer.problems import _refuse
from governance.importer.demo_removal import _restore_demo
from governance.importer.specs import CHILDREN, DEMO_REMOVAL
from governance.importer.writing import _PK, _columns, _in_transaction
from governance.labels import TABLE_LABELS




def undo(con, batch_id: int, *, actor: Actor) -> str:
    """Undo one batch: delete the rows it added, give the rows it changed their previous version.

    `actor` must be allowed to undo, and every community the batch wrote rows for must lie inside
    their scope (the removal of the demonstration data: only who may remove it); the undo is audited.
    """
    require(actor, "undo")

    def work(cur):
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
                    [dt.datetime.now().replace(microsecond=0), actor.who, str(batch_id), TABLE_LABELS.get(table, table)])
        if table == DEMO_REMOVAL:
            return _restore_demo(cur, batch_id)
        pk = _PK[table]
        keycols = ", ".join(pk)
        # a later batch that changed this batch's rows must be undone first
        later = cur.execute(f"SELECT min(undo_batch) FROM undo_{table} WHERE batch_id = ? AND undo_batch > ?",
                            [batch_id, batch_id]).fetchall()[0][0]
        if later is not None:
            raise _refuse(f"第 {later} 批更新过第 {batch_id} 批导入的记录", f"先撤销第 {later} 批，再撤销第 {batch_id} 批")
        added = f"(SELECT {keycols} FROM {table} WHERE batch_id = {int(batch_id)} AND ({keycols}) NOT IN " \
                f"(SELECT ({keycols}) FROM undo_{table} WHERE undo_batch = {int(batch_id)}))"
        id_col = pk[0]
        for child, col in CHILDREN.get(table, []):
            n = cur.execute(f"SELECT count(*) FROM {child} WHERE {col} IN (SELECT {id_col} FROM {added})").fetchall()[0][0]
            if n:
                raise _refuse(f"第 {batch_id} 批导入的{TABLE_LABELS[table]}仍被 {n:,} 行{TABLE_LABELS[child]}数据引用，不能撤销",
                              f"先撤销导入这些{TABLE_LABELS[child]}的批次")
        n_deleted = cur.execute(f"DELETE FROM {table} WHERE ({keycols}) IN {added}").fetchall()[0][0]
        cols = [c for c in _columns(cur, table) if c not in pk]
        on = " AND ".join(f"t.{k} = u.{k}" for k in pk)
        sets = ", ".join(f"{c} = u.{c}" for c in cols)
        n_restored = cur.execute(f"UPDATE {table} t SET {sets} FROM undo_{table} u "
                                 f"WHERE u.undo_batch = {int(batch_id)} AND {on}").fetchall()[0][0]
        cur.execute(f"DELETE FROM undo_{table} WHERE undo_batch = ?", [batch_id])
        cur.execute("UPDATE import_batches SET undone_at = ? WHERE batch_id = ?",
                    [dt.datetime.now().replace(microsecond=0), batch_id])
        return f"已撤销第 {batch_id} 批（{TABLE_LABELS[table]}）：删除新增的 {n_deleted:,} 行，恢复被更新的 {n_restored:,} 行。"

    return _in_transaction(con, work, scope=actor.scope)
