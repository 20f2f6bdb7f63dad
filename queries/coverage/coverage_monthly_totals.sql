-- Month-end C1-C5 numerators and denominators summed over the selected communities that reported organisation
-- data (any branch, building group or household lead at any date, as org_data_by_community's
-- org_rows > 0), one row per month: what the coverage page sums and charts, summed here instead of
-- sending 5,000 communities × months rows to Python. Each record's months in force are bits of an
-- integer, so no building is crossed with every month (tests/test_perf_coverage_monthly.py checks it
-- against the straightforward per-community query kept in tests/raw_queries/coverage_monthly.sql).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end (DATE).
-- Columns: month (first day), households, compounds, compounds_with_branch, buildings,
--   buildings_with_group, chain_complete_buildings, branches, groups, leads, members
WITH sel AS (
    SELECT s.* FROM selected_communities($province, $city, $district, $street, $community) s
    WHERE s.community_id IN (SELECT community_id FROM branches UNION SELECT community_id FROM building_groups
                             UNION SELECT community_id FROM household_leads)
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
SELECT grid.month,
       CAST(coalesce(sum(grid.households), 0) AS BIGINT) AS households,
       CAST(sum(coalesce(n_comp.compounds, 0)) AS BIGINT) AS compounds,
       CAST(sum(coalesce(pm.compounds_with_branch, 0)) AS BIGINT) AS compounds_with_branch,
       CAST(sum(coalesce(n_bld.buildings, 0)) AS BIGINT) AS buildings,
       CAST(sum(coalesce(pm.buildings_with_group, 0)) AS BIGINT) AS buildings_with_group,
       CAST(sum(coalesce(pm.chain_complete_buildings, 0)) AS BIGINT) AS chain_complete_buildings,
       CAST(sum(coalesce(pm.branches, 0)) AS BIGINT) AS branches,
       CAST(sum(coalesce(pm.groups, 0)) AS BIGINT) AS groups,
       CAST(sum(coalesce(pm.leads, 0)) AS BIGINT) AS leads,
       CAST(sum(coalesce(pm.members, 0)) AS BIGINT) AS members
FROM grid
LEFT JOIN n_comp USING (community_id)
LEFT JOIN n_bld USING (community_id)
LEFT JOIN per_month pm USING (month, community_id)
GROUP BY grid.month
ORDER BY grid.month
