"""Column mappings: a file whose headers are not the template's (a hotline's own export) says, per
field, which of its columns holds it. {field: the file's header}; fields are the template's column
names (received_at, …) and the pseudo-fields of specs.PSEUDO_FIELDS (`category`: one column with
the category path; `satisfaction_stars`: satisfaction as 1-5 stars). Saved by name in the table
`column_mappings` and chosen again for a file with the same headers."""

from __future__ import annotations

import datetime as dt
import json

from governance.importer.specs import SPECS, SUGGEST, _norm_header, field_labels, header_map
from governance import db
from governance.access import Actor, require

MAX_NAME = 60


class MappingError(ValueError):
    """A mapping that cannot be used; the message is Chinese, for the user."""


def parse_map_args(table: str, items: list[str]) -> dict[str, str]:
    """`--map 源列名=字段` arguments as a mapping {field: header}."""
    allowed = field_labels(table)
    out: dict[str, str] = {}
    for item in items:
        header, sep, fld = item.rpartition("=")
        header, fld = header.strip(), fld.strip()
        if not sep or not header or not fld:
            raise MappingError(f"列对应“{item}”的写法不对，应为 源列名=字段，如 受理时间=received_at")
        if fld not in allowed:
            raise MappingError(f"列对应“{item}”中的字段“{fld}”不是“{SPECS[table].label}”表的字段；可用字段："
                               + "、".join(f"{k}（{v}）" for k, v in allowed.items()))
        if fld in out:
            raise MappingError(f"字段“{fld}”对应了两列：“{out[fld]}”和“{header}”")
        out[fld] = header
    return out


def _header_key(headers) -> str:
    return json.dumps(sorted({_norm_header(h) for h in headers if _norm_header(h)}), ensure_ascii=False)


def save_mapping(con, name: str, table: str, headers: list[str], mapping: dict[str, str], *, actor: Actor) -> None:
    """Save (or replace) the mapping `name` for files with these headers, in its own transaction;
    a write, so only who may import (`actor`) may save one, and it records them."""
    require(actor, "import")
    who = actor.who
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise MappingError(f"列对应的名称不能为空，最长 {MAX_NAME} 个字")
    allowed = field_labels(table)
    bad = [f for f in mapping if f not in allowed]
    if bad:
        raise MappingError("列对应中有不是本表的字段：" + "、".join(bad))
    with db.transaction(con) as cur:
        cur.execute("DELETE FROM column_mappings WHERE name = ?", [name])
        cur.execute("INSERT INTO column_mappings VALUES (?, ?, ?, ?, ?, ?)",
                    [name, table, _header_key(headers), json.dumps(mapping, ensure_ascii=False),
                     dt.datetime.now().replace(microsecond=0), who])


def load_mapping(con, name: str) -> tuple[str, dict[str, str]] | None:
    """(table, mapping) saved as `name`, or None."""
    cur = con.cursor()
    try:
        row = cur.execute("SELECT table_name, mapping FROM column_mappings WHERE name = ?", [name]).fetchone()
    finally:
        cur.close()
    return (row[0], json.loads(row[1])) if row else None


def find_mapping(con, table: str, headers: list[str]) -> tuple[str, dict[str, str]] | None:
    """The saved mapping (name, mapping) for files of `table` with exactly these headers, newest first."""
    cur = con.cursor()
    try:
        row = cur.execute("SELECT name, mapping FROM column_mappings WHERE table_name = ? AND headers = ? "
                          "ORDER BY saved_at DESC, name LIMIT 1", [table, _header_key(headers)]).fetchone()
    finally:
        cur.close()
    return (row[0], json.loads(row[1])) if row else None


def saved_mappings(con, table: str) -> list[str]:
    cur = con.cursor()
    try:
        return [r[0] for r in cur.execute("SELECT name FROM column_mappings WHERE table_name = ? ORDER BY name",
                                          [table]).fetchall()]
    finally:
        cur.close()


def delete_mapping(con, name: str) -> None:
    cur = con.cursor()
    try:
        cur.execute("DELETE FROM column_mappings WHERE name = ?", [name])
    finally:
        cur.close()


def suggest_mapping(table: str, headers: list[str]) -> dict[str, str]:
    """A first guess {field: header}: headers the importer knows (template names, aliases), then
    headers containing a common word for a field (specs.SUGGEST); each header used once."""
    spec = SPECS[table]
    known = header_map(spec)
    out: dict[str, str] = {}
    used: set[str] = set()
    for h in headers:
        f = known.get(_norm_header(h))
        if f and f not in out and h:
            out[f], _ = h, used.add(h)
    if "category" in out:
        for lv in ("category_l1", "category_l2", "category_l3"):
            out.pop(lv, None)
    allowed = field_labels(table)
    for fld, words in SUGGEST.items():
        if fld not in allowed or fld in out or (fld.startswith("category") and "category_l1" in out):
            continue
        for h in headers:
            if h and h not in used and any(w in _norm_header(h) for w in words):
                out[fld] = h
                used.add(h)
                break
    return out
