-- Ticket volume and follow-up outcomes by category (level 1 > 2 > 3) for tickets received in
-- [$start, $end] in the selected communities; satisfaction weighted by the level weights in force
-- at $end. Missing lower levels are returned as NULL. Largest categories first.
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
)
SELECT t.category_l1, t.category_l2, t.category_l3,
       count(*) AS tickets,
       count(t.contacted) AS followups,
       count(*) FILTER (WHERE t.contacted) AS contacted,
       count(*) FILTER (WHERE t.contacted IS NOT NULL AND t.solved) AS solved,
       coalesce(sum(lw.w) FILTER (WHERE t.contacted IS NOT NULL), 0) AS satisfied,
       count(t.closed_at) AS closed
FROM tickets t
JOIN sel USING (community_id)
LEFT JOIN level_weights lw ON lw.level = t.satisfaction
WHERE t.received_at >= $start AND t.received_at < $end + INTERVAL 1 DAY
GROUP BY t.category_l1, t.category_l2, t.category_l3
ORDER BY tickets DESC, t.category_l1, t.category_l2 NULLS LAST, t.category_l3 NULLS LAST
