-- The tickets behind one practice's before/after comparison (CSV download): tickets of the
-- practice's community whose category_l1, l2 or l3 equals its related category, received from 6
-- months before its start month to 6 months after (exclusive).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $practice_id (INTEGER).
-- Columns: ticket_id, street, community, compound, category_l1, category_l2, category_l3, channel,
--   received_at, period (前/后: before or from the start month), closed_at, status, contacted,
--   solved, satisfaction
WITH p AS (
    SELECT p.community_id, p.related_category, date_trunc('month', p.started_on)::DATE AS start_month,
           s.street, s.community
    FROM practices p
    JOIN selected_communities($province, $city, $district, $street, $community) s USING (community_id)
    WHERE p.practice_id = $practice_id AND p.related_category IS NOT NULL
)
SELECT t.ticket_id, p.street, p.community, c.compound, t.category_l1, t.category_l2, t.category_l3,
       t.channel, t.received_at, CASE WHEN t.received_at < p.start_month THEN '前' ELSE '后' END AS period,
       t.closed_at, t.status, t.contacted, t.solved, t.satisfaction
FROM p
JOIN tickets t
  ON t.community_id = p.community_id
 AND p.related_category IN (t.category_l1, t.category_l2, t.category_l3)
 AND t.received_at >= p.start_month - INTERVAL 6 MONTH
 AND t.received_at < p.start_month + INTERVAL 6 MONTH
LEFT JOIN compounds c ON c.compound_id = t.compound_id
ORDER BY t.received_at, t.ticket_id
