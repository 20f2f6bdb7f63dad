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
# the count columns of ticket_monthly over a set of tickets (one definition: the full rebuild and an
# import's increment both use it)
_COUNTS = ", ".join([
    "count(*)::INTEGER AS tickets",
    "count(contacted)::INTEGER AS followups",
    "(count(*) FILTER (WHERE contacted))::INTEGER AS contacted",
    "(count(*) FILTER (WHERE contacted IS NOT NULL AND solved))::INTEGER AS solved",
    *(f"(count(*) FILTER (WHERE contacted IS NOT NULL AND satisfaction = '{lv}'))::INTEGER AS {col}"
      for lv, col in zip(LEVELS, LEVEL_COLUMNS)),
    "count(closed_at)::INTEGER AS closed",
    "(count(*) FILTER (WHERE closed_at IS NOT NULL AND (due_at IS NULL OR closed_at <= due_at)))::INTEGER AS closed_on_time",
])
ROLLUP_SQL = f"""
CREATE OR REPLACE TABLE ticket_monthly AS
WITH counts AS (
    SELECT date_trunc('month', received_at)::DATE AS month, community_id, category_l1, category_l2, category_l3,
           {_COUNTS}
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


# ------------------------------------------------------------------ after an import that only added tickets
# add_tickets(con, batch) brings the rollups from "current before the batch" to what a full rebuild
# gives after it, touching only what the batch's new tickets can change (tests/test_rollups_incremental.py
# compares every table with a rebuild). The steps, all in the caller's transaction:
# 1. ticket_categories: only when the batch brings a category not yet listed, rebuilt with
#    CATEGORIES_SQL (ids are the categories' rank, so later ones shift) and ticket_repeats' cat_id
#    renumbered old -> new.
# 2. ticket_repeats: one window over the narrow rows of the old table and the batch's tickets (with a
#    compound), per compound and category, ordered by received_at, old rows first at equal times,
#    then ticket_id. An old ticket's flag can only turn TRUE (its predecessor can only come closer):
#    it does when a new ticket received before it lies within 90 days (running max of the new rows'
#    times). A new ticket's flag is its predecessor's distance. Both are exact except where a new
#    ticket has the very received_at of an old one in its compound and category (rare): there the
#    order is by ticket_id, which the old rows do not carry, so those (compound, category, time)
#    groups are deleted and written again from `tickets`, ranked by ticket_id.
# 3. ticket_monthly: the batch's counts and the repeat flags that changed, per key, added to the
#    rows of keys already there; rows of new keys appended.
# New rows of ticket_repeats and ticket_monthly are appended in their tables' order (by month), so the
# old rows keep theirs: the appended block is pruned by month less well (one rebuild, e.g. an undo or an
# update, sorts everything again).
_NEW_SQL = """
CREATE OR REPLACE TEMP TABLE _rollup_new AS
SELECT t.ticket_id, t.received_at, t.community_id, t.compound_id, k.cat_id, t.closed_at
FROM tickets t
JOIN ticket_categories k ON k.category_l1 = t.category_l1
    AND k.category_l2 IS NOT DISTINCT FROM t.category_l2 AND k.category_l3 IS NOT DISTINCT FROM t.category_l3
WHERE t.batch_id = $batch AND t.compound_id IS NOT NULL
"""
# (compound, category, time) where a new ticket meets an old one at the same received_at
_TIES_SQL = """
CREATE OR REPLACE TEMP TABLE _rollup_ties AS
SELECT DISTINCT n.compound_id, n.cat_id, n.received_at
FROM _rollup_new n
JOIN tickets t ON t.compound_id = n.compound_id AND t.received_at = n.received_at
JOIN ticket_categories k ON k.cat_id = n.cat_id AND k.category_l1 = t.category_l1
    AND k.category_l2 IS NOT DISTINCT FROM t.category_l2 AND k.category_l3 IS NOT DISTINCT FROM t.category_l3
WHERE t.batch_id IS DISTINCT FROM $batch
"""
# kept: the new rows, the old ones not yet repeats (which may turn), and the tie groups' rows
_WINDOW_SQL = """
CREATE OR REPLACE TEMP TABLE _rollup_w AS
SELECT * FROM (
    SELECT *,
           lag(received_at) OVER w AS prev_at,
           max(CASE WHEN is_new THEN received_at END) OVER (
               PARTITION BY compound_id, cat_id ORDER BY received_at, is_new, ticket_id ROWS UNBOUNDED PRECEDING)
               AS last_new_at
    FROM (SELECT compound_id, cat_id, received_at, FALSE AS is_new, NULL::VARCHAR AS ticket_id, repeat,
                 community_id, closed_at
          FROM ticket_repeats
          SEMI JOIN (SELECT DISTINCT compound_id, cat_id FROM _rollup_new) g USING (compound_id, cat_id)
          UNION ALL
          SELECT compound_id, cat_id, received_at, TRUE, ticket_id, NULL, community_id, closed_at FROM _rollup_new)
    WINDOW w AS (PARTITION BY compound_id, cat_id ORDER BY received_at, is_new, ticket_id)
) w
WHERE is_new OR NOT repeat OR EXISTS (SELECT 1 FROM _rollup_ties x WHERE x.compound_id = w.compound_id
                                      AND x.cat_id = w.cat_id AND x.received_at = w.received_at)
