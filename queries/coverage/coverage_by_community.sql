-- Organisational coverage of each selected community as of $as_of (C1-C5 numerators and denominators).
-- An entity counts when established_on <= $as_of and (dissolved_on IS NULL or dissolved_on > $as_of).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $as_of (DATE).
-- Columns: community_id, province, city, district, street, community, type, households, source,
--   compounds, compounds_with_branch, buildings, buildings_with_group, chain_complete_buildings,
--   branches, groups, leads, members
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
br AS (
    SELECT b.* FROM branches b JOIN sel USING (community_id)
    WHERE in_force(b.established_on, b.dissolved_on, $as_of)
),
gr AS (
    SELECT g.* FROM building_groups g JOIN sel USING (community_id)
    WHERE in_force(g.established_on, g.dissolved_on, $as_of)
),
hl AS (
    SELECT h.* FROM household_leads h JOIN sel USING (community_id)
    WHERE in_force(h.established_on, h.dissolved_on, $as_of)
),
branch_compounds AS (SELECT DISTINCT compound_id FROM br WHERE compound_id IS NOT NULL),
comp AS (
    SELECT cp.community_id, count(*) AS compounds, count(bc.compound_id) AS compounds_with_branch
    FROM compounds cp JOIN sel USING (community_id)
    LEFT JOIN branch_compounds bc USING (compound_id)
    GROUP BY cp.community_id
),
bld AS (
    SELECT bd.community_id,
           count(*) AS buildings,
           count(g.building_id) AS buildings_with_group,
           count(*) FILTER (WHERE bc.compound_id IS NOT NULL AND g.building_id IS NOT NULL
                            AND l.building_id IS NOT NULL) AS chain_complete_buildings
    FROM buildings bd JOIN sel USING (community_id)
    LEFT JOIN branch_compounds bc ON bc.compound_id = bd.compound_id
    LEFT JOIN (SELECT DISTINCT building_id FROM gr) g ON g.building_id = bd.building_id
    LEFT JOIN (SELECT DISTINCT building_id FROM hl) l ON l.building_id = bd.building_id
    GROUP BY bd.community_id
),
n_br AS (SELECT community_id, count(*) AS branches, sum(members) AS members FROM br GROUP BY 1),
n_gr AS (SELECT community_id, count(*) AS groups FROM gr GROUP BY 1),
n_hl AS (SELECT community_id, count(*) AS leads FROM hl GROUP BY 1)
SELECT sel.community_id, sel.province, sel.city, sel.district, sel.street, sel.community, sel.type,
       sel.households, sel.source,
       coalesce(comp.compounds, 0) AS compounds,
       coalesce(comp.compounds_with_branch, 0) AS compounds_with_branch,
       coalesce(bld.buildings, 0) AS buildings,
       coalesce(bld.buildings_with_group, 0) AS buildings_with_group,
       coalesce(bld.chain_complete_buildings, 0) AS chain_complete_buildings,
       coalesce(n_br.branches, 0) AS branches,
       coalesce(n_gr.groups, 0) AS groups,
       coalesce(n_hl.leads, 0) AS leads,
       coalesce(n_br.members, 0) AS members
FROM sel
LEFT JOIN comp USING (community_id)
LEFT JOIN bld USING (community_id)
LEFT JOIN n_br USING (community_id)
LEFT JOIN n_gr USING (community_id)
LEFT JOIN n_hl USING (community_id)
ORDER BY sel.province, sel.city, sel.district, sel.street, sel.community
