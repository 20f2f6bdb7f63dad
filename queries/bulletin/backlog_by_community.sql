-- T7 backlog at $as_of per selected community, with the same rule as tickets/summary.sql: tickets
-- received on or before $as_of and not closed by the end of $as_of, age in calendar days from the
-- received date to $as_of; `old` counts those older than 30 days (T7's "> 30 天" band).
-- Communities without backlog are left out. Oldest first.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $as_of (DATE).
-- Columns: community_id, street, community, backlog, old, oldest_received (DATE)
WITH sel AS (
    SELECT community_id, street, community
    FROM selected_communities($province, $city, $district, $street, $community)
),
open_tickets AS (
    SELECT t.community_id, t.received_at, date_diff('day', t.received_at::DATE, $as_of::DATE) AS age
    FROM tickets t JOIN sel USING (community_id)
    WHERE t.received_at < $as_of + INTERVAL 1 DAY
      AND (t.closed_at IS NULL OR t.closed_at >= $as_of + INTERVAL 1 DAY)
)
SELECT sel.community_id, sel.street, sel.community,
       count(*) AS backlog,
       count(*) FILTER (WHERE o.age > 30) AS old,
       min(o.received_at)::DATE AS oldest_received
FROM open_tickets o JOIN sel USING (community_id)
GROUP BY ALL
ORDER BY old DESC, backlog DESC, sel.street, sel.community
