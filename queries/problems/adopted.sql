-- 每月一题 adopted: every monthly problem with at least one of its communities (its practices rows,
-- written as one import batch) among the selected communities; an undone batch has no practices
-- left, so its problem is not listed. Communities are those of the selection only.
-- Parameters: $province, $city, $district, $street, $community (NULL = all).
-- Columns: id, batch_id, title, categories, related_category, owner_unit, started_on, target_on, notes,
--   adopted_by, adopted_at, closed_on, outcome, closed_by, n_communities, communities (names joined with 、)
WITH sel AS (
    SELECT community_id, street, community
    FROM selected_communities($province, $city, $district, $street, $community)
),
pr AS (
    SELECT p.batch_id, any_value(p.related_category) AS related_category, count(*) AS n_communities,
           string_agg(sel.community, '、' ORDER BY sel.street, sel.community) AS communities
    FROM practices p JOIN sel USING (community_id)
    WHERE p.batch_id IS NOT NULL
    GROUP BY p.batch_id
)
SELECT m.id, m.batch_id, m.title, m.categories, pr.related_category, m.owner_unit, m.started_on, m.target_on,
       m.notes, m.adopted_by, m.adopted_at, m.closed_on, m.outcome, m.closed_by, pr.n_communities, pr.communities
FROM monthly_problems m
JOIN pr USING (batch_id)
JOIN import_batches b ON b.batch_id = m.batch_id AND b.undone_at IS NULL
ORDER BY m.started_on DESC, m.id DESC
