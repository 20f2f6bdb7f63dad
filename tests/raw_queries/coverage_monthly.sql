-- C1-C5 numerators and denominators of each selected community as of each month end from the month
-- of $start to the month of $end, from established_on / dissolved_on (same rules as
-- coverage_by_community: in force at D when established_on <= D and not dissolved by D).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: month (first day), as_of (month end), community_id, street, community, households,
--   compounds, compounds_with_branch, buildings, buildings_with_group, chain_complete_buildings,
--   branches, groups, leads, members
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
months AS (
    SELECT CAST(m AS DATE) AS month, last_day(CAST(m AS DATE)) AS as_of
    FROM generate_series(CAST(date_trunc('month', CAST($start AS DATE)) AS TIMESTAMP),
                         CAST(CAST($end AS DATE) AS TIMESTAMP), INTERVAL 1 MONTH) AS g(m)
),
br AS (
    SELECT m.month, b.community_id, b.compound_id, b.members
    FROM branches b JOIN sel USING (community_id)
    JOIN months m ON in_force(b.established_on, b.dissolved_on, m.as_of)
),
gr AS (
    SELECT m.month, g.community_id, g.building_id
    FROM building_groups g JOIN sel USING (community_id)
    JOIN months m ON in_force(g.established_on, g.dissolved_on, m.as_of)
),
hl AS (
    SELECT m.month, h.community_id, h.building_id
    FROM household_leads h JOIN sel USING (community_id)
    JOIN months m ON in_force(h.established_on, h.dissolved_on, m.as_of)
),
br_comp AS (SELECT DISTINCT month, compound_id FROM br WHERE compound_id IS NOT NULL),
gr_bld AS (SELECT DISTINCT month, building_id FROM gr),
hl_bld AS (SELECT DISTINCT month, building_id FROM hl),
comp AS (
    SELECT m.month, cp.community_id, count(*) AS compounds, count(bc.compound_id) AS compounds_with_branch
    FROM months m CROSS JOIN compounds cp JOIN sel USING (community_id)
    LEFT JOIN br_comp bc ON bc.month = m.month AND bc.compound_id = cp.compound_id
    GROUP BY m.month, cp.community_id
),
bld AS (
    SELECT m.month, bd.community_id, count(*) AS buildings,
           count(g.building_id) AS buildings_with_group,
           count(*) FILTER (WHERE bc.compound_id IS NOT NULL AND g.building_id IS NOT NULL
                            AND l.building_id IS NOT NULL) AS chain_complete_buildings
    FROM months m CROSS JOIN buildings bd JOIN sel USING (community_id)
    LEFT JOIN br_comp bc ON bc.month = m.month AND bc.compound_id = bd.compound_id
    LEFT JOIN gr_bld g ON g.month = m.month AND g.building_id = bd.building_id
    LEFT JOIN hl_bld l ON l.month = m.month AND l.building_id = bd.building_id
    GROUP BY m.month, bd.community_id
),
n_br AS (SELECT month, community_id, count(*) AS branches, sum(members) AS members FROM br GROUP BY 1, 2),
n_gr AS (SELECT month, community_id, count(*) AS groups FROM gr GROUP BY 1, 2),
n_hl AS (SELECT month, community_id, count(*) AS leads FROM hl GROUP BY 1, 2),
grid AS (SELECT m.month, m.as_of, sel.* FROM months m CROSS JOIN sel)
SELECT grid.month, grid.as_of, grid.community_id, grid.street, grid.community, grid.households,
       coalesce(comp.compounds, 0) AS compounds,
       coalesce(comp.compounds_with_branch, 0) AS compounds_with_branch,
       coalesce(bld.buildings, 0) AS buildings,
       coalesce(bld.buildings_with_group, 0) AS buildings_with_group,
       coalesce(bld.chain_complete_buildings, 0) AS chain_complete_buildings,
       coalesce(n_br.branches, 0) AS branches,
       coalesce(n_gr.groups, 0) AS groups,
       coalesce(n_hl.leads, 0) AS leads,
       coalesce(n_br.members, 0) AS members
FROM grid
LEFT JOIN comp USING (month, community_id)
LEFT JOIN bld USING (month, community_id)
LEFT JOIN n_br USING (month, community_id)
LEFT JOIN n_gr USING (month, community_id)
LEFT JOIN n_hl USING (month, community_id)
ORDER BY grid.month, grid.province, grid.city, grid.district, grid.street, grid.community
