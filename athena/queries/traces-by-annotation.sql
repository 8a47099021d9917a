-- Traces by annotation value: which traces carry annotation `key` equal to `value`, on a
-- segment or on one of its subsegments, and when did each start?
-- param: key string
-- param: value string
-- param: dt_from date = today-1
-- param: dt_to date = today
WITH hits AS (
  SELECT trace_id, start_time
  FROM segments
  WHERE dt BETWEEN :dt_from AND :dt_to
    AND element_at(annotations, :key) = :value
  UNION ALL
  SELECT s.trace_id, sub.start_time
  FROM segments s
  CROSS JOIN UNNEST(s.subsegments) AS t(sub)
  WHERE s.dt BETWEEN :dt_from AND :dt_to
    AND element_at(sub.annotations, :key) = :value
)
SELECT trace_id,
       date_format(from_unixtime(min(start_time)), '%Y-%m-%d %H:%i:%s') AS first_seen,
       count(*) AS matches
FROM hits
GROUP BY trace_id
ORDER BY first_seen, trace_id
