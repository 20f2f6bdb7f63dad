-- 每月一题 进展: every practice of the selected communities that names a related category (an
-- adopted class problem is such a practice) and started on or before $end, with the monthly number
-- of tickets of that category (matching category_l1, l2 or l3, as tickets/before_after.sql) in its
-- community, from 6 months before its start month through the month of $end. Months outside the
-- data (before the first or after the last month with any ticket) have tickets NULL, not 0.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $end (DATE).
-- Columns: practice_id, batch_id (its import batch: one per adopted 每月一题), street, community, practice,
--   started_on, related_category, description, month (DATE),
--   rel_month (months from the start month; negative = before), tickets
WITH sel AS (
    SELECT community_id, street, community
    FROM selected_communities($province, $city, $district, $street, $community)
),
p AS (
    SELECT p.practice_id, p.batch_id, p.community_id, sel.street, sel.community, p.practice, p.started_on,
           p.related_category, p.description, date_trunc('month', p.started_on)::DATE AS start_month
    FROM practices p JOIN sel USING (community_id)
    WHERE p.related_category IS NOT NULL AND p.started_on <= $end
),
data_months AS (
    SELECT date_trunc('month', min(received_at))::DATE AS first_month,
           date_trunc('month', max(received_at))::DATE AS last_month
    FROM tickets
),
spine AS (
    SELECT p.*, m::DATE AS month, date_diff('month', p.start_month, m::DATE) AS rel_month
    FROM p, LATERAL (SELECT * FROM range(p.start_month - INTERVAL 6 MONTH,
                                         date_trunc('month', $end::DATE) + INTERVAL 1 MONTH, INTERVAL 1 MONTH) r(m))
),
counts AS (
    SELECT p.practice_id, date_trunc('month', t.received_at)::DATE AS month, count(*) AS tickets
    FROM p JOIN tickets t
      ON t.community_id = p.community_id
     AND p.related_category IN (t.category_l1, t.category_l2, t.category_l3)
     AND t.received_at >= p.start_month - INTERVAL 6 MONTH
     AND t.received_at < date_trunc('month', $end::DATE) + INTERVAL 1 MONTH
    GROUP BY ALL
)
SELECT s.practice_id, s.batch_id, s.street, s.community, s.practice, s.started_on, s.related_category, s.description,
       s.month, s.rel_month,
       CASE WHEN s.month BETWEEN d.first_month AND d.last_month THEN coalesce(c.tickets, 0) END AS tickets
FROM spine s
CROSS JOIN data_months d
LEFT JOIN counts c ON c.practice_id = s.practice_id AND c.month = s.month
ORDER BY s.started_on, s.community, s.practice_id, s.month
