-- Tickets and reporting communities of every category (level 1 > 2 > 3) per month of [$start, $end]
-- in the selected communities: the 6-month trend of the bulletin's 每月一题 candidates. Counts come
-- from the same rollup as tickets/by_category.sql (ticket_period_counts, governance/rollups.py).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: category_l1, category_l2, category_l3, month (DATE), tickets, communities
SELECT c.category_l1, c.category_l2, c.category_l3, c.month,
       sum(c.tickets)::BIGINT AS tickets,
       count(DISTINCT c.community_id)::BIGINT AS communities
FROM ticket_period_counts($province, $city, $district, $street, $community, $start, $end) c
GROUP BY ALL
ORDER BY c.category_l1, c.category_l2 NULLS FIRST, c.category_l3 NULLS FIRST, c.month
