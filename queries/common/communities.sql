-- Every community with its region path: the options of the shared filters.
-- Parameters: none.
-- Columns: community_id, province, city, district, street, community, type
SELECT community_id, province, city, district, street, community, type
FROM communities
ORDER BY province, city, district, street, community
