-- Indicator settings in force at a date: for each key, the row with the latest effective_from <= $as_of.
-- Parameters: $as_of (DATE).
-- Columns: key, value, effective_from, note, source ('default' = the documented default, 'configured')
SELECT key, arg_max(value, effective_from) AS value, max(effective_from) AS effective_from,
       arg_max(note, effective_from) AS note, arg_max(coalesce(source, 'configured'), effective_from) AS source
FROM settings
WHERE effective_from <= $as_of
GROUP BY key
ORDER BY key
