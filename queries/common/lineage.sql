-- How many rows of each table are published, simulated or imported (banner, glossary), counting
-- rows of communities inside the user's scope only.
-- Parameters: none.
-- Columns: table_name, source, rows
WITH sel AS (
    SELECT community_id FROM selected_communities(NULL, NULL, NULL, NULL, NULL)
)
SELECT 'communities' AS table_name, source, count(*) AS rows FROM communities JOIN sel USING (community_id) GROUP BY source
UNION ALL SELECT 'compounds', source, count(*) FROM compounds JOIN sel USING (community_id) GROUP BY source
UNION ALL SELECT 'buildings', source, count(*) FROM buildings JOIN sel USING (community_id) GROUP BY source
UNION ALL SELECT 'branches', source, count(*) FROM branches JOIN sel USING (community_id) GROUP BY source
UNION ALL SELECT 'building_groups', source, count(*) FROM building_groups JOIN sel USING (community_id) GROUP BY source
UNION ALL SELECT 'household_leads', source, count(*) FROM household_leads JOIN sel USING (community_id) GROUP BY source
UNION ALL SELECT 'social_orgs', source, count(*) FROM social_orgs JOIN sel USING (community_id) GROUP BY source
UNION ALL SELECT 'org_monthly', m.source, count(*) FROM org_monthly m JOIN social_orgs o USING (org_id)
    JOIN sel USING (community_id) GROUP BY m.source
UNION ALL SELECT 'tickets', source, count(*) FROM tickets JOIN sel USING (community_id) GROUP BY source
UNION ALL SELECT 'practices', source, count(*) FROM practices JOIN sel USING (community_id) GROUP BY source
ORDER BY table_name, source
