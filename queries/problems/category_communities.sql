-- Where a ticket category occurs: the selected communities with tickets of exactly this category
-- (level 1, 2, 3; NULL levels match NULL) received in [$start, $end], most tickets first. The default
-- communities of a 每月一题 adopted from a candidate.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE),
--   $category_l1, $category_l2, $category_l3.
-- Columns: community_id, street, community, tickets
SELECT s.community_id, s.street, s.community, sum(c.tickets)::BIGINT AS tickets
FROM ticket_period_counts($province, $city, $district, $street, $community, $start, $end) c
JOIN selected_communities($province, $city, $district, $street, $community) s USING (community_id)
WHERE c.category_l1 = $category_l1
  AND c.category_l2 IS NOT DISTINCT FROM $category_l2
  AND c.category_l3 IS NOT DISTINCT FROM $category_l3
GROUP BY ALL
ORDER BY tickets DESC, s.street, s.community
