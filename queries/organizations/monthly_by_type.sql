-- Month by month over the period, per organisation type: organisations founded and dissolved in
-- the month, and active at the month's end (founded_on <= month end and not dissolved by it).
-- Months run from the month of $start to the month of $end; the last month ends at $end.
-- Types are those of the selection's organisations founded by $end, so a quiet month is a row of zeros.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: month (DATE), type, founded, dissolved, active, active_total (all types, month end)
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
o AS (
    SELECT o.* FROM social_orgs o JOIN sel USING (community_id) WHERE o.founded_on <= $end
),
months AS (
    SELECT CAST(m AS DATE) AS month,
           least(CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), CAST($end AS DATE)) AS month_end
    FROM generate_series(CAST(date_trunc('month', $start) AS TIMESTAMP),
                         CAST(date_trunc('month', $end) AS TIMESTAMP), INTERVAL 1 MONTH) AS g(m)
),
types AS (
    SELECT DISTINCT type FROM o
),
grid AS (
    SELECT months.month, months.month_end, types.type FROM months CROSS JOIN types
),
counts AS (
    SELECT g.month, g.type,
           count(o.org_id) FILTER (WHERE o.founded_on BETWEEN g.month AND g.month_end) AS founded,
           count(o.org_id) FILTER (WHERE o.dissolved_on BETWEEN g.month AND g.month_end) AS dissolved,
           count(o.org_id) FILTER (WHERE o.founded_on <= g.month_end
                                   AND (o.dissolved_on IS NULL OR o.dissolved_on > g.month_end)) AS active
    FROM grid g LEFT JOIN o ON o.type = g.type
    GROUP BY g.month, g.type
)
SELECT month, type, founded, dissolved, active,
       sum(active) OVER (PARTITION BY month) AS active_total
FROM counts
ORDER BY month, type
