-- Ticket volume and follow-up outcomes by category (level 1 > 2 > 3) for tickets received in
-- [$start, $end] in the selected communities; satisfaction weighted by the level weights in force
-- at $end. Missing lower levels are returned as NULL. Largest categories first.
-- Counts come from the rollup ticket_monthly (see governance/rollups.py) for whole months.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: category_l1, category_l2, category_l3, tickets, followups, contacted, solved,
--   satisfied (weighted), closed
WITH sel AS (
    SELECT community_id FROM selected_communities($province, $city, $district, $street, $community)
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
