-- Ticket volume and follow-up outcomes of each selected community, for tickets received in
-- [$start, $end] (T1-T5 numerators and denominators). A valid follow-up is one whose
-- `contacted` is known; satisfaction is weighted by the level weights in force at $end.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: community_id, street, community, residents, tickets, followups, contacted, solved,
--   satisfied (weighted), closed, closed_on_time
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
level_weights AS (
    SELECT substr(key, length('satisfaction_weight_') + 1) AS level, arg_max(value, effective_from) AS w
    FROM settings
    WHERE key LIKE 'satisfaction_weight_%' AND effective_from <= $end
    GROUP BY key
),
t AS (
    SELECT t.community_id, t.contacted, t.solved, t.closed_at, t.due_at, lw.w
    FROM tickets t
    JOIN sel USING (community_id)
    LEFT JOIN level_weights lw ON lw.level = t.satisfaction
    WHERE t.received_at >= $start AND t.received_at < $end + INTERVAL 1 DAY
),
agg AS (
    SELECT community_id,
           count(*) AS tickets,
           count(contacted) AS followups,
           count(*) FILTER (WHERE contacted) AS contacted,
           count(*) FILTER (WHERE contacted IS NOT NULL AND solved) AS solved,
           coalesce(sum(w) FILTER (WHERE contacted IS NOT NULL), 0) AS satisfied,
           count(closed_at) AS closed,
           count(*) FILTER (WHERE closed_at IS NOT NULL AND (due_at IS NULL OR closed_at <= due_at)) AS closed_on_time
    FROM t
    GROUP BY community_id
)
SELECT sel.community_id, sel.street, sel.community, sel.residents,
       coalesce(agg.tickets, 0) AS tickets,
       coalesce(agg.followups, 0) AS followups,
       coalesce(agg.contacted, 0) AS contacted,
       coalesce(agg.solved, 0) AS solved,
       coalesce(agg.satisfied, 0) AS satisfied,
       coalesce(agg.closed, 0) AS closed,
       coalesce(agg.closed_on_time, 0) AS closed_on_time
FROM sel
LEFT JOIN agg USING (community_id)
ORDER BY sel.street, sel.community
