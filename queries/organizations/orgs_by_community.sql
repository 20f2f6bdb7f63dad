-- Community social organisations of each selected community as of $as_of (S1, S2, S3, S5).
-- The target is the setting org_target_urban / org_target_rural in force at $as_of.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $as_of (DATE).
-- Columns: community_id, street, community, type, residents, active_orgs, party_led_orgs, target
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
targets AS (
    SELECT key, arg_max(value, effective_from) AS value
    FROM settings
    WHERE key IN ('org_target_urban', 'org_target_rural') AND effective_from <= $as_of
    GROUP BY key
),
active AS (
    SELECT o.community_id, count(*) AS active_orgs, count(*) FILTER (WHERE o.party_led) AS party_led_orgs
    FROM social_orgs o JOIN sel USING (community_id)
    WHERE in_force(o.founded_on, o.dissolved_on, $as_of)
    GROUP BY o.community_id
)
SELECT sel.community_id, sel.street, sel.community, sel.type, sel.residents,
       coalesce(active.active_orgs, 0) AS active_orgs,
       coalesce(active.party_led_orgs, 0) AS party_led_orgs,
       targets.value AS target
FROM sel
LEFT JOIN active USING (community_id)
LEFT JOIN targets ON targets.key = 'org_target_' || sel.type
ORDER BY sel.street, sel.community