"""
# the old rows whose flag turns TRUE (not those of a tie group, rewritten below)
_FLIPS_SQL = """
CREATE OR REPLACE TEMP TABLE _rollup_flips AS
SELECT compound_id, cat_id, received_at, community_id
FROM _rollup_w w
WHERE NOT is_new AND NOT repeat AND date_diff('day', last_new_at::DATE, received_at::DATE) <= 90
  AND NOT EXISTS (SELECT 1 FROM _rollup_ties x WHERE x.compound_id = w.compound_id AND x.cat_id = w.cat_id
                  AND x.received_at = w.received_at)
"""
# every ticket of a tie group, old and new, with its exact flag: the first by ticket_id looks back to the
# group's previous time (the one lag below the group's time), the others have a predecessor at 0 days
_TIE_ROWS_SQL = """
CREATE OR REPLACE TEMP TABLE _rollup_tie_rows AS
WITH prev AS (
    SELECT w.compound_id, w.cat_id, w.received_at, max(w.prev_at) FILTER (WHERE w.prev_at < w.received_at) AS prev_at
    FROM _rollup_w w SEMI JOIN _rollup_ties x USING (compound_id, cat_id, received_at)
    GROUP BY ALL
), rows AS (
    SELECT t.received_at, t.community_id, t.compound_id, x.cat_id, t.closed_at,
           row_number() OVER (PARTITION BY t.compound_id, x.cat_id, t.received_at ORDER BY t.ticket_id) AS n
    FROM tickets t
    JOIN _rollup_ties x ON x.compound_id = t.compound_id AND x.received_at = t.received_at
    JOIN ticket_categories k ON k.cat_id = x.cat_id AND k.category_l1 = t.category_l1
        AND k.category_l2 IS NOT DISTINCT FROM t.category_l2 AND k.category_l3 IS NOT DISTINCT FROM t.category_l3
)
SELECT r.received_at, r.community_id, r.compound_id, r.cat_id, r.closed_at,
       r.n > 1 OR coalesce(date_diff('day', p.prev_at::DATE, r.received_at::DATE) <= 90, FALSE) AS repeat
FROM rows r LEFT JOIN prev p USING (compound_id, cat_id, received_at)
"""
# the repeat flags that changed, as +1 / -1 per month, community and category
_REPEAT_DELTA_SQL = """
CREATE OR REPLACE TEMP TABLE _rollup_rdelta AS
SELECT date_trunc('month', received_at)::DATE AS month, community_id, cat_id, sum(d)::INTEGER AS repeats
FROM (SELECT received_at, community_id, cat_id, 1 AS d FROM _rollup_flips
      UNION ALL SELECT received_at, community_id, cat_id, 1 FROM _rollup_w
      WHERE is_new AND coalesce(date_diff('day', prev_at::DATE, received_at::DATE) <= 90, FALSE)
        AND NOT EXISTS (SELECT 1 FROM _rollup_ties x WHERE x.compound_id = _rollup_w.compound_id
                        AND x.cat_id = _rollup_w.cat_id AND x.received_at = _rollup_w.received_at)
      UNION ALL SELECT received_at, community_id, cat_id, 1 FROM _rollup_tie_rows WHERE repeat
      UNION ALL SELECT r.received_at, r.community_id, r.cat_id, -1 FROM ticket_repeats r
      SEMI JOIN _rollup_ties x USING (compound_id, cat_id, received_at) WHERE r.repeat)
GROUP BY ALL
"""
_APPLY_REPEATS_SQL = [
    """UPDATE ticket_repeats r SET repeat = TRUE FROM (SELECT DISTINCT compound_id, cat_id, received_at FROM _rollup_flips) f
       WHERE r.compound_id = f.compound_id AND r.cat_id = f.cat_id AND r.received_at = f.received_at AND NOT r.repeat""",
    """DELETE FROM ticket_repeats r USING _rollup_ties x
       WHERE r.compound_id = x.compound_id AND r.cat_id = x.cat_id AND r.received_at = x.received_at""",
    """INSERT INTO ticket_repeats
       SELECT received_at, community_id, compound_id, cat_id, closed_at, repeat FROM (
           SELECT received_at, community_id, compound_id, cat_id, closed_at,
                  coalesce(date_diff('day', prev_at::DATE, received_at::DATE) <= 90, FALSE) AS repeat
           FROM _rollup_w w
           WHERE is_new AND NOT EXISTS (SELECT 1 FROM _rollup_ties x WHERE x.compound_id = w.compound_id
                                        AND x.cat_id = w.cat_id AND x.received_at = w.received_at)
           UNION ALL SELECT * FROM _rollup_tie_rows)
       ORDER BY date_trunc('month', received_at), community_id, received_at""",
]
_COUNT_COLUMNS = ["tickets", "followups", "contacted", "solved", *LEVEL_COLUMNS, "closed", "closed_on_time", "repeats"]
_MONTHLY_DELTA_SQL = f"""
CREATE OR REPLACE TEMP TABLE _rollup_mdelta AS
SELECT month, community_id, category_l1, category_l2, category_l3,
       {", ".join(f"sum({c})::INTEGER AS {c}" for c in _COUNT_COLUMNS)}
