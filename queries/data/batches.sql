-- Import batches, newest first: what was imported (or removed), when, by whom, and whether undone.
-- Parameters: none.
-- Columns: batch_id, table_name, file_name, sha256, rows_added, rows_updated, imported_at, imported_by, undone_at
SELECT batch_id, table_name, file_name, sha256, rows_added, rows_updated, imported_at, imported_by, undone_at
FROM import_batches
ORDER BY batch_id DESC
