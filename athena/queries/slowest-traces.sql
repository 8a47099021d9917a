-- Slowest traces: which traces took longest end to end (earliest segment start to latest
-- segment end), with their root service and how many segment documents they have?
-- param: dt_from date = today-1
-- param: dt_to date = today
-- param: limit number = 20
SELECT trace_id,
       min(CASE WHEN parent_id IS NULL THEN name END) AS root_service,
       round((max(end_time) - min(start_time)) * 1000, 3) AS duration_ms,
       count(*) AS segments
FROM segments
WHERE dt BETWEEN :dt_from AND :dt_to
  AND trace_id IS NOT NULL
GROUP BY trace_id
ORDER BY duration_ms DESC NULLS LAST, trace_id
LIMIT :limit
