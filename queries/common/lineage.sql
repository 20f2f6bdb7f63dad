-- How many rows of each table are published, simulated or imported (banner, glossary).
-- Parameters: none.
-- Columns: table_name, source, rows
SELECT 'communities' AS table_name, source, count(*) AS rows FROM communities GROUP BY source
UNION ALL SELECT 'compounds', source, count(*) FROM compounds GROUP BY source
UNION ALL SELECT 'buildings', source, count(*) FROM buildings GROUP BY source
UNION ALL SELECT 'branches', source, count(*) FROM branches GROUP BY source
UNION ALL SELECT 'building_groups', source, count(*) FROM building_groups GROUP BY source
UNION ALL SELECT 'household_leads', source, count(*) FROM household_leads GROUP BY source
UNION ALL SELECT 'social_orgs', source, count(*) FROM social_orgs GROUP BY source
UNION ALL SELECT 'org_monthly', source, count(*) FROM org_monthly GROUP BY source
UNION ALL SELECT 'tickets', source, count(*) FROM tickets GROUP BY source
UNION ALL SELECT 'practices', source, count(*) FROM practices GROUP BY source
ORDER BY table_name, source
