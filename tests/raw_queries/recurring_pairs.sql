-- 举一反三, recurring: category x compound pairs of the selection with repeat tickets (T8) among
-- the tickets received in [$start, $end], worst first. A ticket repeats when the previous ticket
-- of the same category (category_l1/l2/l3) in the same compound was received at most 90 calendar
-- days before it (day 90 counts, day 91 does not; the look-back reaches before $start).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: community_id, street, community, compound_id, compound, category_l1, category_l2,
--   category_l3, tickets (in the period), repeats, first_received, last_received (DATE),
--   recent_dates (text: the latest up to 8 received dates, newest first), open_now (not closed by $end)
WITH sel AS (
    SELECT community_id, street, community
    FROM selected_communities($province, $city, $district, $street, $community)
),
recent AS (
    SELECT t.community_id, t.compound_id, t.category_l1, t.category_l2, t.category_l3,
           t.received_at, t.closed_at,
           lag(t.received_at) OVER (PARTITION BY t.compound_id, t.category_l1, t.category_l2, t.category_l3
                                    ORDER BY t.received_at, t.ticket_id) AS previous_at
    FROM tickets t JOIN sel USING (community_id)
    WHERE t.compound_id IS NOT NULL
      AND t.received_at >= $start - INTERVAL 91 DAY AND t.received_at < $end + INTERVAL 1 DAY
),
pairs AS (
    SELECT community_id, compound_id, category_l1, category_l2, category_l3,
           count(*) AS tickets,
           count(*) FILTER (WHERE date_diff('day', previous_at::DATE, received_at::DATE) <= 90) AS repeats,
           min(received_at)::DATE AS first_received,
           max(received_at)::DATE AS last_received,
           array_to_string(list(strftime(received_at, '%Y-%m-%d') ORDER BY received_at DESC)[1:8], '、') AS recent_dates,
           count(*) FILTER (WHERE closed_at IS NULL OR closed_at >= $end + INTERVAL 1 DAY) AS open_now
    FROM recent
    WHERE received_at >= $start
    GROUP BY ALL
)
SELECT p.community_id, sel.street, sel.community, p.compound_id, c.compound,
       p.category_l1, p.category_l2, p.category_l3, p.tickets, p.repeats,
       p.first_received, p.last_received, p.recent_dates, p.open_now
FROM pairs p
JOIN sel USING (community_id)
JOIN compounds c USING (compound_id)
WHERE p.repeats > 0
ORDER BY p.repeats DESC, p.tickets DESC, p.last_received DESC, sel.community, c.compound, p.category_l3
