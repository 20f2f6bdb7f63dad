-- Ticket volume and follow-up outcomes by category (level 1 > 2 > 3) for tickets received in
-- [$start, $end] in the selected communities; satisfaction weighted by the level weights in force
-- at $end. Missing lower levels are returned as NULL. Largest categories first.
-- Counts come from the rollup ticket_monthly (see governance/rollups.py) for whole months.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: category_l1, category_l2, category_l3, tickets, followups, contacted, solved,
--   satisfied (weighted; NULL when a level weight is missing), closed
WITH weights AS (
    SELECT * FROM satisfaction_weights($end)   -- in force at the period's end (governance/schema.py)
),
period_counts AS (
    -- whole months from the rollup, partial edge months from the raw tickets (governance/rollups.py)
    SELECT * FROM ticket_period_counts($province, $city, $district, $street, $community, $start, $end)
)
SELECT c.category_l1, c.category_l2, c.category_l3,
       sum(c.tickets)::BIGINT AS tickets,
       sum(c.followups)::BIGINT AS followups,
       sum(c.contacted)::BIGINT AS contacted,
       sum(c.solved)::BIGINT AS solved,
       (sum(c.sat_1) * w.w1 + sum(c.sat_2) * w.w2 + sum(c.sat_3) * w.w3 + sum(c.sat_4) * w.w4 + sum(c.sat_5) * w.w5)::DOUBLE AS satisfied,
       sum(c.closed)::BIGINT AS closed
FROM period_counts c CROSS JOIN weights w
GROUP BY c.category_l1, c.category_l2, c.category_l3, w.w1, w.w2, w.w3, w.w4, w.w5
ORDER BY tickets DESC, c.category_l1, c.category_l2 NULLS LAST, c.category_l3 NULLS LAST
