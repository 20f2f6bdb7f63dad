"""Rollup tables: ticket counts per month, community and category, rebuilt from `tickets`.

Pages at province scale (10 million tickets) read these instead of the raw tickets wherever an
answer is a sum of counts over whole months. A rollup holds counts only, never rates or weighted
sums: satisfaction is kept as a count per level, because the level weights that apply are the
ones in force at the end of the period asked about, which the rollup cannot know.

Whoever writes data calls `refresh_rollups(con)` after the write (the demo generators and the
importer do). `ensure_fresh(con)` rebuilds them when `meta.rollup_version` differs from
`meta.data_version`, so a database written by an older program is repaired on open.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()

# The five satisfaction levels of the schema's CHECK constraint, in the order of the columns.
LEVELS = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
LEVEL_COLUMNS = ["sat_1", "sat_2", "sat_3", "sat_4", "sat_5"]

# ticket_categories: each distinct (category_l1, l2, l3) with a small integer cat_id.
# ticket_repeats: every ticket with a compound, narrow (category as cat_id), in the order of
#   `tickets`, with `repeat` (T8: previous ticket of the same category in the same compound received
#   at most 90 calendar days before; independent of any period, since a previous ticket more than 90
#   days back never counts). Lets the recurring-problem list group a period's tickets by small
#   integer keys, without a window. The one pass of that window over the tickets: ticket_monthly
#   sums its `repeat` rather than running the window again.
CATEGORIES_SQL = """
CREATE OR REPLACE TABLE ticket_categories AS
SELECT row_number() OVER (ORDER BY category_l1, category_l2 NULLS FIRST, category_l3 NULLS FIRST)::INTEGER AS cat_id,
       category_l1, category_l2, category_l3
FROM (SELECT DISTINCT category_l1, category_l2, category_l3 FROM tickets)
"""
REPEATS_SQL = """
CREATE OR REPLACE TABLE ticket_repeats AS
SELECT t.received_at, t.community_id, t.compound_id, k.cat_id, t.closed_at,
       coalesce(date_diff('day', lag(t.received_at) OVER (
           PARTITION BY t.compound_id, k.cat_id ORDER BY t.received_at, t.ticket_id)::DATE,
           t.received_at::DATE) <= 90, FALSE) AS repeat
FROM tickets t
JOIN ticket_categories k ON k.category_l1 = t.category_l1
    AND k.category_l2 IS NOT DISTINCT FROM t.category_l2 AND k.category_l3 IS NOT DISTINCT FROM t.category_l3
WHERE t.compound_id IS NOT NULL
ORDER BY date_trunc('month', t.received_at), t.community_id, t.received_at
"""

# ticket_monthly: one row per (month received, community, category l1/l2/l3).
#   tickets, followups (contacted IS NOT NULL), contacted, solved (valid follow-up and solved),
#   sat_1..sat_5 (valid follow-ups per satisfaction level, LEVELS order), closed, closed_on_time
#   (closed and due_at IS NULL or closed_at <= due_at), repeats (T8, as ticket_repeats marks it; a
#   ticket without a compound is never a repeat). Built after ticket_repeats.
ROLLUP_SQL = f"""
CREATE OR REPLACE TABLE ticket_monthly AS
WITH counts AS (
    SELECT date_trunc('month', received_at)::DATE AS month, community_id, category_l1, category_l2, category_l3,
           count(*)::INTEGER AS tickets,
           count(contacted)::INTEGER AS followups,
           (count(*) FILTER (WHERE contacted))::INTEGER AS contacted,
           (count(*) FILTER (WHERE contacted IS NOT NULL AND solved))::INTEGER AS solved,
           {", ".join(f"(count(*) FILTER (WHERE contacted IS NOT NULL AND satisfaction = '{lv}'))::INTEGER AS {col}"
                      for lv, col in zip(LEVELS, LEVEL_COLUMNS))},
           count(closed_at)::INTEGER AS closed,
           (count(*) FILTER (WHERE closed_at IS NOT NULL AND (due_at IS NULL OR closed_at <= due_at)))::INTEGER
               AS closed_on_time
    FROM tickets
    GROUP BY ALL
), repeats AS (
    SELECT date_trunc('month', r.received_at)::DATE AS month, r.community_id, k.category_l1, k.category_l2,
           k.category_l3, count(*)::INTEGER AS repeats
    FROM ticket_repeats r JOIN ticket_categories k USING (cat_id)
    WHERE r.repeat
    GROUP BY ALL
)
SELECT c.*, coalesce(r.repeats, 0)::INTEGER AS repeats
FROM counts c LEFT JOIN repeats r ON r.month = c.month AND r.community_id = c.community_id
    AND r.category_l1 = c.category_l1 AND r.category_l2 IS NOT DISTINCT FROM c.category_l2
    AND r.category_l3 IS NOT DISTINCT FROM c.category_l3
