-- Selection-wide ticket figures that cannot be summed from per-community rows: T6 handling time
-- (median and P90 days from received to closed, tickets received in [$start, $end] that are closed),
-- T7 backlog at $as_of by age, and T8 repeat tickets.
-- T7: tickets received on or before $as_of and not closed by the end of $as_of (a ticket closed
--   after $as_of was still open at $as_of), whatever month they were received in; age in calendar
--   days from the received date to $as_of: <= 7, 8-30, > 30.
-- T8: a ticket received in the period repeats when the previous ticket of the same category
--   (category_l1/l2/l3) in the same compound was received at most 90 calendar days before it (day 90
--   counts, day 91 does not); tickets without a compound never repeat but stay in the denominator.
-- T8 for whole months comes from the rollup ticket_monthly (see governance/rollups.py).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end, $as_of (DATE).
-- Columns: tickets, closed, median_days, p90_days, backlog, backlog_le7, backlog_8_30, backlog_gt30,
--   repeats
WITH sel AS (
    SELECT community_id FROM selected_communities($province, $city, $district, $street, $community)
),
period AS (
    SELECT t.received_at, t.closed_at
    FROM tickets t JOIN sel USING (community_id)
    WHERE t.received_at >= $start AND t.received_at < $end + INTERVAL 1 DAY
),
handling AS (
    -- median and P90 (continuous quantiles: median = quantile_cont 0.5) from one aggregate, which
    -- collects the durations once instead of twice
    SELECT tickets, closed, q[1] AS median_days, q[2] AS p90_days
    FROM (SELECT count(*) AS tickets,
                 count(closed_at) AS closed,
                 quantile_cont(epoch(closed_at - received_at) / 86400.0, [0.5, 0.9]) AS q
          FROM period)
),
backlog AS (
    SELECT count(*) AS backlog,
           count(*) FILTER (WHERE age <= 7) AS backlog_le7,
           count(*) FILTER (WHERE age BETWEEN 8 AND 30) AS backlog_8_30,
           count(*) FILTER (WHERE age > 30) AS backlog_gt30
    FROM (
        SELECT date_diff('day', t.received_at::DATE, $as_of::DATE) AS age
        FROM tickets t JOIN sel USING (community_id)
        WHERE t.received_at < $as_of + INTERVAL 1 DAY
          AND (t.closed_at IS NULL OR t.closed_at >= $as_of + INTERVAL 1 DAY)
    )
),
-- Whole months of the period: repeats counted once for all in the rollup ticket_monthly (a ticket's
-- repeat status does not depend on the period). Partial months at either edge: from the raw tickets,
-- with the 90-day look-back reaching before the edge.
full_repeats AS (
    SELECT coalesce(sum(r.repeats), 0) AS repeats
    FROM ticket_monthly r JOIN sel USING (community_id)
    WHERE r.month >= CASE WHEN day($start::DATE) = 1 THEN $start::DATE ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END
      AND r.month < CASE WHEN $end::DATE = last_day($end::DATE) THEN $end::DATE + 1 ELSE date_trunc('month', $end::DATE)::DATE END
),
edges AS (
    SELECT $start::DATE AS lo, least(CASE WHEN day($start::DATE) = 1 THEN $start::DATE ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END, $end::DATE + 1) AS hi
    UNION ALL
    SELECT greatest($start::DATE, CASE WHEN day($start::DATE) = 1 THEN $start::DATE ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END, CASE WHEN $end::DATE = last_day($end::DATE) THEN $end::DATE + 1 ELSE date_trunc('month', $end::DATE)::DATE END), $end::DATE + 1
),
recent AS (
    SELECT t.received_at,
           lag(t.received_at) OVER (PARTITION BY t.compound_id, t.category_l1, t.category_l2, t.category_l3
                                    ORDER BY t.received_at, t.ticket_id) AS previous_at
    FROM tickets t JOIN sel USING (community_id)
    WHERE t.compound_id IS NOT NULL
      -- an empty edge (the period starts or ends on a month boundary) reads nothing
      AND ((t.received_at >= $start - INTERVAL 91 DAY
            AND t.received_at < least(CASE WHEN day($start::DATE) = 1 THEN $start::DATE ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END, $end::DATE + 1)
            AND $start::DATE < least(CASE WHEN day($start::DATE) = 1 THEN $start::DATE ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END, $end::DATE + 1))
        OR (t.received_at >= greatest($start::DATE, CASE WHEN day($start::DATE) = 1 THEN $start::DATE ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END, CASE WHEN $end::DATE = last_day($end::DATE) THEN $end::DATE + 1 ELSE date_trunc('month', $end::DATE)::DATE END) - INTERVAL 91 DAY
            AND t.received_at < $end + INTERVAL 1 DAY
            AND greatest($start::DATE, CASE WHEN day($start::DATE) = 1 THEN $start::DATE ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END, CASE WHEN $end::DATE = last_day($end::DATE) THEN $end::DATE + 1 ELSE date_trunc('month', $end::DATE)::DATE END) < $end::DATE + 1))
),
edge_repeats AS (
    SELECT count(*) AS repeats
    FROM recent JOIN edges ON recent.received_at >= edges.lo AND recent.received_at < edges.hi
    WHERE date_diff('day', previous_at::DATE, received_at::DATE) <= 90
),
repeats AS (
    SELECT full_repeats.repeats + edge_repeats.repeats AS repeats FROM full_repeats, edge_repeats
)
SELECT handling.tickets, handling.closed, handling.median_days, handling.p90_days,
       backlog.backlog, backlog.backlog_le7, backlog.backlog_8_30, backlog.backlog_gt30,
       repeats.repeats
FROM handling, backlog, repeats
