-- The organisations of the selection founded by $as_of, with their status at $as_of and their
-- latest monthly report up to $as_of (member units and volunteers, each from its latest report).
-- $search (NULL or '' = all) keeps organisations whose name contains it; $active_only keeps
-- those active at $as_of (founded_on <= $as_of and not dissolved by it).
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $as_of (DATE),
--   $search (VARCHAR or NULL), $active_only (BOOLEAN).
-- Columns: org_id, street, community, org, type, party_led, founded_on, dissolved_on, active,
--   latest_month, member_units, volunteers, source, source_note
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
o AS (
    SELECT o.*, sel.street, sel.community,
           o.dissolved_on IS NULL OR o.dissolved_on > $as_of AS active
    FROM social_orgs o JOIN sel USING (community_id)
    WHERE o.founded_on <= $as_of
      AND ($search IS NULL OR $search = '' OR contains(o.org, $search))
),
latest AS (
    SELECT m.org_id, max(m.month) AS latest_month,
           arg_max(m.member_units, m.month) FILTER (WHERE m.member_units IS NOT NULL) AS member_units,
           arg_max(m.volunteers, m.month) FILTER (WHERE m.volunteers IS NOT NULL) AS volunteers
    FROM org_monthly m JOIN o USING (org_id)
    WHERE m.month <= $as_of
    GROUP BY m.org_id
)
SELECT o.org_id, o.street, o.community, o.org, o.type, o.party_led, o.founded_on, o.dissolved_on, o.active,
       latest.latest_month, latest.member_units, latest.volunteers, o.source, o.source_note
FROM o
LEFT JOIN latest USING (org_id)
WHERE o.active OR NOT $active_only
ORDER BY o.active DESC, o.street, o.community, o.founded_on, o.org
