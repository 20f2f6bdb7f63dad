"""The write: a checked file becomes one batch in one transaction (rows added, rows updated saved
in undo_<table> first), lineage recorded in import_batches, rollups rebuilt inside it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from governance.access import Actor, Scope, require, set_scope
from governance.importer import scoping
from governance.importer.problems import BatchResult, Report
from governance.importer.specs import MAX_FILE_BYTES, SPECS, Spec
from governance.importer.validation import validate
from governance.rollups import refresh_rollups
from governance.schema import bump_data_version


# Columns written per table (besides lineage): the schema's columns the spec fills.
_WRITE_COLS = {
    "communities": ["province", "city", "district", "street", "community", "type", "households", "residents", "area_km2"],
    "compounds": ["community_id", "compound", "households"],
    "buildings": ["compound_id", "community_id", "building", "households"],
    "branches": ["community_id", "compound_id", "branch", "members", "has_committee", "established_on", "dissolved_on"],
    "building_groups": ["community_id", "building_id", "leader", "established_on", "dissolved_on"],
    "household_leads": ["community_id", "building_id", "household", "established_on", "dissolved_on"],
    "social_orgs": ["community_id", "org", "type", "party_led", "founded_on", "dissolved_on"],
    "org_monthly": ["org_id", "month", "member_units", "volunteers", "service_hours"],
    "tickets": ["ticket_id", "community_id", "compound_id", "building_id", "category_l1", "category_l2",
                "category_l3", "channel", "received_at", "due_at", "closed_at", "status", "contacted", "solved",
                "satisfaction"],
    "practices": ["community_id", "practice", "started_on", "related_category", "description"],
}
_PK = {"communities": ["community_id"], "compounds": ["compound_id"], "buildings": ["building_id"],
       "branches": ["branch_id"], "building_groups": ["group_id"], "household_leads": ["lead_id"],
       "social_orgs": ["org_id"], "org_monthly": ["org_id", "month"], "tickets": ["ticket_id"],
       "practices": ["practice_id"]}


def _write_frame(spec: Spec, rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({c: rows[c] for c in _WRITE_COLS[spec.table]})
    out["source_note"] = rows["source"] if spec.table == "practices" else pd.Series(None, index=rows.index, dtype=object)
    return out


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table]).fetchall()]


def _next_batch_id(con) -> int:
    return con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM import_batches").fetchall()[0][0]


def import_file(con, table: str, data: bytes, file_name: str, sheet: str | None = None, update: bool = False,
                max_bytes: int = MAX_FILE_BYTES, *, actor: Actor) -> tuple[Report, BatchResult | None]:
    """Validate and, when there is no problem, write the file as one batch in one transaction.

    `actor` is who is importing: they must be allowed to import, every row must lie inside their
    scope, and the batch records them. Validation runs inside the transaction, so it sees exactly
    the rows the write builds on. Returns the report and the batch (None when anything was wrong:
    then nothing was written). Raises AccessError when the actor may not import at all.
    """
    require(actor, "import")
    cur = con.cursor()
    try:
        cur.execute("BEGIN")
        try:
            report = validate(cur, table, data, file_name, sheet, update, max_bytes, scope=actor.scope)
            if not report.ok:
                cur.execute("ROLLBACK")
                return report, None
            result = _write(cur, report, actor.who)
            cur.execute("COMMIT")
            return report, result
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.close()


def _write(con, report: Report, who: str | None) -> BatchResult:
    spec = SPECS[report.table]
    table = spec.table
    batch = _next_batch_id(con)
    rows = report.rows
    frame = _write_frame(spec, rows)
    frame["source"] = "import"
    frame["batch_id"] = batch
    upd = rows["_update"].to_numpy()
    new = frame[~upd].copy()
    if spec.id_col:
        start = con.execute(
            f"SELECT greatest((SELECT coalesce(max({spec.id_col}), 0) FROM {table}), "
            f"(SELECT coalesce(max({spec.id_col}), 0) FROM undo_{table})) + 1").fetchall()[0][0]
        new.insert(0, spec.id_col, np.arange(start, start + len(new), dtype="int64"))
    if upd.any():
        changed = frame[upd].copy()
        pk = _PK[table]
        if spec.id_col:
            changed.insert(0, spec.id_col, rows.loc[upd, "_existing"].astype("int64").to_numpy())
        con.register("_upd", changed)
        try:
            on = " AND ".join(f"t.{k} = u.{k}" for k in pk)
            con.execute(f"INSERT INTO undo_{table} SELECT {batch}, t.* FROM {table} t "
                        f"WHERE EXISTS (SELECT 1 FROM _upd u WHERE {on})")
            sets = ", ".join(f"{c} = u.{c}" for c in changed.columns if c not in pk)
            con.execute(f"UPDATE {table} t SET {sets} FROM _upd u WHERE {on}")
        finally:
            con.unregister("_upd")
    if len(new):
        con.register("_new", new)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _new")
        finally:
            con.unregister("_new")
    con.execute("INSERT INTO import_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [batch, table, report.file_name, report.sha256, len(new), int(upd.sum()),
                 dt.datetime.now().replace(microsecond=0), who])
    if table == "communities":
        touched = list(new[spec.id_col]) + list(changed[spec.id_col]) if upd.any() else list(new[spec.id_col])
    elif table == "org_monthly":
        touched = [r[0] for r in con.execute(
            f"SELECT DISTINCT community_id FROM social_orgs WHERE org_id IN (SELECT org_id FROM {table} "
            f"WHERE batch_id = {int(batch)})").fetchall()]
    else:
        touched = rows["community_id"].dropna().astype("int64").unique()
    scoping.record_batch_communities(con, batch, touched)
    con.execute("INSERT INTO audit_log (happened_at, actor, action, target, detail) VALUES (?, ?, 'import', ?, ?)",
                [dt.datetime.now().replace(microsecond=0), who or "", str(batch),
                 f"{spec.label}：{report.file_name}，新增 {len(new):,} 行，更新 {int(upd.sum()):,} 行"])
    bump_data_version(con)
    refresh_rollups(con, transaction=False, tickets_changed=table == "tickets")
    return BatchResult(batch, table, len(new), int(upd.sum()))


def _in_transaction(con, work, scope: Scope | None = None):
    cur = con.cursor()
    try:
        if scope is not None:
            set_scope(cur, scope)
        cur.execute("BEGIN")
        try:
            result = work(cur)
            bump_data_version(cur)
            refresh_rollups(cur, transaction=False)
            cur.execute("COMMIT")
            return result
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.close()

