-- Monthly ticket volume and follow-up outcomes of the selection, for tickets received in
-- [$start, $end] (T1-T4 and T5 numerators and denominators per month). Each month's satisfaction
-- is weighted by the level weights in force at that month's last day, so a later change of weights
-- does not rewrite earlier months. Months without tickets are returned with zeros.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: month (DATE), tickets, followups, contacted, solved, satisfied (weighted), closed
WITH sel AS (
    SELECT community_id FROM selected_communities($province, $city, $district, $street, $community)
),
months AS (
    SELECT m::DATE AS month, (m + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS month_end
    FROM range(date_trunc('month', $start::DATE), $end::DATE + INTERVAL 1 DAY, INTERVAL 1 MONTH) r(m)
),
level_weights AS (
    SELECT m.month, substr(s.key, length('satisfaction_weight_') + 1) AS level,
           arg_max(s.value, s.effective_from) AS w
    FROM months m JOIN settings s ON s.key LIKE 'satisfaction_weight_%' AND s.effective_from <= m.month_end
    GROUP BY m.month, s.key
),
t AS (
    SELECT date_trunc('month', t.received_at)::DATE AS month, t.satisfaction, t.contacted, t.solved, t.closed_at
    FROM tickets t JOIN sel USING (community_id)
    WHERE t.received_at >= $start AND t.received_at < $end + INTERVAL 1 DAY
),
agg AS (
    SELECT t.month,
           count(*) AS tickets,
           count(t.contacted) AS followups,
           count(*) FILTER (WHERE t.contacted) AS contacted,
           count(*) FILTER (WHERE t.contacted IS NOT NULL AND t.solved) AS solved,
           coalesce(sum(lw.w) FILTER (WHERE t.contacted IS NOT NULL), 0) AS satisfied,
           count(t.closed_at) AS closed
    FROM t LEFT JOIN level_weights lw ON lw.month = t.month AND lw.level = t.satisfaction
    GROUP BY t.month
)
SELECT months.month,
       coalesce(agg.tickets, 0) AS tickets,
       coalesce(agg.followups, 0) AS followups,
       coalesce(agg.contacted, 0) AS contacted,
       coalesce(agg.solved, 0) AS solved,
       coalesce(agg.satisfied, 0) AS satisfied,
       coalesce(agg.closed, 0) AS closed
FROM months LEFT JOIN agg USING (month)
ORDER BY months.month
