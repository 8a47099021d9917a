-- Top URLs by p99 latency: which request URLs served by instrumented services are slowest at
-- the 99th percentile, with request count and mean latency?
-- param: dt_from date = today-1
-- param: dt_to date = today
-- param: limit number = 20
SELECT http.request.url AS url,
       count(*) AS requests,
       round(approx_percentile((end_time - start_time) * 1000, 0.99), 3) AS p99_ms,
       round(avg((end_time - start_time) * 1000), 3) AS avg_ms
FROM segments
WHERE dt BETWEEN :dt_from AND :dt_to
  AND http.request.url IS NOT NULL
  AND end_time IS NOT NULL
  AND coalesce(type, 'segment') <> 'subsegment'
GROUP BY 1
ORDER BY p99_ms DESC, url
LIMIT :limit
