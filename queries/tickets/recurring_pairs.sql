-- 举一反三, recurring: category x compound pairs of the selection with repeat tickets (T8) among
-- the tickets received in [$start, $end], worst first. A ticket repeats when the previous ticket
-- of the same category (category_l1/l2/l3) in the same compound was received at most 90 calendar
-- days before it (day 90 counts, day 91 does not; the look-back reaches before $start).
-- At most the worst $max_rows + 1 pairs ($max_rows is bound by governance.db.run_query: the rows
-- the caller asked for), so the runner still sees whether the list was capped and the details below
-- are read for those pairs only.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE),
--   $max_rows (bound by the runner).
-- Columns: community_id, street, community, compound_id, compound, category_l1, category_l2,
--   category_l3, tickets (in the period), repeats, first_received, last_received (DATE),
--   recent_dates (text: the latest up to 8 received dates, newest first), open_now (not closed by $end)
WITH sel AS (
    SELECT community_id, street, community
    FROM selected_communities($province, $city, $district, $street, $community)
),
counted AS (
    -- ticket_repeats holds each ticket's T8 repeat flag and category id (governance/rollups.py),
    -- so this groups by two integers, without a window
    SELECT r.compound_id, r.cat_id, any_value(r.community_id) AS community_id,
           count(*) AS tickets,
           count(*) FILTER (WHERE r.repeat) AS repeats,
           max(r.received_at)::DATE AS last_received
    FROM ticket_repeats r JOIN sel USING (community_id)
    WHERE r.received_at >= $start AND r.received_at < $end + INTERVAL 1 DAY
    GROUP BY r.compound_id, r.cat_id
    HAVING count(*) FILTER (WHERE r.repeat) > 0
),
ranked AS (
    -- the worst $max_rows + 1 pairs: one more than the caller shows, so the runner still sees that the
    -- list was capped; the details below are read for these only
    SELECT k.*, sel.street, sel.community, c.compound, g.category_l1, g.category_l2, g.category_l3
    FROM counted k
    JOIN sel USING (community_id)
    JOIN compounds c USING (compound_id)
    JOIN ticket_categories g USING (cat_id)
    ORDER BY k.repeats DESC, k.tickets DESC, k.last_received DESC, sel.community, c.compound, g.category_l3
    LIMIT $max_rows + 1
),
details AS (
    SELECT r.compound_id, r.cat_id,
           min(r.received_at)::DATE AS first_received,
           array_to_string(list_reverse(list_sort(max_by(strftime(r.received_at, '%Y-%m-%d'), r.received_at, 8))), '、')
               AS recent_dates,
           count(*) FILTER (WHERE r.closed_at IS NULL OR r.closed_at >= $end + INTERVAL 1 DAY) AS open_now
    FROM ticket_repeats r
    SEMI JOIN ranked k ON k.compound_id = r.compound_id AND k.cat_id = r.cat_id
    WHERE r.received_at >= $start AND r.received_at < $end + INTERVAL 1 DAY
    GROUP BY r.compound_id, r.cat_id
)
SELECT k.community_id, k.street, k.community, k.compound_id, k.compound,
       k.category_l1, k.category_l2, k.category_l3, k.tickets, k.repeats,
       d.first_received, k.last_received, d.recent_dates, d.open_now
FROM ranked k
JOIN details d USING (compound_id, cat_id)
ORDER BY k.repeats DESC, k.tickets DESC, k.last_received DESC, k.community, k.compound, k.category_l3
