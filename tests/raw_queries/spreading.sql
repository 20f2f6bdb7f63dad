-- 举一反三, spreading: categories that appear in many communities of the selection in the same
-- months. For each category (category_l1/l2/l3) and month of [$start, $end]: the number of selected
-- communities with at least one ticket of it, and as a baseline the average of that number over
-- the 6 months before (months without tickets count as 0). A category spreads in a month when it
-- appears in at least $min_communities communities. The $top categories that spread in some month
-- are returned, ranked by how far their peak exceeds the baseline, then by the peak; one row per
-- category and month of the period, with the category's summary repeated on each row.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE),
--   $min_communities, $top (INTEGER).
-- Columns: rank, categories_spreading (how many categories spread, before the $top cut),
--   category_l1, category_l2, category_l3, month (DATE), communities, tickets, baseline,
--   spreading (BOOLEAN), peak_month (DATE), peak_communities, peak_baseline, spread_months,
--   first_spread_month, last_spread_month (DATE), spread_tickets (tickets in its spreading months),
--   selected_communities
WITH sel AS (
    SELECT community_id FROM selected_communities($province, $city, $district, $street, $community)
),
months AS (
    SELECT m::DATE AS month
    FROM range(date_trunc('month', $start::DATE) - INTERVAL 6 MONTH, $end::DATE + INTERVAL 1 DAY, INTERVAL 1 MONTH) r(m)
),
counts AS (
    SELECT t.category_l1, t.category_l2, t.category_l3, date_trunc('month', t.received_at)::DATE AS month,
           count(DISTINCT t.community_id) AS communities, count(*) AS tickets
    FROM tickets t JOIN sel USING (community_id)
    WHERE t.received_at >= date_trunc('month', $start::DATE) - INTERVAL 6 MONTH
      AND t.received_at < $end + INTERVAL 1 DAY
    GROUP BY ALL
),
categories AS (SELECT DISTINCT category_l1, category_l2, category_l3 FROM counts),
grid AS (
    SELECT k.category_l1, k.category_l2, k.category_l3, m.month,
           coalesce(c.communities, 0) AS communities, coalesce(c.tickets, 0) AS tickets,
           coalesce(avg(coalesce(c.communities, 0)) OVER (
               PARTITION BY k.category_l1, k.category_l2, k.category_l3 ORDER BY m.month
               ROWS BETWEEN 6 PRECEDING AND 1 PRECEDING), 0) AS baseline
    FROM categories k CROSS JOIN months m
    LEFT JOIN counts c ON c.category_l1 = k.category_l1
        AND c.category_l2 IS NOT DISTINCT FROM k.category_l2
        AND c.category_l3 IS NOT DISTINCT FROM k.category_l3
        AND c.month = m.month
),
in_period AS (
    SELECT *, communities >= $min_communities AS spreading
    FROM grid WHERE month >= date_trunc('month', $start::DATE)
),
summary AS (
    SELECT category_l1, category_l2, category_l3,
           arg_max(month, (communities - baseline, communities, month)) AS peak_month,
           max(communities) AS peak_communities,
           arg_max(baseline, (communities - baseline, communities, month)) AS peak_baseline,
           max(communities - baseline) AS peak_excess,
           count(*) FILTER (WHERE spreading) AS spread_months,
           min(month) FILTER (WHERE spreading) AS first_spread_month,
           max(month) FILTER (WHERE spreading) AS last_spread_month,
           coalesce(sum(tickets) FILTER (WHERE spreading), 0) AS spread_tickets
    FROM in_period
    GROUP BY ALL
    HAVING count(*) FILTER (WHERE spreading) > 0
),
ranked AS (
    SELECT *, row_number() OVER (ORDER BY peak_excess DESC, peak_communities DESC, spread_months DESC,
                                          category_l1, category_l2, category_l3) AS rank,
           count(*) OVER () AS categories_spreading
    FROM summary
)
SELECT r.rank, r.categories_spreading, g.category_l1, g.category_l2, g.category_l3, g.month,
       g.communities, g.tickets, g.baseline, g.spreading,
       r.peak_month, r.peak_communities, r.peak_baseline, r.spread_months, r.first_spread_month,
       r.last_spread_month, r.spread_tickets,
       (SELECT count(*) FROM sel) AS selected_communities
FROM ranked r
JOIN in_period g ON g.category_l1 = r.category_l1
    AND g.category_l2 IS NOT DISTINCT FROM r.category_l2
    AND g.category_l3 IS NOT DISTINCT FROM r.category_l3
WHERE r.rank <= $top
ORDER BY r.rank, g.month
