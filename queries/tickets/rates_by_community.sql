-- Ticket volume and follow-up outcomes of each selected community, for tickets received in
-- [$start, $end] (T1-T5 numerators and denominators). A valid follow-up is one whose
-- `contacted` is known; satisfaction is weighted by the level weights in force at $end.
-- Counts come from the rollup ticket_monthly (see governance/rollups.py) for whole months.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: community_id, street, community, residents, tickets, followups, contacted, solved,
--   satisfied (weighted; NULL when a level weight is missing), closed, closed_on_time
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
weights AS (
    SELECT * FROM satisfaction_weights($end)   -- in force at the period's end (governance/schema.py)
),
period_counts AS (
    -- whole months from the rollup, partial edge months from the raw tickets (governance/rollups.py)
    SELECT * FROM ticket_period_counts($province, $city, $district, $street, $community, $start, $end)
),
agg AS (
    SELECT c.community_id,
           sum(c.tickets) AS tickets,
           sum(c.followups) AS followups,
           sum(c.contacted) AS contacted,
           sum(c.solved) AS solved,
           sum(c.sat_1) * w.w1 + sum(c.sat_2) * w.w2 + sum(c.sat_3) * w.w3 + sum(c.sat_4) * w.w4 + sum(c.sat_5) * w.w5 AS satisfied,
           sum(c.closed) AS closed,
           sum(c.closed_on_time) AS closed_on_time
    FROM period_counts c CROSS JOIN weights w
    GROUP BY c.community_id, w.w1, w.w2, w.w3, w.w4, w.w5
)
SELECT sel.community_id, sel.street, sel.community, sel.residents,
       coalesce(agg.tickets, 0)::BIGINT AS tickets,
       coalesce(agg.followups, 0)::BIGINT AS followups,
       coalesce(agg.contacted, 0)::BIGINT AS contacted,
       coalesce(agg.solved, 0)::BIGINT AS solved,
       -- NULL (not 0) when a satisfaction level weight is missing: T4 is then 无数据, never a number
       CASE WHEN agg.community_id IS NULL THEN 0 ELSE agg.satisfied END::DOUBLE AS satisfied,
       coalesce(agg.closed, 0)::BIGINT AS closed,
       coalesce(agg.closed_on_time, 0)::BIGINT AS closed_on_time
FROM sel
LEFT JOIN agg USING (community_id)
ORDER BY sel.street, sel.community
