-- The months the data covers: "now" is the latest date in the data, never the wall clock.
-- The first month is the first month of monthly records (tickets, organisation reports);
-- a database holding only organisation dates starts at its earliest date.
-- Parameters: none.
-- Columns: first_month (DATE), last_month (DATE); both NULL when there is no dated data.
WITH activity AS (
    SELECT min(received_at)::DATE AS lo, max(received_at)::DATE AS hi FROM tickets
    UNION ALL SELECT min(month), max(month) FROM org_monthly
),
structure AS (
    SELECT min(established_on) AS lo, max(established_on) AS hi FROM branches
    UNION ALL SELECT min(established_on), max(established_on) FROM building_groups
    UNION ALL SELECT min(established_on), max(established_on) FROM household_leads
    UNION ALL SELECT min(founded_on), max(founded_on) FROM social_orgs
    UNION ALL SELECT min(started_on), max(started_on) FROM practices
)
SELECT
    date_trunc('month', coalesce((SELECT min(lo) FROM activity), (SELECT min(lo) FROM structure)))::DATE AS first_month,
    date_trunc('month', greatest((SELECT max(hi) FROM activity), (SELECT max(hi) FROM structure)))::DATE AS last_month