FROM (
    SELECT date_trunc('month', received_at)::DATE AS month, community_id, category_l1, category_l2, category_l3,
           {_COUNTS},
           0 AS repeats
    FROM tickets WHERE batch_id = $batch
    GROUP BY ALL
    UNION ALL BY NAME
    SELECT d.month, d.community_id, k.category_l1, k.category_l2, k.category_l3,
           {", ".join(f"0 AS {c}" for c in _COUNT_COLUMNS[:-1])}, d.repeats
    FROM _rollup_rdelta d JOIN ticket_categories k USING (cat_id)
)
GROUP BY ALL
"""
# added to the rows of keys already there; keys new to ticket_monthly appended in its order
_MONTHLY_KEY = ("m.month = d.month AND m.community_id = d.community_id AND m.category_l1 = d.category_l1 "
                "AND m.category_l2 IS NOT DISTINCT FROM d.category_l2 AND m.category_l3 IS NOT DISTINCT FROM d.category_l3")
_APPLY_MONTHLY_SQL = [
    f"UPDATE ticket_monthly m SET {', '.join(f'{c} = m.{c} + d.{c}' for c in _COUNT_COLUMNS)} "
    f"FROM _rollup_mdelta d WHERE {_MONTHLY_KEY}",
    f"INSERT INTO ticket_monthly SELECT * FROM _rollup_mdelta d WHERE NOT EXISTS (SELECT 1 FROM ticket_monthly m "
    f"WHERE {_MONTHLY_KEY}) ORDER BY month, community_id, category_l1, category_l2, category_l3",
]
_TEMPS = ["_rollup_new", "_rollup_ties", "_rollup_w", "_rollup_flips", "_rollup_tie_rows", "_rollup_rdelta", "_rollup_mdelta"]


def add_tickets(con, batch: int) -> None:
    """Bring current rollups up to date after `batch` only added tickets (no ticket changed or went),
    inside the caller's transaction: the same tables as refresh_rollups would build, for a fraction
    of the work. The caller checks that the rollups were current before the batch."""
    p = {"batch": batch}
    new_cats = con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT category_l1, category_l2, category_l3 FROM tickets WHERE batch_id = $batch) n "
        "WHERE NOT EXISTS (SELECT 1 FROM ticket_categories k WHERE k.category_l1 = n.category_l1 "
        "AND k.category_l2 IS NOT DISTINCT FROM n.category_l2 AND k.category_l3 IS NOT DISTINCT FROM n.category_l3)",
        p).fetchone()[0]
    if new_cats:
        con.execute("CREATE OR REPLACE TEMP TABLE _rollup_old_cats AS SELECT * FROM ticket_categories")
        con.execute(CATEGORIES_SQL)
        con.execute("UPDATE ticket_repeats r SET cat_id = m.new_id FROM ("
                    "SELECT o.cat_id AS old_id, k.cat_id AS new_id FROM _rollup_old_cats o JOIN ticket_categories k "
                    "ON k.category_l1 = o.category_l1 AND k.category_l2 IS NOT DISTINCT FROM o.category_l2 "
                    "AND k.category_l3 IS NOT DISTINCT FROM o.category_l3 WHERE o.cat_id <> k.cat_id) m "
                    "WHERE r.cat_id = m.old_id")
        con.execute("DROP TABLE _rollup_old_cats")
    # (on an error the caller rolls back, which takes the temporary tables too)
    for sql in (_NEW_SQL, _TIES_SQL, _WINDOW_SQL, _FLIPS_SQL, _TIE_ROWS_SQL, _REPEAT_DELTA_SQL):
        con.execute(sql, p if "$batch" in sql else None)
    for sql in _APPLY_REPEATS_SQL:
        con.execute(sql)
    con.execute(_MONTHLY_DELTA_SQL, p)
    for sql in _APPLY_MONTHLY_SQL:
        con.execute(sql)
    for t in _TEMPS:
        con.execute(f"DROP TABLE {t}")
    con.execute(PERIOD_COUNTS_SQL)
    con.execute(_MARK_FRESH)


def current(con) -> bool:
    """Whether the rollup tables exist and reflect the data version, read on `con` itself (inside its
    transaction, unlike _state's own cursor)."""
    return con.execute(
        "SELECT (SELECT count(*) FROM information_schema.tables WHERE table_name IN "
        "('ticket_monthly', 'ticket_categories', 'ticket_repeats')) = 3 AND "
        "(SELECT value FROM meta WHERE key = 'rollup_version') IS NOT DISTINCT FROM "
        "(SELECT value FROM meta WHERE key = 'data_version')").fetchone()[0]


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
