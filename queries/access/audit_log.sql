-- Who did what and when, newest first: imports, undos, demo removal, user changes.
-- Parameters: none.
-- Columns: happened_at, actor, action, target, detail
SELECT happened_at, actor, action, target, detail
FROM audit_log
ORDER BY event_id DESC
