-- Organisations of the selection that report monthly data (S6), with every report up to $as_of:
-- first and latest member units and volunteers, service hours in [$start, $end], and the monthly
-- values as lists (oldest first) for small trend charts. Months without a report are left out, not zero.
-- Ordered by member-unit growth, then volunteers, so an alliance's growth comes first.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end, $as_of (DATE).
-- Columns: org_id, street, community, org, type, party_led, founded_on, dissolved_on, source,
--   source_note, first_month, last_month, months_reported, first_member_units, last_member_units,
--   first_volunteers, last_volunteers, period_service_hours, member_units_series, volunteers_series,
--   service_hours_series
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
r AS (
    SELECT o.org_id, sel.street, sel.community, o.org, o.type, o.party_led, o.founded_on, o.dissolved_on,
           o.source, o.source_note, m.month, m.member_units, m.volunteers, m.service_hours
    FROM org_monthly m
    JOIN social_orgs o USING (org_id)
    JOIN sel ON sel.community_id = o.community_id
    WHERE m.month <= $as_of
)
SELECT org_id, street, community, org, type, party_led, founded_on, dissolved_on, source, source_note,
       min(month) AS first_month,
       max(month) AS last_month,
       count(*) AS months_reported,
       arg_min(member_units, month) FILTER (WHERE member_units IS NOT NULL) AS first_member_units,
       arg_max(member_units, month) FILTER (WHERE member_units IS NOT NULL) AS last_member_units,
       arg_min(volunteers, month) FILTER (WHERE volunteers IS NOT NULL) AS first_volunteers,
       arg_max(volunteers, month) FILTER (WHERE volunteers IS NOT NULL) AS last_volunteers,
       sum(service_hours) FILTER (WHERE month BETWEEN date_trunc('month', $start) AND $end) AS period_service_hours,
       list(member_units ORDER BY month) FILTER (WHERE member_units IS NOT NULL) AS member_units_series,
       list(volunteers ORDER BY month) FILTER (WHERE volunteers IS NOT NULL) AS volunteers_series,
       list(service_hours ORDER BY month) FILTER (WHERE service_hours IS NOT NULL) AS service_hours_series
FROM r
GROUP BY ALL
ORDER BY coalesce(last_member_units - first_member_units, -1) DESC,
         coalesce(last_member_units, -1) DESC,
         coalesce(last_volunteers, -1) DESC,
         street, community, org
