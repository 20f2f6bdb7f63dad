-- C1-C5 numerators and denominators of each selected community as of each month end from the month
-- of $start to the month of $end, from established_on / dissolved_on (same rules as
-- coverage_by_community: in force at D when established_on <= D and not dissolved by D).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: month (first day), as_of (month end), community_id, street, community, households,
--   compounds, compounds_with_branch, buildings, buildings_with_group, chain_complete_buildings,
--   branches, groups, leads, members
--
-- How (province scale: no building is crossed with every month): a record is in force at the end
-- of month j exactly when month(established_on) <= j < month(dissolved_on), so each record covers
-- one run of months. Months are numbered r = 0, 1, … from the first month and kept as bits of a
-- BIGINT, 62 months per chunk c (bit r % 62 of chunk r // 62). A building's (or compound's) months
-- with a group (lead, branch) in force are the bit_or of its records' masks, its months with the
-- chain complete the AND of the three. Equal masks are counted once per community, and only those
-- few patterns are spread over the months.
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
bounds AS (
    SELECT year(CAST($start AS DATE)) * 12 + month(CAST($start AS DATE)) - 1 AS s,
           year(CAST($end AS DATE)) * 12 + month(CAST($end AS DATE)) - 1 AS e
),
months AS (
    SELECT CAST(m AS DATE) AS month, last_day(CAST(m AS DATE)) AS as_of,
           year(m) * 12 + month(m) - 1 - bounds.s AS r
    FROM generate_series(CAST(date_trunc('month', CAST($start AS DATE)) AS TIMESTAMP),
                         CAST(CAST($end AS DATE) AS TIMESTAMP), INTERVAL 1 MONTH) AS g(m), bounds
),
spans AS (   -- each record's run of months [lo, hi], numbered from the first month
    SELECT kind, community_id, compound_id, building_id, members,
           greatest(year(established_on) * 12 + month(established_on) - 1, bounds.s) - bounds.s AS lo,
           least(coalesce(year(dissolved_on) * 12 + month(dissolved_on) - 2, bounds.e), bounds.e) - bounds.s AS hi
    FROM (
        SELECT 'branch' AS kind, community_id, compound_id, NULL::INTEGER AS building_id, members,
               established_on, dissolved_on FROM branches
        UNION ALL
        SELECT 'group', community_id, NULL, building_id, NULL, established_on, dissolved_on FROM building_groups
        UNION ALL
        SELECT 'lead', community_id, NULL, building_id, NULL, established_on, dissolved_on FROM household_leads
    ) o
    JOIN sel USING (community_id), bounds
    WHERE established_on IS NOT NULL
),
chunks AS (
    SELECT kind, community_id, compound_id, building_id, members, lo, hi,
           unnest(generate_series(lo // 62, hi // 62)) AS c
    FROM spans WHERE lo <= hi
),
masks AS (
    SELECT kind, community_id, compound_id, building_id, members, c,
           (CAST(1 AS BIGINT) << (least(hi, c * 62 + 61) - c * 62 + 1))
           - (CAST(1 AS BIGINT) << (greatest(lo, c * 62) - c * 62)) AS m
    FROM chunks
),
br_comp AS (SELECT compound_id, c, bit_or(m) AS m FROM masks WHERE kind = 'branch' AND compound_id IS NOT NULL GROUP BY 1, 2),
gr_bld AS (SELECT building_id, c, bit_or(m) AS m FROM masks WHERE kind = 'group' GROUP BY 1, 2),
hl_bld AS (SELECT building_id, c, bit_or(m) AS m FROM masks WHERE kind = 'lead' GROUP BY 1, 2),
sel_bld AS (SELECT bd.building_id, bd.compound_id, bd.community_id FROM buildings bd JOIN sel USING (community_id)),
bld_masks AS (
    SELECT bd.community_id, g.c, g.m AS group_m, g.m & coalesce(l.m, 0) & coalesce(b.m, 0) AS chain_m
    FROM gr_bld g
    JOIN sel_bld bd USING (building_id)
    LEFT JOIN hl_bld l ON l.building_id = g.building_id AND l.c = g.c
    LEFT JOIN br_comp b ON b.compound_id = bd.compound_id AND b.c = g.c
),
patterns AS (   -- (what, community, chunk, months mask) → how many
    SELECT 'compounds_with_branch' AS what, cp.community_id, b.c, b.m, count(*) AS n, NULL::HUGEINT AS members
    FROM br_comp b JOIN compounds cp USING (compound_id) JOIN sel ON sel.community_id = cp.community_id
    GROUP BY ALL
    UNION ALL
    SELECT 'buildings_with_group', community_id, c, group_m, count(*), NULL FROM bld_masks GROUP BY ALL
    UNION ALL
    SELECT 'chain_complete_buildings', community_id, c, chain_m, count(*), NULL FROM bld_masks WHERE chain_m <> 0 GROUP BY ALL
    UNION ALL
    SELECT kind, community_id, c, m, count(*), sum(members) FROM masks GROUP BY ALL
),
per_month AS (
    SELECT mo.month, p.community_id,
           sum(p.n) FILTER (WHERE p.what = 'compounds_with_branch') AS compounds_with_branch,
           sum(p.n) FILTER (WHERE p.what = 'buildings_with_group') AS buildings_with_group,
           sum(p.n) FILTER (WHERE p.what = 'chain_complete_buildings') AS chain_complete_buildings,
           sum(p.n) FILTER (WHERE p.what = 'branch') AS branches,
           sum(p.n) FILTER (WHERE p.what = 'group') AS groups,
           sum(p.n) FILTER (WHERE p.what = 'lead') AS leads,
           sum(p.members) FILTER (WHERE p.what = 'branch') AS members
    FROM patterns p JOIN months mo ON mo.r // 62 = p.c
    WHERE (p.m >> (mo.r % 62)) & 1 = 1
    GROUP BY 1, 2
),
n_comp AS (SELECT community_id, count(*) AS compounds FROM compounds JOIN sel USING (community_id) GROUP BY 1),
n_bld AS (SELECT community_id, count(*) AS buildings FROM sel_bld GROUP BY 1),
grid AS (SELECT m.month, m.as_of, sel.* FROM months m CROSS JOIN sel)
SELECT grid.month, grid.as_of, grid.community_id, grid.street, grid.community, grid.households,
       coalesce(n_comp.compounds, 0) AS compounds,
       CAST(coalesce(pm.compounds_with_branch, 0) AS BIGINT) AS compounds_with_branch,
       coalesce(n_bld.buildings, 0) AS buildings,
       CAST(coalesce(pm.buildings_with_group, 0) AS BIGINT) AS buildings_with_group,
       CAST(coalesce(pm.chain_complete_buildings, 0) AS BIGINT) AS chain_complete_buildings,
       CAST(coalesce(pm.branches, 0) AS BIGINT) AS branches,
       CAST(coalesce(pm.groups, 0) AS BIGINT) AS groups,
       CAST(coalesce(pm.leads, 0) AS BIGINT) AS leads,
       coalesce(pm.members, 0) AS members
FROM grid
LEFT JOIN n_comp USING (community_id)
LEFT JOIN n_bld USING (community_id)
LEFT JOIN per_month pm USING (month, community_id)
ORDER BY grid.month, grid.province, grid.city, grid.district, grid.street, grid.community
