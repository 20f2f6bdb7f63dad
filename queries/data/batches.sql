-- Import batches, newest first: what was imported (or removed), when, by whom, whether undone and by
-- whom, and whether every community the batch wrote rows for is inside the user's scope (an editor
-- sees and may undo those only; a batch with no recorded communities counts as outside any scope
-- but 全部, e.g. one written before scopes were recorded).
-- Parameters: none.
-- Columns: batch_id, table_name, file_name, sha256, rows_added, rows_updated, imported_at, imported_by,
--   undone_at, undone_by, communities, in_scope
WITH touched AS (
    SELECT b.batch_id, count(*) AS communities,
           count(*) FILTER (WHERE s.community_id IS NULL) AS outside
    FROM batch_communities b
    LEFT JOIN selected_communities(NULL, NULL, NULL, NULL, NULL) s USING (community_id)
    GROUP BY b.batch_id
),
undos AS (
    SELECT CAST(target AS INTEGER) AS batch_id, arg_max(actor, happened_at) AS undone_by
    FROM audit_log WHERE action = 'undo' GROUP BY target
),
everything AS (
    SELECT getvariable('scope').province IS NULL AND getvariable('scope').city IS NULL
           AND getvariable('scope').district IS NULL AND getvariable('scope').street IS NULL
           AND getvariable('scope').community IS NULL AS all_scope
)
SELECT i.batch_id, i.table_name, i.file_name, i.sha256, i.rows_added, i.rows_updated, i.imported_at,
       i.imported_by, i.undone_at, u.undone_by, coalesce(t.communities, 0) AS communities,
       (SELECT all_scope FROM everything) OR coalesce(t.communities > 0 AND t.outside = 0, FALSE) AS in_scope
FROM import_batches i
LEFT JOIN touched t USING (batch_id)
LEFT JOIN undos u USING (batch_id)
ORDER BY i.batch_id DESC
