-- Monthly ticket volume and follow-up outcomes of the selection, for tickets received in
-- [$start, $end] (T1-T4 and T5 numerators and denominators per month). Each month's satisfaction
-- is weighted by the level weights in force at that month's last day, so a later change of weights
-- does not rewrite earlier months. Months without tickets are returned with zeros.
-- Counts come from the rollup ticket_monthly (see governance/rollups.py) for whole months.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: month (DATE), tickets, followups, contacted, solved, satisfied (weighted; NULL when a
--   level weight is missing), closed
WITH months AS (
    SELECT m::DATE AS month, (m + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS month_end
    FROM range(date_trunc('month', $start::DATE), $end::DATE + INTERVAL 1 DAY, INTERVAL 1 MONTH) r(m)
),
weights AS (
    -- each month's weights: those in force at its last day (governance/schema.py)
    SELECT m.month, w.* FROM months m, LATERAL (SELECT * FROM satisfaction_weights(m.month_end)) w
),
period_counts AS (
    -- whole months from the rollup, partial edge months from the raw tickets (governance/rollups.py)
    SELECT * FROM ticket_period_counts($province, $city, $district, $street, $community, $start, $end)
),
agg AS (
    SELECT c.month,
           sum(c.tickets) AS tickets,
           sum(c.followups) AS followups,
           sum(c.contacted) AS contacted,
           sum(c.solved) AS solved,
           sum(c.sat_1) * w.w1 + sum(c.sat_2) * w.w2 + sum(c.sat_3) * w.w3
               + sum(c.sat_4) * w.w4 + sum(c.sat_5) * w.w5 AS satisfied,
           sum(c.closed) AS closed
    FROM period_counts c LEFT JOIN weights w USING (month)
    GROUP BY c.month, w.w1, w.w2, w.w3, w.w4, w.w5
)
SELECT months.month,
       coalesce(agg.tickets, 0)::BIGINT AS tickets,
       coalesce(agg.followups, 0)::BIGINT AS followups,
       coalesce(agg.contacted, 0)::BIGINT AS contacted,
       coalesce(agg.solved, 0)::BIGINT AS solved,
       -- NULL (not 0) when a satisfaction level weight is missing that month: T4 is then 无数据
       CASE WHEN agg.month IS NULL THEN 0 ELSE agg.satisfied END::DOUBLE AS satisfied,
       coalesce(agg.closed, 0)::BIGINT AS closed
FROM months LEFT JOIN agg USING (month)
ORDER BY months.month
