-- Service-to-service calls (edges): which service calls which, how often, how many of those
-- calls had error / fault / throttle, and how long they took (mean and p99, as the caller saw
-- them)? A call is a subsegment (one or two levels deep); its callee is the segment whose
-- parent_id is the subsegment's id (a traced downstream service), or for untraced AWS / remote
-- calls the subsegment's own name.
-- param: dt_from date = today-1
-- param: dt_to date = today
WITH calls AS (
  SELECT s.trace_id, s.name AS caller, sub.id AS call_id, sub.name AS call_name,
         sub.namespace AS call_namespace, sub.error AS error, sub.fault AS fault, sub.throttle AS throttle,
         (sub.end_time - sub.start_time) * 1000 AS call_ms
  FROM segments s
  CROSS JOIN UNNEST(s.subsegments) AS t(sub)
  WHERE s.dt BETWEEN :dt_from AND :dt_to
  UNION ALL
  SELECT s.trace_id, s.name, sub2.id, sub2.name, sub2.namespace, sub2.error, sub2.fault, sub2.throttle,
         (sub2.end_time - sub2.start_time) * 1000
  FROM segments s
  CROSS JOIN UNNEST(s.subsegments) AS t(sub)
  CROSS JOIN UNNEST(sub.subsegments) AS t2(sub2)
  WHERE s.dt BETWEEN :dt_from AND :dt_to
),
children AS (
  SELECT trace_id, parent_id, name
  FROM segments
  WHERE dt BETWEEN :dt_from AND :dt_to
    AND parent_id IS NOT NULL
    AND coalesce(type, 'segment') <> 'subsegment'
)
SELECT c.caller,
       coalesce(ch.name, c.call_name) AS callee,
       count(*) AS calls,
       count_if(c.error) AS errors,
       count_if(c.fault) AS faults,
       count_if(c.throttle) AS throttles,
       round(avg(c.call_ms), 3) AS avg_ms,
       round(approx_percentile(c.call_ms, 0.99), 3) AS p99_ms
FROM calls c
LEFT JOIN children ch ON ch.trace_id = c.trace_id AND ch.parent_id = c.call_id
WHERE ch.name IS NOT NULL OR c.call_namespace IN ('aws', 'remote')
GROUP BY 1, 2
ORDER BY calls DESC, 1, 2
