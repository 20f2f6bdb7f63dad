-- Whether each selected community has reported any organisation data at all (any date), so that a
-- community that never reported shows an empty state instead of coverage rates of 0% that look real.
-- Parameters: $province, $city, $district, $street, $community (NULL = all).
-- Columns: community_id, street, community, compounds, buildings, branch_rows, group_rows, lead_rows,
--   org_rows (branch_rows + group_rows + lead_rows), first_established (earliest established_on or NULL)
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
org AS (
    SELECT community_id, 'branch' AS kind, established_on FROM branches
    UNION ALL SELECT community_id, 'group', established_on FROM building_groups
    UNION ALL SELECT community_id, 'lead', established_on FROM household_leads
),
n_org AS (
    SELECT community_id,
           count(*) FILTER (WHERE kind = 'branch') AS branch_rows,
           count(*) FILTER (WHERE kind = 'group') AS group_rows,
           count(*) FILTER (WHERE kind = 'lead') AS lead_rows,
           min(established_on) AS first_established
    FROM org JOIN sel USING (community_id)
    GROUP BY community_id
),
n_comp AS (SELECT community_id, count(*) AS compounds FROM compounds JOIN sel USING (community_id) GROUP BY 1),
n_bld AS (SELECT community_id, count(*) AS buildings FROM buildings JOIN sel USING (community_id) GROUP BY 1)
SELECT sel.community_id, sel.street, sel.community,
       coalesce(n_comp.compounds, 0) AS compounds,
       coalesce(n_bld.buildings, 0) AS buildings,
       coalesce(n_org.branch_rows, 0) AS branch_rows,
       coalesce(n_org.group_rows, 0) AS group_rows,
       coalesce(n_org.lead_rows, 0) AS lead_rows,
       coalesce(n_org.branch_rows + n_org.group_rows + n_org.lead_rows, 0) AS org_rows,
       n_org.first_established
FROM sel
LEFT JOIN n_org USING (community_id)
LEFT JOIN n_comp USING (community_id)
LEFT JOIN n_bld USING (community_id)
ORDER BY sel.province, sel.city, sel.district, sel.street, sel.community
