"""The write: files (or a workbook's sheets) checked and written chunk by chunk as one batch in one
transaction (rows added, rows updated saved in undo_<table> first), lineage recorded in
import_batches, rollups rebuilt inside it; or nothing at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from governance import db
from governance.access import Actor, Scope, require, set_scope
from governance.importer import scoping
from governance.importer.problems import BatchResult, ImportRefused, Problem, Report
from governance.importer.reading import _Ragged, read_chunks
from governance.importer.specs import CHILDREN, MAX_FILE_BYTES, SPECS, Spec, header_map
from governance.importer.validation import (
    _applied_batch_with_hash, _same_file_problem, _sha256, check_chunk, finish, plan_columns,
)
from governance.importer.values import _Collector
from governance import rollups
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


def _key_cols(con, table: str) -> set[str]:
    """Columns of `table`'s primary key and unique constraints. An UPDATE must not SET them: DuckDB
    turns an update of an indexed column into a delete and insert, which a row with children
    (a community with compounds) fails with a foreign-key error. A row matched for update has the
    same natural key anyway, so leaving them out changes nothing. For a table other rows refer to
    (CHILDREN), its own foreign-key columns are indexed too and are left out as well: there they
    are part of the natural key or follow from it (a building's community is its compound's).
    Rows without children (tickets) may still move to another community."""
    kinds = "'PRIMARY KEY', 'UNIQUE'" + (", 'FOREIGN KEY'" if table in CHILDREN else "")
    rows = con.execute("SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = ? "
                       f"AND constraint_type IN ({kinds})", [table]).fetchall()
    return {c for (cols,) in rows for c in cols}


def update_sets(con, table: str, columns) -> str:
    """The SET list of an update of `table` from `u`: its own non-key columns only (see _key_cols)."""
    keys = _key_cols(con, table)
    return ", ".join(f"{c} = u.{c}" for c in columns if c not in keys)


def _next_batch_id(con) -> int:
    return con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM import_batches").fetchall()[0][0]


@dataclass
class Source:
    """One table's rows to import: a file, or one sheet of a workbook."""
    table: str
    data: bytes | Path  # a Path: a large CSV is read from the file in chunks (the command line)
    file_name: str
    sheet: str | None = None
    mapping: dict[str, str] | None = None  # {field: the file's header}, see validation.plan_columns
    sha256: str = ""  # of the data, once computed


PREVIEW_ROWS = 20  # parsed rows a report keeps for the page's preview (the rest are written, not kept)


def import_file(con, table: str, data: bytes | Path, file_name: str, sheet: str | None = None, update: bool = False,
                max_bytes: int = MAX_FILE_BYTES, mapping: dict[str, str] | None = None,
                dry_run: bool = False, *, actor: Actor) -> tuple[Report, BatchResult | None]:
    """Check and, when there is no problem, write the file as one batch in one transaction, as
    `actor` (see import_sources). Returns the report and the batch (None when anything was wrong:
    then nothing was written)."""
    reports, result = import_sources(con, [Source(table, data, file_name, sheet, mapping)], update=update,
                                     max_bytes=max_bytes, dry_run=dry_run, actor=actor)
    return reports[0], result


def import_sources(con, sources: list[Source], update: bool = False,
                   max_bytes: int = MAX_FILE_BYTES, dry_run: bool = False, batch_table: str | None = None,
                   batch_file: str | None = None, batch_sha: str | None = None,
                   *, actor: Actor) -> tuple[list[Report], BatchResult | None]:
    """The one write path of the importer: every source (in the order given: parents first) is
    checked and written chunk by chunk inside ONE transaction, as ONE batch; if any source has any
    problem (or `dry_run`), the transaction is rolled back and nothing at all is stored.

    Checking inside the transaction means each chunk sees the rows the earlier ones wrote (a
    workbook's compounds find its communities) and exactly the rows the write builds on. Rows of a
    source with problems are still written, in the transaction that will be rolled back, so that
    later sources are checked against them and every problem of the workbook is reported at once.
    A CSV found ragged while streaming is imported again from the start, read whole.

    Every import (a file, a workbook, the page and the command line) comes through here, as `actor`:
    they must be allowed to import; names are looked up, and every row must lie, inside their scope
    (else it is a problem naming row, column and scope); the batch records them (audit_log too).
    Raises AccessError when the actor may not import at all.
    """
    require(actor, "import")
    try:
        return _import_sources(con, sources, update, actor, max_bytes, dry_run, batch_table, batch_file, batch_sha, True)
    except _Ragged:
        return _import_sources(con, sources, update, actor, max_bytes, dry_run, batch_table, batch_file, batch_sha, False)


