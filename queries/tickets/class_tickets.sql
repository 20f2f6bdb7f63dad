-- The tickets of one class of problems, for the team that will fix it (CSV download).
-- A class is a category (matched on category_l1/l2/l3 exactly, NULL-safe) received in
-- [$from_day, $to_day] in the selected communities, optionally narrowed to one community
-- ($community_id) and/or one compound ($compound_id); NULL means no narrowing.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $category_l1,
--   $category_l2, $category_l3 (VARCHAR), $community_id, $compound_id (INTEGER or NULL),
--   $from_day, $to_day (DATE, inclusive).
-- Columns: ticket_id, street, community, compound, category_l1, category_l2, category_l3, channel,
--   received_at, due_at, closed_at, status, contacted, solved, satisfaction
SELECT t.ticket_id, s.street, s.community, c.compound, t.category_l1, t.category_l2, t.category_l3,
       t.channel, t.received_at, t.due_at, t.closed_at, t.status, t.contacted, t.solved, t.satisfaction
FROM tickets t
JOIN selected_communities($province, $city, $district, $street, $community) s USING (community_id)
LEFT JOIN compounds c ON c.compound_id = t.compound_id
WHERE t.category_l1 = $category_l1
  AND t.category_l2 IS NOT DISTINCT FROM $category_l2
  AND t.category_l3 IS NOT DISTINCT FROM $category_l3
  AND ($community_id IS NULL OR t.community_id = $community_id)
  AND ($compound_id IS NULL OR t.compound_id = $compound_id)
  AND t.received_at >= $from_day AND t.received_at < $to_day + INTERVAL 1 DAY
ORDER BY t.received_at, t.ticket_id
