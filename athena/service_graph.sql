-- Service graph of one window (issue 9): one row per edge (caller -> callee) with request,
-- ok/error/throttle/fault counts, total response time and p50/p90/p99, plus one row per
-- service with its own segments' counts. The same aggregation as the streaming builder
-- (functions/Pipeline.Core/Graph/ServiceGraphBuilder.cs), for windows too large to stream
-- through one Lambda: the service-graph function runs it on Athena above
-- GRAPH_SQL_THRESHOLD_SEGMENTS, `pipeline graph --engine sql` runs it on DuckDB.
-- A call is a subsegment with namespace aws/remote, an http url or a sql block (typed two
-- levels deep; a call nested inside a call is not counted). Its callee is the segment whose
-- parent_id is the call's id, else the node inferred from the call (AWS table/queue/service,
-- SQL url without credentials, HTTP host). A segment no call in the window reaches is called
-- by the client; a segment whose parent is Lambda's own segment (origin AWS::Lambda) is called
-- by it. Edge statistics are the caller's view (the call subsegment, or Lambda's segment).
-- The regular expressions match functions/Pipeline.Core/Graph/CallTargets.cs: change both.
-- param: dt_from date = today
-- param: dt_to date = today
-- param: window_start number
-- param: window_end number
WITH docs AS (
  SELECT *
  FROM segments
  WHERE dt BETWEEN :dt_from AND :dt_to
    AND start_time >= :window_start AND start_time < :window_end
    AND end_time IS NOT NULL
    AND NOT coalesce(in_progress, false)
    AND coalesce(type, 'segment') <> 'subsegment'
),
services AS (
  SELECT trace_id, id, parent_id, name, coalesce(origin, 'service') AS type,
         end_time - start_time AS seconds,
         CASE WHEN coalesce(fault, false) OR http.response.status BETWEEN 500 AND 599 THEN 'fault'
              WHEN coalesce(throttle, false) OR http.response.status = 429 THEN 'throttle'
              WHEN coalesce(error, false) OR http.response.status BETWEEN 400 AND 499 THEN 'error'
              ELSE 'ok' END AS outcome
  FROM docs
),
call_subsegments AS (
  SELECT d.trace_id, d.name AS caller, coalesce(d.origin, 'service') AS caller_type,
         sub.id, sub.name, sub.namespace, sub.start_time, sub.end_time, sub.in_progress,
         sub.error, sub.fault, sub.throttle, sub.http.request.url AS url, sub.http.response.status AS status,
         sub.aws.table_name AS table_name, sub.aws.queue_url AS queue_url,
         sub.sql.url AS sql_url, sub.sql.database_type AS database_type
  FROM docs d
  CROSS JOIN UNNEST(d.subsegments) AS t(sub)
  WHERE coalesce(sub.namespace, '') IN ('aws', 'remote') OR sub.http.request.url IS NOT NULL
     OR sub.sql.url IS NOT NULL OR sub.sql.database_type IS NOT NULL
  UNION ALL
  SELECT d.trace_id, d.name, coalesce(d.origin, 'service'),
         sub2.id, sub2.name, sub2.namespace, sub2.start_time, sub2.end_time, sub2.in_progress,
         sub2.error, sub2.fault, sub2.throttle, sub2.http.request.url, sub2.http.response.status,
         sub2.aws.table_name, sub2.aws.queue_url, sub2.sql.url, sub2.sql.database_type
  FROM docs d
  CROSS JOIN UNNEST(d.subsegments) AS t(sub)
  CROSS JOIN UNNEST(sub.subsegments) AS t2(sub2)
  WHERE NOT (coalesce(sub.namespace, '') IN ('aws', 'remote') OR sub.http.request.url IS NOT NULL
             OR sub.sql.url IS NOT NULL OR sub.sql.database_type IS NOT NULL)
    AND (coalesce(sub2.namespace, '') IN ('aws', 'remote') OR sub2.http.request.url IS NOT NULL
         OR sub2.sql.url IS NOT NULL OR sub2.sql.database_type IS NOT NULL)
),
calls AS (
  SELECT trace_id, caller, caller_type, id,
         end_time - start_time AS seconds,
         CASE WHEN coalesce(fault, false) OR status BETWEEN 500 AND 599 THEN 'fault'
              WHEN coalesce(throttle, false) OR status = 429 THEN 'throttle'
              WHEN coalesce(error, false) OR status BETWEEN 400 AND 499 THEN 'error'
              ELSE 'ok' END AS outcome,
         CASE WHEN namespace = 'aws' THEN
                CASE WHEN coalesce(table_name, '') <> '' THEN table_name
                     WHEN coalesce(queue_url, '') <> '' THEN coalesce(nullif(regexp_extract(queue_url, '([^/]*)/*$', 1), ''), name)
                     ELSE name END
              WHEN sql_url IS NOT NULL OR database_type IS NOT NULL THEN
                coalesce(nullif(regexp_replace(regexp_replace(regexp_replace(sql_url, '^[A-Za-z][A-Za-z0-9+.:-]*//', ''), '^[^@/]*@', ''), '[?#].*$', ''), ''),
                         nullif(database_type, ''), name)
              ELSE coalesce(nullif(lower(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]*)', 1)), ''), name)
         END AS target,
         CASE WHEN namespace = 'aws' THEN
                CASE WHEN coalesce(table_name, '') <> '' THEN 'AWS::' || name || '::Table'
                     WHEN coalesce(queue_url, '') <> '' THEN 'AWS::' || name || '::Queue'
                     ELSE 'AWS::' || name END
              WHEN sql_url IS NOT NULL OR database_type IS NOT NULL THEN 'Database::SQL'
              ELSE 'remote'
         END AS target_type,
         CASE WHEN namespace = 'aws' THEN 'aws'
              WHEN sql_url IS NOT NULL OR database_type IS NOT NULL THEN 'database'
              ELSE 'remote' END AS target_kind
  FROM call_subsegments
  WHERE id IS NOT NULL AND end_time IS NOT NULL AND NOT coalesce(in_progress, false)
),
edges AS (
  SELECT c.caller, c.caller_type, 'service' AS caller_kind,
         coalesce(ch.name, c.target) AS callee, coalesce(ch.type, c.target_type) AS callee_type,
         CASE WHEN ch.name IS NULL THEN c.target_kind ELSE 'service' END AS callee_kind,
         c.seconds, c.outcome
  FROM calls c
  LEFT JOIN services ch ON ch.trace_id = c.trace_id AND ch.parent_id = c.id
  UNION ALL
  -- Lambda's own segment (origin AWS::Lambda) is the parent of the function's segment.
  SELECT p.name, p.type, 'service', ch.name, ch.type, 'service', p.seconds, p.outcome
  FROM services p
  JOIN services ch ON ch.trace_id = p.trace_id AND ch.parent_id = p.id
  WHERE p.type = 'AWS::Lambda'
  UNION ALL
  SELECT 'client', 'client', 'client', s.name, s.type, 'service', s.seconds, s.outcome
  FROM services s
  LEFT JOIN calls c ON c.trace_id = s.trace_id AND c.id = s.parent_id
  LEFT JOIN services lp ON lp.trace_id = s.trace_id AND lp.id = s.parent_id AND lp.type = 'AWS::Lambda'
  WHERE c.id IS NULL AND lp.id IS NULL
)
SELECT 'edge' AS row_kind, caller, caller_type, caller_kind, callee, callee_type, callee_kind,
       count(*) AS requests,
       count_if(outcome = 'ok') AS ok,
       count_if(outcome = 'error') AS errors,
       count_if(outcome = 'throttle') AS throttles,
       count_if(outcome = 'fault') AS faults,
       sum(seconds) AS total_seconds,
       approx_percentile(seconds, 0.5) AS p50,
       approx_percentile(seconds, 0.9) AS p90,
       approx_percentile(seconds, 0.99) AS p99
FROM edges
GROUP BY caller, caller_type, caller_kind, callee, callee_type, callee_kind
UNION ALL
SELECT 'node', name, type, 'service', CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar),
       count(*), count_if(outcome = 'ok'), count_if(outcome = 'error'), count_if(outcome = 'throttle'),
       count_if(outcome = 'fault'), sum(seconds),
       approx_percentile(seconds, 0.5), approx_percentile(seconds, 0.9), approx_percentile(seconds, 0.99)
FROM services
GROUP BY name, type
ORDER BY 1, 2, 3, 5, 6
