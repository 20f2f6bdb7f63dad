-- C6: branches in force at $as_of that break a rule of the branch work regulations, one row per
-- (branch, rule). Thresholds are bound from governance.coverage.RULES so the rules live in one place.
-- A branch with has_committee NULL is not judged on the committee rule.
-- Rules: 'too_few'      members < $min_members                          (3: too few to set up a branch)
--        'no_committee' members >= $committee_from AND has_committee = FALSE  (7: needs a committee)
--        'over_50'      members > $general_over AND members <= $committee_over (50: should be 党总支)
--        'over_100'     members > $committee_over                         (100: should be 党委)
-- Parameters: $province, $city, $district, $street, $community (NULL = all), $as_of (DATE),
--   $min_members, $committee_from, $general_over, $committee_over (INTEGER).
-- Columns: community_id, street, community, compound, branch_id, branch, members, has_committee,
--   established_on, rule
WITH sel AS (
    SELECT * FROM selected_communities($province, $city, $district, $street, $community)
),
br AS (
    SELECT b.*, sel.street, sel.community FROM branches b JOIN sel USING (community_id)
    WHERE in_force(b.established_on, b.dissolved_on, $as_of)
),
checks AS (
    SELECT *, 'too_few' AS rule, 0 AS rule_order FROM br WHERE members < $min_members
    UNION ALL
    SELECT *, 'no_committee', 1 FROM br WHERE members >= $committee_from AND has_committee = FALSE
    UNION ALL
    SELECT *, 'over_50', 2 FROM br WHERE members > $general_over AND members <= $committee_over
    UNION ALL
    SELECT *, 'over_100', 3 FROM br WHERE members > $committee_over
)
SELECT c.community_id, c.street, c.community, cp.compound, c.branch_id, c.branch, c.members,
       c.has_committee, c.established_on, c.rule
FROM checks c
LEFT JOIN compounds cp ON cp.compound_id = c.compound_id
ORDER BY c.rule_order, c.street, c.community, c.branch_id
