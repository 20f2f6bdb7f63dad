-- Ticket volume and follow-up outcomes of each selected community, for tickets received in
-- [$start, $end] (T1-T5 numerators and denominators). A valid follow-up is one whose
-- `contacted` is known; satisfaction is weighted by the level weights in force at $end.
-- Counts come from the rollup ticket_monthly (see governance/rollups.py) for whole months.
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
weights AS (
    SELECT coalesce(max(w) FILTER (WHERE level = '非常满意'), 0) AS w1,
           coalesce(max(w) FILTER (WHERE level = '满意'), 0) AS w2,
           coalesce(max(w) FILTER (WHERE level = '基本满意'), 0) AS w3,
           coalesce(max(w) FILTER (WHERE level = '不满意'), 0) AS w4,
           coalesce(max(w) FILTER (WHERE level = '非常不满意'), 0) AS w5
    FROM level_weights
),
period_counts AS (
    -- whole months of the period from the rollup ticket_monthly; partial months at either edge from
    -- the raw tickets, so any [$start, $end] gives the same answer as counting raw tickets
    SELECT r.month, r.community_id, r.category_l1, r.category_l2, r.category_l3, r.tickets, r.followups,
           r.contacted, r.solved, r.sat_1, r.sat_2, r.sat_3, r.sat_4, r.sat_5, r.closed, r.closed_on_time
    FROM ticket_monthly r JOIN sel USING (community_id)
    WHERE r.month >= CASE WHEN day($start::DATE) = 1 THEN $start::DATE
                          ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END
      AND r.month < CASE WHEN $end::DATE = last_day($end::DATE) THEN $end::DATE + 1
                         ELSE date_trunc('month', $end::DATE)::DATE END
    UNION ALL
    SELECT date_trunc('month', t.received_at)::DATE, t.community_id, t.category_l1, t.category_l2, t.category_l3, 1,
           (t.contacted IS NOT NULL)::INTEGER, coalesce(t.contacted, FALSE)::INTEGER,
           (t.contacted IS NOT NULL AND coalesce(t.solved, FALSE))::INTEGER,
           (t.contacted IS NOT NULL AND t.satisfaction IS NOT DISTINCT FROM '非常满意')::INTEGER,
           (t.contacted IS NOT NULL AND t.satisfaction IS NOT DISTINCT FROM '满意')::INTEGER,
           (t.contacted IS NOT NULL AND t.satisfaction IS NOT DISTINCT FROM '基本满意')::INTEGER,
           (t.contacted IS NOT NULL AND t.satisfaction IS NOT DISTINCT FROM '不满意')::INTEGER,
           (t.contacted IS NOT NULL AND t.satisfaction IS NOT DISTINCT FROM '非常不满意')::INTEGER,
           (t.closed_at IS NOT NULL)::INTEGER,
           (t.closed_at IS NOT NULL AND (t.due_at IS NULL OR t.closed_at <= t.due_at))::INTEGER
    FROM tickets t JOIN sel USING (community_id)
    WHERE (t.received_at >= $start AND t.received_at < least(
              CASE WHEN day($start::DATE) = 1 THEN $start::DATE
                   ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END, $end::DATE + 1))
       OR (t.received_at >= greatest($start::DATE,
              CASE WHEN day($start::DATE) = 1 THEN $start::DATE
                   ELSE (date_trunc('month', $start::DATE) + INTERVAL 1 MONTH)::DATE END,
              CASE WHEN $end::DATE = last_day($end::DATE) THEN $end::DATE + 1
                   ELSE date_trunc('month', $end::DATE)::DATE END)
           AND t.received_at < $end + INTERVAL 1 DAY)
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
       coalesce(agg.satisfied, 0)::DOUBLE AS satisfied,
       coalesce(agg.closed, 0)::BIGINT AS closed,
       coalesce(agg.closed_on_time, 0)::BIGINT AS closed_on_time
FROM sel
LEFT JOIN agg USING (community_id)
ORDER BY sel.street, sel.community
