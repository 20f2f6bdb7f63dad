-- Every community inside the user's scope with its region path: the options of the shared filters.
-- Parameters: none.
-- Columns: community_id, province, city, district, street, community, type
SELECT community_id, province, city, district, street, community, type
FROM selected_communities(NULL, NULL, NULL, NULL, NULL)
ORDER BY province, city, district, street, community