ORDER BY month, community_id, category_l1, category_l2, category_l3
"""


# ticket_period_counts(province, city, district, street, community, start, end): the rows of
#   ticket_monthly's shape for the selected communities' tickets received in [start, end] (DATEs).
#   Whole months come from ticket_monthly; the partial months at either edge are counted from the
#   raw tickets, so any period gives the same sums as counting raw tickets (tests/test_scale_rollups.py).
#   One definition for the ticket queries that sum counts (rates_by_community, by_category, monthly).
#   Created here, not in the schema, because a DuckDB macro can only be created once its tables exist.
#   The month bounds are written out as expressions of the parameters, not read from a CTE, so that
#   DuckDB folds them into constants and prunes the scans by month (a join on a CTE reads everything).
_FIRST_WHOLE = ("CASE WHEN day(p_start::DATE) = 1 THEN p_start::DATE "
                "ELSE (date_trunc('month', p_start::DATE) + INTERVAL 1 MONTH)::DATE END")
_AFTER_WHOLE = ("CASE WHEN p_end::DATE = last_day(p_end::DATE) THEN p_end::DATE + 1 "
                "ELSE date_trunc('month', p_end::DATE)::DATE END")
PERIOD_COUNTS_SQL = f"""
CREATE OR REPLACE MACRO ticket_period_counts(p_province, p_city, p_district, p_street, p_community, p_start, p_end) AS TABLE
WITH sel AS (
    SELECT community_id FROM selected_communities(p_province, p_city, p_district, p_street, p_community)
)
SELECT r.month, r.community_id, r.category_l1, r.category_l2, r.category_l3, r.tickets, r.followups,
       r.contacted, r.solved, {", ".join("r." + c for c in LEVEL_COLUMNS)}, r.closed, r.closed_on_time
FROM ticket_monthly r JOIN sel USING (community_id)
WHERE r.month >= {_FIRST_WHOLE} AND r.month < {_AFTER_WHOLE}
UNION ALL
SELECT date_trunc('month', t.received_at)::DATE, t.community_id, t.category_l1, t.category_l2, t.category_l3, 1,
       (t.contacted IS NOT NULL)::INTEGER, coalesce(t.contacted, FALSE)::INTEGER,
       (t.contacted IS NOT NULL AND coalesce(t.solved, FALSE))::INTEGER,
       {", ".join(f"(t.contacted IS NOT NULL AND t.satisfaction IS NOT DISTINCT FROM '{lv}')::INTEGER" for lv in LEVELS)},
       (t.closed_at IS NOT NULL)::INTEGER,
       (t.closed_at IS NOT NULL AND (t.due_at IS NULL OR t.closed_at <= t.due_at))::INTEGER
FROM tickets t JOIN sel USING (community_id)
WHERE (t.received_at >= p_start::DATE AND t.received_at < least({_FIRST_WHOLE}, p_end::DATE + 1))
   OR (t.received_at >= greatest(p_start::DATE, {_FIRST_WHOLE}, {_AFTER_WHOLE})
       AND t.received_at < p_end::DATE + INTERVAL 1 DAY)
"""


_MARK_FRESH = ("INSERT INTO meta SELECT 'rollup_version', value FROM meta WHERE key = 'data_version' "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value")


def refresh_rollups(con, transaction: bool = True, tickets_changed: bool = True) -> None:
    """Rebuild every rollup from the raw tables and record the data version they reflect.

    With transaction=False the caller's open transaction is used, so a write and its rollups
    become visible together (a reader never sees new tickets with old rollups). When the write
    did not touch tickets, the rollups are still right and are only marked as current.
    """
    def work():
        if tickets_changed:   # in this order: ticket_monthly reads ticket_repeats
            con.execute(CATEGORIES_SQL)
            con.execute(REPEATS_SQL)
            con.execute(ROLLUP_SQL)
        con.execute(PERIOD_COUNTS_SQL)
        con.execute(_MARK_FRESH)

    if not transaction:
        work()
        return
    with _lock:
        con.execute("BEGIN")
        try:
            work()
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def _state(con) -> tuple[bool, bool]:
    """(rollup tables present and as new as the data, the period macro present)."""
    cur = con.cursor()
    try:
        rows = dict(cur.execute("SELECT key, value FROM meta WHERE key IN ('data_version', 'rollup_version')").fetchall())
        has_table = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('ticket_monthly', 'ticket_categories', 'ticket_repeats')").fetchone()[0]
        has_macro = cur.execute(
            "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'ticket_period_counts'").fetchone()[0] > 0
    finally:
        cur.close()
    return has_table == 3 and rows.get("rollup_version") == rows.get("data_version"), has_macro


def is_fresh(con) -> bool:
    return all(_state(con))


def ensure_fresh(con) -> bool:
    """Rebuild the rollups if they are missing or older than the data, and create the period macro
    if it is missing (a database written by an older program); True if anything was written."""
    tables, macro = _state(con)
    if tables and macro:
        return False
    refresh_rollups(con, tickets_changed=not tables)
    return True
