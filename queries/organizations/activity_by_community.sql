-- Flows and volunteer activity of each selected community's social organisations (S4, S6).
-- founded / dissolved: founded_on / dissolved_on within [$start, $end] (an organisation founded and
-- dissolved inside the period counts in both). active_year_ago: active at $as_of minus one year
-- (founded_on <= that day and not dissolved by it), the base of the year-on-year growth.
-- S6 counts only organisations that report monthly data (missing months are not zero):
-- volunteers and member_units are each organisation's latest report in the period's months up to
-- $as_of, for organisations active at $as_of; service_hours is the sum of reports of the period's
-- months; reporting_orgs counts organisations with at least one report in the period.
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $start, $end, $as_of (DATE).
-- Columns: community_id, street, community, founded, dissolved, active_year_ago, reporting_orgs, volunteers,
--   member_units, service_hours
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
o AS (
    SELECT o.* FROM social_orgs o JOIN sel USING (community_id)
),
year_ago AS (
    SELECT CAST($as_of - INTERVAL 1 YEAR AS DATE) AS d
),
flows AS (
    SELECT community_id,
           count(*) FILTER (WHERE founded_on BETWEEN $start AND $end) AS founded,
           count(*) FILTER (WHERE dissolved_on BETWEEN $start AND $end) AS dissolved,
           count(*) FILTER (WHERE founded_on <= (SELECT d FROM year_ago)
                            AND (dissolved_on IS NULL OR dissolved_on > (SELECT d FROM year_ago))) AS active_year_ago
    FROM o
    GROUP BY community_id
),
reports AS (
    SELECT o.community_id, o.org_id, m.month, m.member_units, m.volunteers, m.service_hours,
           in_force(o.founded_on, o.dissolved_on, $as_of) AS active_at_end
    FROM org_monthly m JOIN o USING (org_id)
    WHERE m.month >= date_trunc('month', $start) AND m.month <= $as_of
),
latest AS (
    SELECT community_id, org_id,
           arg_max(volunteers, month) FILTER (WHERE volunteers IS NOT NULL) AS volunteers,
           arg_max(member_units, month) FILTER (WHERE member_units IS NOT NULL) AS member_units
    FROM reports
    WHERE active_at_end
    GROUP BY community_id, org_id
),
s6 AS (
    SELECT r.community_id,
           count(DISTINCT r.org_id) AS reporting_orgs,
           sum(r.service_hours) AS service_hours
    FROM reports r
    GROUP BY r.community_id
),
s6_latest AS (
    SELECT community_id, sum(volunteers) AS volunteers, sum(member_units) AS member_units
    FROM latest
    GROUP BY community_id
)
SELECT sel.community_id, sel.street, sel.community,
       coalesce(flows.founded, 0) AS founded,
       coalesce(flows.dissolved, 0) AS dissolved,
       coalesce(flows.active_year_ago, 0) AS active_year_ago,
       coalesce(s6.reporting_orgs, 0) AS reporting_orgs,
       s6_latest.volunteers,
       s6_latest.member_units,
       s6.service_hours
FROM sel
LEFT JOIN flows USING (community_id)
LEFT JOIN s6 USING (community_id)
LEFT JOIN s6_latest USING (community_id)
ORDER BY sel.street, sel.community
