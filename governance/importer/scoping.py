"""Who may write which rows: an import's rows, and the stored rows it would update, must all be
inside the importing user's scope (governance/access.py), or the whole file is refused with the
row, the column and the scope named. The importer's name lookups read communities through
`selected_communities(...)`, so a community outside the scope is never found."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.access import Scope
from governance.labels import LEVELS
from governance.schema import DATA_TABLES

# The stored row an update would overwrite, and the community it belongs to.
_OWNER_SQL = {
    "communities": "SELECT f._i, t.community_id AS v FROM _imp f JOIN communities t ON t.community_id::VARCHAR = f._existing",
    "compounds": "SELECT f._i, t.community_id AS v FROM _imp f JOIN compounds t ON t.compound_id::VARCHAR = f._existing",
    "buildings": "SELECT f._i, t.community_id AS v FROM _imp f JOIN buildings t ON t.building_id::VARCHAR = f._existing",
    "branches": "SELECT f._i, t.community_id AS v FROM _imp f JOIN branches t ON t.branch_id::VARCHAR = f._existing",
    "building_groups": "SELECT f._i, t.community_id AS v FROM _imp f JOIN building_groups t ON t.group_id::VARCHAR = f._existing",
    "household_leads": "SELECT f._i, t.community_id AS v FROM _imp f JOIN household_leads t ON t.lead_id::VARCHAR = f._existing",
    "social_orgs": "SELECT f._i, t.community_id AS v FROM _imp f JOIN social_orgs t ON t.org_id::VARCHAR = f._existing",
    "org_monthly": "SELECT f._i, o.community_id AS v FROM _imp f JOIN social_orgs o "
                   "ON o.org_id::VARCHAR = split_part(f._existing, '|', 1)",
    "tickets": "SELECT f._i, t.community_id AS v FROM _imp f JOIN tickets t ON t.ticket_id::VARCHAR = f._existing",
    "practices": "SELECT f._i, t.community_id AS v FROM _imp f JOIN practices t ON t.practice_id::VARCHAR = f._existing",
}


def outside_note(scope: Scope | None) -> str:
    """Added to a "not found" message when the user sees only part of the data."""
    return "" if scope is None or scope.is_all else f"（或不在您的范围“{scope.label()}”内）"


def check(con, table: str, df: pd.DataFrame, out, col_label, raw_of, scope: Scope | None) -> None:
    """Record a problem for every row outside `scope`: a new community's region, or a stored row
    that an update would overwrite belonging to a community outside it (found through the
    cursor's scope, which the caller set)."""
    if scope is None or scope.is_all:
        return
    where = f"您的范围是“{scope.label()}”"
    if table == "communities":
        bad_any = np.zeros(len(df), dtype=bool)
        for level, value in zip(LEVELS, scope.values()):
            if value is None or level not in df:
                continue
            bad = (df[level].notna() & (df[level] != value)).to_numpy() & ~bad_any
            out.add(bad, col_label(level), raw_of(level), f"不在您的范围内：{where}", f"“{value}”")
            bad_any |= bad
    if "_existing" not in df or not df["_existing"].notna().any():
        return
    frame = df.loc[df["_existing"].notna(), ["_i", "_existing"]].copy()
    frame["_existing"] = [str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) else str(v)
                          for v in frame["_existing"]]
    con.register("_imp", frame)
    try:
        owners = con.execute(
            f"SELECT o._i FROM ({_OWNER_SQL[table]}) o "
            "WHERE o.v NOT IN (SELECT community_id FROM selected_communities(NULL, NULL, NULL, NULL, NULL))").fetchall()
    finally:
        con.unregister("_imp")
    bad = np.isin(df["_i"].to_numpy(), [r[0] for r in owners])
    first = next(iter(df.columns.intersection(["ticket_id", "community", "org"])), None)
    out.add(bad, col_label(first) if first else "", raw_of(first) if first else None,
            f"数据库中已有的这条记录属于您范围以外的社区，不能更新：{where}", "范围内社区的记录")


def record_batch_communities(con, batch: int) -> None:
    """Which communities a batch wrote rows for (whether it lies inside a scope, for undo): every row
    it added or updated carries its batch_id."""
    parts = [f"SELECT community_id FROM {t} WHERE batch_id = {int(batch)}" for t in DATA_TABLES if t != "org_monthly"]
    parts.append(f"SELECT o.community_id FROM org_monthly m JOIN social_orgs o USING (org_id) WHERE m.batch_id = {int(batch)}")
    con.execute(f"INSERT INTO batch_communities SELECT DISTINCT {int(batch)}, community_id FROM ("
                + " UNION ".join(parts) + ") ON CONFLICT DO NOTHING")


def batch_outside(con, batch: int) -> int | None:
    """How many of the batch's communities are outside the cursor's scope (None: none recorded)."""
    n, outside = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE community_id NOT IN "
        "(SELECT community_id FROM selected_communities(NULL, NULL, NULL, NULL, NULL))) "
        "FROM batch_communities WHERE batch_id = ?", [batch]).fetchone()
    return None if n == 0 else outside
