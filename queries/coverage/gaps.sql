-- Where the Party chain stops as of $as_of: compounds without a branch in force, and buildings
-- without a building group or without a household lead (in any compound). A building whose only gap
-- is its compound's missing branch is covered by the compound's row, not listed again.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $as_of (DATE).
-- Columns: community_id, street, community, compound_id, compound, building_id (NULL on a compound row),
--   building (NULL on a compound row), kind ('compound' | 'building'), compound_has_branch,
--   missing_group, missing_lead, buildings (buildings concerned), households (households affected)
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
n_bld AS (SELECT compound_id, count(*) AS buildings FROM buildings JOIN sel USING (community_id) GROUP BY 1),
gaps AS (
    SELECT sel.street, sel.community, cp.community_id, cp.compound_id, cp.compound,
           NULL::INTEGER AS building_id, NULL::VARCHAR AS building, 'compound' AS kind,
           FALSE AS compound_has_branch, NULL::BOOLEAN AS missing_group, NULL::BOOLEAN AS missing_lead,
           coalesce(n_bld.buildings, 0) AS buildings, cp.households, 0 AS kind_order
    FROM compounds cp
    JOIN sel USING (community_id)
    LEFT JOIN br ON br.compound_id = cp.compound_id
    LEFT JOIN n_bld ON n_bld.compound_id = cp.compound_id
    WHERE br.compound_id IS NULL
    UNION ALL
    SELECT sel.street, sel.community, bd.community_id, cp.compound_id, cp.compound,
           bd.building_id, bd.building, 'building',
           br.compound_id IS NOT NULL, gr.building_id IS NULL, hl.building_id IS NULL,
           1, bd.households, 1
    FROM buildings bd
    JOIN sel USING (community_id)
    JOIN compounds cp ON cp.compound_id = bd.compound_id
    LEFT JOIN br ON br.compound_id = bd.compound_id
    LEFT JOIN gr ON gr.building_id = bd.building_id
    LEFT JOIN hl ON hl.building_id = bd.building_id
    WHERE gr.building_id IS NULL OR hl.building_id IS NULL
)
SELECT community_id, street, community, compound_id, compound, building_id, building, kind,
       compound_has_branch, missing_group, missing_lead, buildings, households
FROM gaps
ORDER BY kind_order, street, community, compound_id, building_id
