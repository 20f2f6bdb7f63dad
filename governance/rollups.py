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

# ticket_monthly: one row per (month received, community, category l1/l2/l3).
#   tickets, followups (contacted IS NOT NULL), contacted, solved (valid follow-up and solved),
#   sat_1..sat_5 (valid follow-ups per satisfaction level, LEVELS order), closed, closed_on_time
#   (closed and due_at IS NULL or closed_at <= due_at), repeats (T8: previous ticket of the same
#   category in the same compound received at most 90 calendar days before; independent of any
#   period, since a previous ticket more than 90 days back never counts).
ROLLUP_SQL = f"""
CREATE OR REPLACE TABLE ticket_monthly AS
WITH prev AS (
    SELECT t.*,
           CASE WHEN t.compound_id IS NULL THEN NULL ELSE
           lag(t.received_at) OVER (PARTITION BY t.compound_id, t.category_l1, t.category_l2, t.category_l3
                                    ORDER BY t.received_at, t.ticket_id) END AS previous_at
    FROM tickets t
)
SELECT date_trunc('month', received_at)::DATE AS month, community_id, category_l1, category_l2, category_l3,
       count(*)::INTEGER AS tickets,
       count(contacted)::INTEGER AS followups,
       (count(*) FILTER (WHERE contacted))::INTEGER AS contacted,
       (count(*) FILTER (WHERE contacted IS NOT NULL AND solved))::INTEGER AS solved,
       {", ".join(f"(count(*) FILTER (WHERE contacted IS NOT NULL AND satisfaction = '{lv}'))::INTEGER AS {col}"
                  for lv, col in zip(LEVELS, LEVEL_COLUMNS))},
       count(closed_at)::INTEGER AS closed,
       (count(*) FILTER (WHERE closed_at IS NOT NULL AND (due_at IS NULL OR closed_at <= due_at)))::INTEGER
           AS closed_on_time,
       (count(*) FILTER (WHERE date_diff('day', previous_at::DATE, received_at::DATE) <= 90))::INTEGER AS repeats
FROM prev
GROUP BY ALL
ORDER BY month, community_id, category_l1, category_l2, category_l3
"""


# ticket_categories: each distinct (category_l1, l2, l3) with a small integer cat_id.
# ticket_repeats: every ticket with a compound, narrow (category as cat_id), in the order of
#   `tickets`, with `repeat` (the T8 rule above). Lets the recurring-problem list group a period's
#   tickets by small integer keys, without a window.
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


_MARK_FRESH = ("INSERT INTO meta SELECT 'rollup_version', value FROM meta WHERE key = 'data_version' "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value")


def refresh_rollups(con, transaction: bool = True, tickets_changed: bool = True) -> None:
    """Rebuild every rollup from the raw tables and record the data version they reflect.

    With transaction=False the caller's open transaction is used, so a write and its rollups
    become visible together (a reader never sees new tickets with old rollups). When the write
    did not touch tickets, the rollups are still right and are only marked as current.
    """
    def work():
        if tickets_changed:
            con.execute(ROLLUP_SQL)
            con.execute(CATEGORIES_SQL)
            con.execute(REPEATS_SQL)
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


def is_fresh(con) -> bool:
    cur = con.cursor()
    try:
        rows = dict(cur.execute("SELECT key, value FROM meta WHERE key IN ('data_version', 'rollup_version')").fetchall())
        has_table = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('ticket_monthly', 'ticket_categories', 'ticket_repeats')").fetchone()[0]
    finally:
        cur.close()
    return has_table == 3 and rows.get("rollup_version") == rows.get("data_version")


def ensure_fresh(con) -> bool:
    """Rebuild the rollups if they are missing or older than the data; True if rebuilt."""
    if is_fresh(con):
        return False
    refresh_rollups(con)
    return True
