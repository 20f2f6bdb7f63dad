-- Dated practices (经验做法) of the selected communities, oldest first.
-- Parameters: $province, $city, $district, $street, $community (NULL = all).
-- Columns: practice_id, community_id, street, community, practice, started_on, related_category,
--   description, source, source_note
SELECT p.practice_id, p.community_id, s.street, s.community, p.practice, p.started_on,
       p.related_category, p.description, p.source, p.source_note
FROM practices p
JOIN selected_communities($province, $city, $district, $street, $community) s USING (community_id)
ORDER BY p.started_on, s.street, s.community, p.practice_id
