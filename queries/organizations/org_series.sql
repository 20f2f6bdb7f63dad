-- The monthly reports of one organisation of the selection, up to $as_of, oldest first (S6).
-- The organisation must belong to the selected communities (otherwise no rows).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $org_id (INTEGER),
--   $as_of (DATE).
-- Columns: month (DATE), member_units, volunteers, service_hours, source, source_note
SELECT m.month, m.member_units, m.volunteers, m.service_hours, m.source, m.source_note
FROM org_monthly m
JOIN social_orgs o USING (org_id)
JOIN selected_communities($province, $city, $district, $street, $community) s ON s.community_id = o.community_id
WHERE m.org_id = $org_id AND m.month <= $as_of
ORDER BY m.month
