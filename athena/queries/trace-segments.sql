-- Segments of one trace in order: every segment document (and independent subsegment) of
-- trace `trace_id`, by start time, with parent, timing, status and flags.
-- param: trace_id string
-- param: dt_from date = today-1
-- param: dt_to date = today
SELECT id,
       parent_id,
       coalesce(type, 'segment') AS kind,
       name,
       origin,
       date_format(from_unixtime(start_time), '%Y-%m-%d %H:%i:%s') AS started,
       round((end_time - start_time) * 1000, 3) AS duration_ms,
       http.response.status AS status,
       coalesce(error, false) AS error,
       coalesce(fault, false) AS fault,
       coalesce(throttle, false) AS throttle,
       coalesce(cardinality(subsegments), 0) AS subsegments
FROM segments
WHERE dt BETWEEN :dt_from AND :dt_to
  AND trace_id = :trace_id
ORDER BY start_time, id
