-- 举一反三, before/after: for each practice of the selected communities that names a related
-- category (matching any of category_l1/l2/l3), the monthly number of tickets of that category in
-- that community, 6 months before the practice's start month (rel_month -6..-1) and 6 months from
-- it (0..5; the start month counts as after). Months outside the data (before the first or after
-- the last month with any ticket) are returned with tickets NULL, not 0. Independent of the period.
-- Parameters: $province, $city, $district, $street, $community (NULL = all).
-- Columns: practice_id, community_id, street, community, practice, started_on, related_category,
--   month (DATE), rel_month, tickets
WITH sel AS (
    SELECT community_id, street, community
    FROM selected_communities($province, $city, $district, $street, $community)
),
p AS (
    SELECT p.practice_id, p.community_id, sel.street, sel.community, p.practice, p.started_on,
           p.related_category, date_trunc('month', p.started_on)::DATE AS start_month
    FROM practices p JOIN sel USING (community_id)
    WHERE p.related_category IS NOT NULL
),
data_months AS (
    SELECT date_trunc('month', min(received_at))::DATE AS first_month,
           date_trunc('month', max(received_at))::DATE AS last_month
    FROM tickets
),
spine AS (
    SELECT p.*, k AS rel_month, (p.start_month + to_months(k))::DATE AS month
    FROM p CROSS JOIN range(-6, 6) r(k)
),
counts AS (
    SELECT p.practice_id, date_trunc('month', t.received_at)::DATE AS month, count(*) AS tickets
    FROM p JOIN tickets t
      ON t.community_id = p.community_id
     AND p.related_category IN (t.category_l1, t.category_l2, t.category_l3)
     AND t.received_at >= p.start_month - INTERVAL 6 MONTH
     AND t.received_at < p.start_month + INTERVAL 6 MONTH
    GROUP BY ALL
)
SELECT s.practice_id, s.community_id, s.street, s.community, s.practice, s.started_on, s.related_category,
       s.month, s.rel_month,
       CASE WHEN s.month BETWEEN d.first_month AND d.last_month THEN coalesce(c.tickets, 0) END AS tickets
FROM spine s
CROSS JOIN data_months d
LEFT JOIN counts c ON c.practice_id = s.practice_id AND c.month = s.month
ORDER BY s.started_on, s.community, s.practice_id, s.rel_month
