-- The last day with tickets: the bulletin's default month is the latest month the data covers to
-- its last day (the latest complete month), never the wall clock.
-- Parameters: none.
-- Columns: last_day (DATE; NULL without tickets)
SELECT max(received_at)::DATE AS last_day FROM tickets
