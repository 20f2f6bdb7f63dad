"""Every problem of a file in one pass: columns, values, rules across columns, names resolved to
ids within the street, duplicates within the file and against stored rows. Nothing is written."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from governance.access import Scope, set_scope
from governance.importer import scoping
from governance.importer.problems import ImportRefused, Problem, Report
from governance.importer.reading import read_raw
from governance.importer.specs import MAX_FILE_BYTES, SPECS, Spec, _norm_header, field_labels, header_map
from governance.importer.values import _Collector, _cell_text, _parse_column, category_parts
from governance.labels import TABLE_LABELS


def _sha256(data) -> str:
    """Of the bytes, or of a file given as a Path (read in blocks)."""
    from governance.importer.reading import _blocks

    h = hashlib.sha256()
    for block in _blocks(data):
        h.update(block)
    return h.hexdigest()


def _lookup(con, frame: pd.DataFrame, sql: str) -> pd.Series:
    """Run `sql` joining the frame as `_imp` (columns _i plus names); returns v by _i.

    The frame is read by DuckDB's replacement scan (the local variable named in the SQL), not
    con.register: inside the import's long transaction every registered view, even unregistered,
    is kept with its converted data until the transaction ends (hundreds of MB for a million rows)."""
    _imp = frame  # noqa: F841 (read by name from the SQL)
    res = con.execute(sql).df()
    return pd.Series(res["v"].to_numpy(), index=res["_i"].to_numpy()) if len(res) else pd.Series(dtype=object)


def _applied_batch_with_hash(con, sha: str):
    rows = con.execute(
        "SELECT batch_id, table_name, file_name, imported_at FROM import_batches "
        "WHERE sha256 = ? AND undone_at IS NULL ORDER BY batch_id LIMIT 1", [sha]).fetchall()
    return rows[0] if rows else None


def _same_file_problem(row) -> Problem:
    bid, table, fname, at = row
    return Problem(None, "", fname, f"同一文件已于 {at:%Y-%m-%d %H:%M} 导入（第 {bid} 批，{TABLE_LABELS.get(table, table)}，"
                   f"文件 {fname}），为避免重复，本次未导入", "如需重新导入，先在导入记录中撤销第 %d 批" % bid)


@dataclass
class ColumnPlan:
    """Which file column (by position) gives each field, and the header shown in problems."""
    use: dict[str, int] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    stars: bool = False  # the satisfaction column holds 1-5 stars
    complete: bool = True  # every required field has a column (else no row can be written)

    def col_label(self, spec: Spec, name: str) -> str:
        return self.shown.get(name, spec.col(name).label)


def plan_columns(spec: Spec, names: list[str], header_row: int, mapping: dict[str, str] | None,
                 out: _Collector, warnings: list[str]) -> ColumnPlan:
    """Map the header texts to fields (a mapping first); report extras, repeats, missing ones."""
    plan = ColumnPlan()
    allowed = field_labels(spec.table)
    for fld, header in (mapping or {}).items():
        if fld not in allowed:
            out.file(Problem(header_row, header, header, f"列对应中的字段“{fld}”不是“{spec.label}”表的字段",
                             "可用字段：" + "、".join(allowed)))
        elif _norm_header(header) not in {_norm_header(n) for n in names}:
            out.file(Problem(header_row, header, header, f"列对应指定的列“{header}”不在文件中",
                             "文件表头中已有的列名"))
    known = header_map(spec, {f: h for f, h in (mapping or {}).items() if f in allowed})
    for pos, h in enumerate(names):
        name = known.get(_norm_header(h))
        if name is None:
            if h:
                warnings.append(f"列“{h}”不是“{spec.label}”表的列，已忽略")
            continue
        if name == "satisfaction_stars":
            name, plan.stars = "satisfaction", True
        if name in plan.use:
            out.file(Problem(header_row, h, h, f"列“{h}”与“{plan.shown[name]}”是同一列，重复出现", "每列只出现一次"))
            continue
        plan.use[name], plan.shown[name] = pos, h
    if "category" in plan.use:
        for lv in ("category_l1", "category_l2", "category_l3"):
            if lv in plan.use:
                out.file(Problem(header_row, plan.shown[lv], plan.shown[lv],
                                 f"已用“{plan.shown['category']}”一列给出分类路径，又有“{plan.shown[lv]}”一列",
                                 "分类路径一列，或一、二、三级分类各一列，二选一"))
    given = set(plan.use) | ({"category_l1"} if "category" in plan.use else set())
    for c in spec.cols:
        if c.required and c.name not in given:
            plan.complete = False
            out.file(Problem(header_row, c.label, "", "缺少必填列", f"表头中有“{c.label}”（或 {c.name}）一列"))
    return plan


def _empty_column(c, n: int) -> pd.Series:
    return pd.Series([None] * n, dtype={"int": "Int64", "float": "Float64", "bool": "boolean"}.get(
        c.kind, "datetime64[us]" if c.kind in ("date", "month", "datetime") else object))


def check_chunk(con, spec: Spec, frame: pd.DataFrame, excel_rows: np.ndarray, plan: ColumnPlan, out: _Collector,
                update: bool, first: bool = True, batch: int | None = None, seen: str | None = None,
                *, scope: Scope) -> pd.DataFrame:
    """Parse and check rows (raw cells by position) against the stored rows; problems go to `out`
    (whose chunk is these rows). With `batch`, rows this batch already wrote (earlier chunks) are
    not "stored rows"; with `seen`, the temp table of keys of earlier chunks, a repeat of one of
    them is a duplicate within the file. `scope` is the importing user's (also set on `con`): names
    outside it are not found, and rows outside it are problems. Returns the parsed rows (canonical
    columns, ids)."""
    table = spec.table
    use, shown = plan.use, plan.shown
    n = len(frame)
    raw_cols: dict[str, pd.Series] = {k: frame.iloc[:, pos].reset_index(drop=True) for k, pos in use.items()}
    if "category" in raw_cols:
        l1, l2, l3, too_deep = category_parts(raw_cols.pop("category"))
        out.add(too_deep, shown["category"], frame.iloc[:, use["category"]].reset_index(drop=True),
                "分类路径超过三级", "如 物业管理/设施维修/下水道堵塞（最多三级）")
        for name, part in (("category_l1", l1), ("category_l2", l2), ("category_l3", l3)):
            shown.setdefault(name, shown["category"])
            raw_cols[name] = part
    df = pd.DataFrame(index=range(n))
    for c in spec.cols:
        if c.name in raw_cols:
            df[c.name] = _parse_column(c, raw_cols[c.name], out, shown[c.name], stars=plan.stars and c.name == "satisfaction")
        else:
            df[c.name] = _empty_column(c, n)
    df["_i"] = np.arange(n)
    df["_excel_row"] = excel_rows
    col_label = lambda name: plan.col_label(spec, name)  # noqa: E731
    raw_of = lambda name: raw_cols[name] if name in raw_cols else pd.Series([None] * n)  # noqa: E731

    # a row left as the template's example
    if first and n and all(c.name in use for c in spec.cols if c.example is not None):
        row0 = [_cell_text(frame.iat[0, use[c.name]]) for c in spec.cols if c.example is not None]
        if row0 == [_cell_text(c.example) for c in spec.cols if c.example is not None]:
            out.file(Problem(int(excel_rows[0]), "", "", "这是模板里的示例行", "删除示例行，或改成本街道的数据"))

    # rules across columns
    for start, end, msg in [("established_on", "dissolved_on", "撤销日期早于成立日期"),
                            ("founded_on", "dissolved_on", "注销日期早于成立日期"),
                            ("received_at", "closed_at", "办结时间早于受理时间"),
                            ("received_at", "due_at", "办理时限早于受理时间")]:
        if start in df and end in df:
            bad = (df[end] < df[start]).fillna(False).to_numpy()
            out.add(bad, col_label(end), raw_of(end), msg, f"不早于{spec.col(start).label}")
    if table == "tickets":
        bad = (df["building"].notna() & df["compound"].isna()).to_numpy()
        out.add(bad, col_label("building"), raw_of("building"), "填写了楼栋但没有填写小区", "同时填写所在小区")

    # references by name within the street
    if "community" in spec.refs or table == "communities":
        df["community_id"] = pd.Series(pd.NA, index=df.index, dtype="Int64")
    names = df[["_i"] + [c for c in ("street", "community", "compound", "building", "org") if c in df]]
    if "community" in spec.refs:
        found = _lookup(con, names, "SELECT f._i, c.community_id AS v FROM _imp f "
                                    "JOIN selected_communities(NULL, NULL, NULL, NULL, NULL) c "
                                    "ON c.street = f.street AND c.community = f.community")
        df.loc[found.index, "community_id"] = found.astype("int64")
        miss = (df["community_id"].isna() & df["street"].notna() & df["community"].notna()).to_numpy()
        msg = "在“" + df["street"].fillna("") + "”下找不到这个社区" + scoping.outside_note(scope)
        out.add(miss, col_label("community"), df["community"], msg, "已在“社区”表中的社区名称（先导入社区）")
    # (reference, its id column, the id it hangs under, lookup SQL, what is wrong, what is expected)
    lookups = [
        ("compound", "compound_id", "community_id",
         "SELECT f._i, c.compound_id AS v FROM _imp f JOIN compounds c "
         "ON c.community_id = f.community_id AND c.compound = f.compound",
         "在该社区下找不到这个小区", "已在“小区”表中的小区名称（先导入小区）"),
        ("building", "building_id", "compound_id",
         "SELECT f._i, b.building_id AS v FROM _imp f JOIN buildings b "
         "ON b.compound_id = f.compound_id AND b.building = f.building",
         "在该小区下找不到这个楼栋", "已在“楼栋”表中的楼栋名称（先导入楼栋）"),
        ("org", "org_id", "community_id",
         "SELECT f._i, o.org_id AS v FROM _imp f JOIN social_orgs o "
         "ON o.community_id = f.community_id AND o.org = f.org",
         "在该社区下找不到这个社会组织", "已在“社会组织”表中的组织名称（先导入社会组织）"),
    ]
    for ref, id_col, parent, sql, message, expected in lookups:
        if ref not in spec.refs:
            continue
        df[id_col] = pd.Series(pd.NA, index=df.index, dtype="Int64")
        found = _lookup(con, df[["_i", parent, ref]].astype({parent: "Int64"}), sql)
        df.loc[found.index, id_col] = found.astype("int64")
        miss = (df[id_col].isna() & df[parent].notna() & df[ref].notna()).to_numpy()
        out.add(miss, col_label(ref), df[ref], message, expected)

    # duplicates within the file: within these rows, then against the keys of earlier chunks
    key = list(spec.key)
    key_text = "、".join(spec.col(k).label for k in key)
    complete = df[key].notna().all(axis=1)
    dup = df[key].duplicated(keep="first") & complete
    if dup.any():
        first_row = df[complete].groupby(key, dropna=False, sort=False)["_excel_row"].transform("first")
        msg = "与第 " + first_row.reindex(df.index).astype("Int64").astype(str) + " 行重复（" + key_text + "相同）"
        out.add(dup.to_numpy(), col_label(key[-1]), raw_of(key[-1]).astype(object), msg, "每条记录只出现一次")
    if seen is not None:
        keys = pd.DataFrame({"_i": df["_i"], "k": _key_strings(df, key), "excel_row": df["_excel_row"]})
        keys = keys[complete.to_numpy() & ~dup.to_numpy()]
        earlier = _lookup(con, keys, f"SELECT f._i, s.excel_row AS v FROM _imp f JOIN {seen} s ON s.k = f.k")
        if len(earlier):
            mask = np.zeros(n, bool)
            mask[earlier.index.to_numpy(dtype="int64")] = True
            msg = pd.Series("", index=df.index, dtype=object)
            msg[earlier.index] = [f"与第 {int(r)} 行重复（{key_text}相同）" for r in earlier.to_numpy()]
            out.add(mask, col_label(key[-1]), raw_of(key[-1]).astype(object), msg, "每条记录只出现一次")
            dup = dup | pd.Series(mask, index=df.index)
        _keys = keys[["k", "excel_row"]]  # noqa: F841 (replacement scan, see _lookup)
        con.execute(f"INSERT INTO {seen} SELECT k, excel_row FROM _keys")

    # against stored rows: an update only when asked
    df["_existing"] = _existing_ids(con, spec, df, batch)
    df["_update"] = df["_existing"].notna()
    if not update:
        ident = spec.key[0] if table == "tickets" else key[-1]
        out.add(df["_update"].to_numpy() & ~dup.to_numpy(), col_label(ident), raw_of(ident).astype(object),
                "数据库中已有这条记录（" + key_text + "相同）",
                "新的记录；如要用文件内容更新已有记录，请勾选“更新已有记录”（命令行加 --update）")

    # rows (and stored rows an update would overwrite) outside the importing user's scope
    scoping.check(con, table, df, out, col_label, raw_of, scope)
    return df


def _key_strings(df: pd.DataFrame, key: list[str]) -> pd.Series:
    return df[key].astype(str).agg("\x1f".join, axis=1) if len(key) > 1 else df[key[0]].astype(str)


def validate(con, table: str, data: bytes, file_name: str, sheet: str | None = None, update: bool = False,
             max_bytes: int = MAX_FILE_BYTES, mapping: dict[str, str] | None = None, *, scope: Scope) -> Report:
    """Read and check a file for `table` against the stored rows, inside the importing user's
    `scope` (set on `con` here); nothing is written. A mapping ({field: the file's header}) says
    what the file's own headers mean."""
    if table not in SPECS:
        raise ValueError(f"unknown table {table}")
    set_scope(con, scope)
    spec = SPECS[table]
    report = Report(table, file_name, _sha256(data))
    try:
        raw = read_raw(data, file_name, spec, sheet, max_bytes, known=header_map(spec, mapping))
    except ImportRefused as exc:
        report.problems, report.problem_count = exc.problems, len(exc.problems)
        return report
    out = _Collector(raw.excel_rows)
    for p in raw.problems:
        out.file(p)
    same = _applied_batch_with_hash(con, report.sha256)
    if same:
        out.file(_same_file_problem(same))
    plan = plan_columns(spec, list(raw.frame.columns), raw.header_row, mapping, out, report.warnings)
    if not len(raw.frame):
        out.file(Problem(None, "", "", "文件只有表头，没有数据行", "表头下每行一条记录"))
    frame = raw.frame.set_axis(range(raw.frame.shape[1]), axis=1)
    df = check_chunk(con, spec, frame, raw.excel_rows, plan, out, update, scope=scope)
    finish(report, out)
    report.rows = df
    report.n_update = int(df["_update"].sum())
    report.n_new = len(df) - report.n_update
    return report


def finish(report: Report, out: _Collector) -> None:
    """By row as the user reads the file (whole-file problems first); within a row, in check order."""
    report.problems = sorted(out.problems, key=lambda p: p.row or 0)
    report.problem_count = out.count


# How a stored row is found by its natural key (names resolved to ids first).
_KEY_SQL = {
    "communities": ("t.community_id", "t.street = f.street AND t.community = f.community"),
    "compounds": ("t.compound_id", "t.community_id = f.community_id AND t.compound = f.compound"),
    "buildings": ("t.building_id", "t.compound_id = f.compound_id AND t.building = f.building"),
    "branches": ("t.branch_id", "t.community_id = f.community_id AND t.branch = f.branch AND t.established_on = f.established_on"),
    "building_groups": ("t.group_id", "t.building_id = f.building_id AND t.established_on = f.established_on"),
    "household_leads": ("t.lead_id", "t.building_id = f.building_id AND t.household = f.household AND t.established_on = f.established_on"),
    "social_orgs": ("t.org_id", "t.community_id = f.community_id AND t.org = f.org"),
    "org_monthly": ("(t.org_id::VARCHAR || '|' || t.month::VARCHAR)", "t.org_id = f.org_id AND t.month = f.month"),
    "tickets": ("t.ticket_id", "t.ticket_id = f.ticket_id"),
    "practices": ("t.practice_id", "t.community_id = f.community_id AND t.practice = f.practice AND t.started_on = f.started_on"),
}


def _existing_ids(con, spec: Spec, df: pd.DataFrame, batch: int | None = None) -> pd.Series:
    ident, on = _KEY_SQL[spec.table]
    cols = ["_i"] + [c for c in ("community_id", "compound_id", "building_id", "org_id") if c in df] + \
           [c.name for c in spec.cols if c.name in on]
    cols = list(dict.fromkeys(cols))
    frame = df[cols].copy()
    for c in ("established_on", "founded_on", "started_on", "month"):
        if c in frame:
            frame[c] = frame[c].dt.date
    mine = "" if batch is None else f" AND t.batch_id IS DISTINCT FROM {int(batch)}"  # earlier chunks of this batch
    found = _lookup(con, frame, f"SELECT f._i, {ident} AS v FROM _imp f JOIN {spec.table} t ON {on}{mine}")
    return pd.Series(found, index=df.index, dtype=object).reindex(df.index) if len(found) else pd.Series(None, index=df.index, dtype=object)
