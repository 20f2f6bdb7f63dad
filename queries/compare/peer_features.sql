-- Every community inside the user's scope with the size features its peer group is found by
-- (households, residents, registered buildings, area) and its type; the comparison is not limited
-- by the region filters, only by the scope.
-- Parameters: none.
-- Columns: community_id, province, city, district, street, community, type, households, residents,
--   area_km2, buildings, source
WITH bld AS (
    SELECT community_id, count(*) AS buildings FROM buildings GROUP BY community_id
)
SELECT c.community_id, c.province, c.city, c.district, c.street, c.community, c.type,
       c.households, c.residents, c.area_km2, bld.buildings, c.source
FROM selected_communities(NULL, NULL, NULL, NULL, NULL) c
LEFT JOIN bld USING (community_id)
ORDER BY c.province, c.city, c.district, c.street, c.community
