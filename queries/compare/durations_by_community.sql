-- T6 handling time of every community inside the user's scope: median and P90 days from received to closed, for tickets
-- received in [$start, $end] that are closed (same rule as tickets/summary, which gives one
-- selection-wide row; ranking needs one row per community).
-- Parameters: $start, $end (DATE).
-- Columns: community_id, closed, median_days, p90_days (NULL when nothing is closed)
WITH sel AS (
    SELECT community_id FROM selected_communities(NULL, NULL, NULL, NULL, NULL)
),
period AS (
    SELECT t.community_id, t.received_at, t.closed_at
    FROM tickets t JOIN sel USING (community_id)
    WHERE t.received_at >= $start AND t.received_at < $end + INTERVAL 1 DAY
),
handling AS (
    SELECT community_id,
           count(closed_at) AS closed,
           median(epoch(closed_at - received_at) / 86400.0) AS median_days,
           quantile_cont(epoch(closed_at - received_at) / 86400.0, 0.9) AS p90_days
    FROM period
    GROUP BY community_id
)
SELECT c.community_id,
       coalesce(h.closed, 0) AS closed,
       h.median_days,
       h.p90_days
FROM sel c
LEFT JOIN handling h USING (community_id)
ORDER BY c.community_id