def _import_sources(con, sources, update, actor, max_bytes, dry_run, batch_table, batch_file, batch_sha, stream):
    cur = con.cursor()
    try:
        set_scope(cur, actor.scope)   # lookups through selected_communities see the actor's scope only
        cur.execute("BEGIN")
        try:
            batch = _next_batch_id(cur)
            sha = batch_sha or (_sha256(sources[0].data) if len(sources) == 1 else "")
            if len(sources) == 1:
                sources[0].sha256 = sha
            same = _applied_batch_with_hash(cur, sha) if sha else None
            reports = []
            for i, src in enumerate(sources):
                keep_writing = i < len(sources) - 1
                reports.append(_import_source(cur, src, batch, update, max_bytes, keep_writing, stream, actor.scope))
            if same:
                reports[0].problems.insert(0, _same_file_problem(same))
                reports[0].problem_count += 1
            if dry_run or any(not r.ok for r in reports):
                cur.execute("ROLLBACK")
                return reports, None
            added = sum(r.n_new for r in reports)
            updated = sum(r.n_update for r in reports)
            table = batch_table or sources[0].table
            what = "、".join(SPECS[s_.table].label for s_ in sources) + f"：{batch_file or sources[0].file_name}"
            _record_batch(cur, batch, table, batch_file or sources[0].file_name, sha, added, updated, actor.who, what)
            tickets = [r for r in reports if r.table == "tickets"]
            # only tickets added (none updated) to rollups that were current: those are brought up to
            # date for the new tickets alone (rollups.add_tickets), else rebuilt whole
            append_only = bool(tickets) and not any(r.n_update for r in tickets) and rollups.current(cur)
            bump_data_version(cur)
            _release_memory()  # the chunks' frames are gone: give their pages back before the rebuild
            if append_only:
                rollups.add_tickets(cur, batch)
            else:
                refresh_rollups(cur, transaction=False, tickets_changed=bool(tickets))
            cur.execute("COMMIT")
            return reports, BatchResult(batch, table, added, updated)
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.close()


def _release_memory() -> None:
    """Collect and return freed heap to the system (glibc's malloc_trim), so that the peak of a large
    import is its largest step, not the sum of what the steps left in the allocator."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _import_source(cur, src: Source, batch: int, update: bool, max_bytes: int, keep_writing: bool,
                   stream: bool, scope: Scope) -> Report:
    """Check one source chunk by chunk and write its rows without problems (all of them, when it
    has none; after its first problem only if `keep_writing`, i.e. later sources build on it)."""
    spec = SPECS[src.table]
    report = Report(src.table, src.file_name, src.sha256 or _sha256(src.data))
    try:
        chunks = read_chunks(src.data, src.file_name, spec, src.sheet, max_bytes, header_map(spec, src.mapping),
                             stream=stream)
    except ImportRefused as exc:
        report.problems, report.problem_count = exc.problems, len(exc.problems)
        return _tag(report, src)
    out = _Collector(np.zeros(0, dtype="int64"))
    for p in chunks.problems:
        out.file(p)
    plan = plan_columns(spec, chunks.names, chunks.header_row, src.mapping, out, report.warnings)
    seen = f"_seen_{spec.table}"  # keys of earlier chunks (duplicates within the file)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {seen} (k VARCHAR, excel_row BIGINT)")
    n = n_update = 0
    try:
        for i, (frame, rows) in enumerate(chunks.chunks):
            out.start(rows)
            df = check_chunk(cur, spec, frame, rows, plan, out, update, first=i == 0, batch=batch, seen=seen,
                             scope=scope)
            if report.rows is None:
                report.rows = df.head(PREVIEW_ROWS).copy()
            n += len(df)
            n_update += int(df["_update"].sum())
            if plan.complete and (out.count == 0 or keep_writing):
                _write_rows(cur, spec, df[~out.bad], batch)
            del df, frame
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {seen}")
    if n == 0:
        out.file(Problem(None, "", "", "文件只有表头，没有数据行", "表头下每行一条记录"))
    finish(report, out)
    report.n_update, report.n_new = n_update, n - n_update
    return _tag(report, src)


def _tag(report: Report, src: Source) -> Report:
    """A workbook's problems name their sheet."""
    if src.sheet is not None:
        for p in report.problems:
            p.sheet = src.sheet
        report.sheet = src.sheet
    return report


