"""Stored rows read back in the import format (round trip, editing and re-importing)."""

from __future__ import annotations

import pandas as pd

from governance.importer.specs import SPECS
from governance.importer.writing import _PK


_EXPORT_FROM = {
    "communities": "communities t",
    "compounds": "compounds t JOIN communities c USING (community_id)",
    "buildings": "buildings t JOIN compounds p USING (compound_id) JOIN communities c ON c.community_id = t.community_id",
    "branches": "branches t JOIN communities c USING (community_id) LEFT JOIN compounds p ON p.compound_id = t.compound_id",
    "building_groups": "building_groups t JOIN buildings b USING (building_id) JOIN compounds p ON p.compound_id = b.compound_id "
                       "JOIN communities c ON c.community_id = t.community_id",
    "household_leads": "household_leads t JOIN buildings b USING (building_id) JOIN compounds p ON p.compound_id = b.compound_id "
                       "JOIN communities c ON c.community_id = t.community_id",
    "social_orgs": "social_orgs t JOIN communities c USING (community_id)",
    "org_monthly": "org_monthly t JOIN social_orgs o USING (org_id) JOIN communities c ON c.community_id = o.community_id",
    "tickets": "tickets t JOIN communities c USING (community_id) LEFT JOIN compounds p ON p.compound_id = t.compound_id "
               "LEFT JOIN buildings b ON b.building_id = t.building_id",
    "practices": "practices t JOIN communities c USING (community_id)",
}
_EXPORT_EXPR = {"street": "c.street", "community": "c.community", "compound": "p.compound", "building": "b.building",
                "org": "o.org", "source": "t.source_note"}


_EXPORT_OWN = {"communities": ("street", "community"), "compounds": ("compound",), "buildings": ("building",),
               "social_orgs": ("org",)}


def export_frame(con, table: str) -> pd.DataFrame:
    """Stored rows of `table` with the template's canonical columns (names, not ids)."""
    spec = SPECS[table]
    exprs = []
    for c in spec.cols:
        own = c.name in _EXPORT_OWN.get(table, ())
        e = f"t.{c.name}" if own else _EXPORT_EXPR.get(c.name, f"t.{c.name}")
        if c.kind == "month":
            e = f"strftime({e}, '%Y-%m')"
        elif c.kind == "date":
            e = f"strftime({e}, '%Y-%m-%d')"
        elif c.kind == "datetime":
            e = f"strftime({e}, '%Y-%m-%d %H:%M:%S')"
        elif c.kind == "bool":
            e = f"CASE WHEN {e} THEN '是' WHEN NOT {e} THEN '否' END"
        exprs.append(f"{e} AS {c.name}")
    order = ", ".join(f"t.{k}" for k in _PK[table])
    cur = con.cursor()
    try:
        return cur.execute(f"SELECT {', '.join(exprs)} FROM {_EXPORT_FROM[table]} ORDER BY {order}").df()
    finally:
        cur.close()
