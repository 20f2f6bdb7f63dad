-- Every building of the selected communities with where its Party chain stops as of $as_of.
-- status: 'no_branch' (its compound has no branch in force), else 'no_group' (no building group),
--   else 'no_lead' (no household lead), else 'complete' (counts for C4). Same rules as
--   coverage_by_community: in force when established_on <= $as_of and not dissolved by $as_of.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $as_of (DATE).
-- Columns: community_id, street, community, compound_id, compound, compound_has_branch, building_id,
--   building, households, has_group, leads, status
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
    SELECT h.building_id, count(*) AS leads FROM household_leads h JOIN sel USING (community_id)
    WHERE in_force(h.established_on, h.dissolved_on, $as_of)
    GROUP BY h.building_id
),
bld AS (
    SELECT sel.community_id, sel.province, sel.city, sel.district, sel.street, sel.community,
           cp.compound_id, cp.compound, br.compound_id IS NOT NULL AS compound_has_branch,
           bd.building_id, bd.building, bd.households,
           gr.building_id IS NOT NULL AS has_group, coalesce(hl.leads, 0) AS leads
    FROM buildings bd
    JOIN sel USING (community_id)
    JOIN compounds cp ON cp.compound_id = bd.compound_id
    LEFT JOIN br ON br.compound_id = bd.compound_id
    LEFT JOIN gr ON gr.building_id = bd.building_id
    LEFT JOIN hl ON hl.building_id = bd.building_id
)
SELECT community_id, street, community, compound_id, compound, compound_has_branch, building_id, building,
       households, has_group, leads,
       CASE WHEN NOT compound_has_branch THEN 'no_branch'
            WHEN NOT has_group THEN 'no_group'
            WHEN leads = 0 THEN 'no_lead'
            ELSE 'complete' END AS status
FROM bld
ORDER BY province, city, district, street, community, compound_id, building_id