def _write_rows(con, spec: Spec, rows: pd.DataFrame, batch: int) -> tuple[int, int]:
    """Write checked rows as part of `batch`: new rows get ids, updated rows' previous versions go to
    undo_<table> first. Returns (added, updated). The caller owns the transaction."""
    table = spec.table
    if not len(rows):
        return 0, 0
    frame = _write_frame(spec, rows)
    frame["source"] = "import"
    frame["batch_id"] = batch
    upd = rows["_update"].to_numpy(dtype=bool)
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
        # frames are read by replacement scan (their variable names), not con.register: see
        # validation._lookup for why, inside the import's one long transaction
        _upd = changed  # noqa: F841
        on = " AND ".join(f"t.{k} = u.{k}" for k in pk)
        con.execute(f"INSERT INTO undo_{table} SELECT {batch}, t.* FROM {table} t "
                    f"WHERE EXISTS (SELECT 1 FROM _upd u WHERE {on})")
        sets = update_sets(con, table, changed.columns)
        con.execute(f"UPDATE {table} t SET {sets} FROM _upd u WHERE {on}")
    if len(new):
        _new = new  # noqa: F841
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _new")
    return len(new), int(upd.sum())


def _write(con, report: Report, who: str) -> BatchResult:
    """Write a report checked whole by `validate` as one batch (the caller owns the transaction and
    has checked who may write it)."""
    spec = SPECS[report.table]
    batch = _next_batch_id(con)
    added, updated = _write_rows(con, spec, report.rows, batch)
    _record_batch(con, batch, spec.table, report.file_name, report.sha256, added, updated, who,
                  f"{spec.label}：{report.file_name}")
    bump_data_version(con)
    refresh_rollups(con, transaction=False, tickets_changed=spec.table == "tickets")
    return BatchResult(batch, spec.table, added, updated)


def _record_batch(con, batch: int, table: str, file_name: str, sha: str, added: int, updated: int, who: str,
                  what: str) -> None:
    """The batch's lineage row, the communities it wrote rows for (whether it lies inside a scope),
    and who did it (audit_log)."""
    now = dt.datetime.now().replace(microsecond=0)
    con.execute("INSERT INTO import_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [batch, table, file_name, sha, added, updated, now, who])
    scoping.record_batch_communities(con, batch)
    con.execute("INSERT INTO audit_log (happened_at, actor, action, target, detail) VALUES (?, ?, 'import', ?, ?)",
                [now, who, str(batch), f"{what}，新增 {added:,} 行，更新 {updated:,} 行"])


def _in_transaction(con, work, scope: Scope | None = None):
    """work(cursor) in one transaction that also marks the data changed and rebuilds the rollups."""
    with db.transaction(con, scope) as cur:
        result = work(cur)
        bump_data_version(cur)
        refresh_rollups(cur, transaction=False)
        return result

