-- Buildings of each compound of the selected communities by where their Party chain stops as of
-- $as_of (the aggregate of chain_buildings, for pictures of large selections). A compound without
-- buildings gives one row with status NULL and 0 buildings.
-- status: 'no_branch' | 'no_group' | 'no_lead' | 'complete' (see chain_buildings.sql).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $as_of (DATE).
-- Columns: community_id, street, community, compound_id, compound, compound_has_branch, status,
--   buildings, households
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
br AS (
    SELECT DISTINCT b.compound_id FROM branches b JOIN sel USING (community_id)
    WHERE b.compound_id IS NOT NULL
      AND in_force(b.established_on, b.dissolved_on, $as_of)
),
gr AS (
    SELECT DISTINCT g.building_id FROM building_groups g JOIN sel USING (community_id)
    WHERE in_force(g.established_on, g.dissolved_on, $as_of)
),
hl AS (
    SELECT DISTINCT h.building_id FROM household_leads h JOIN sel USING (community_id)
    WHERE in_force(h.established_on, h.dissolved_on, $as_of)
),
bld AS (
    SELECT bd.compound_id, bd.households,
           CASE WHEN br.compound_id IS NULL THEN 'no_branch'
                WHEN gr.building_id IS NULL THEN 'no_group'
                WHEN hl.building_id IS NULL THEN 'no_lead'
                ELSE 'complete' END AS status
    FROM buildings bd
    JOIN sel USING (community_id)
    LEFT JOIN br ON br.compound_id = bd.compound_id
    LEFT JOIN gr ON gr.building_id = bd.building_id
    LEFT JOIN hl ON hl.building_id = bd.building_id
)
SELECT sel.community_id, sel.street, sel.community, cp.compound_id, cp.compound,
       br.compound_id IS NOT NULL AS compound_has_branch,
       bld.status, count(bld.compound_id) AS buildings, coalesce(sum(bld.households), 0) AS households
FROM compounds cp
JOIN sel USING (community_id)
LEFT JOIN br ON br.compound_id = cp.compound_id
LEFT JOIN bld ON bld.compound_id = cp.compound_id
GROUP BY sel.community_id, sel.street, sel.community, cp.compound_id, cp.compound, br.compound_id, bld.status
ORDER BY sel.street, sel.community, cp.compound_id,
         CASE bld.status WHEN 'no_branch' THEN 0 WHEN 'no_group' THEN 1 WHEN 'no_lead' THEN 2 ELSE 3 END
