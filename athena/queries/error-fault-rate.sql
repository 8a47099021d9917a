-- Error and fault rate per service per hour: for each service (segment name) and UTC hour of
-- segment start, how many segments, and what share had error (4xx), fault (5xx) or throttle (429)?
-- param: dt_from date = today-1
-- param: dt_to date = today
SELECT name AS service,
       date_format(date_trunc('hour', from_unixtime(start_time)), '%Y-%m-%d %H:00') AS hour_start,
       count(*) AS segments,
       count_if(error) AS errors,
       count_if(fault) AS faults,
       count_if(throttle) AS throttles,
       round(100 * CAST(count_if(error) AS double) / count(*), 2) AS error_pct,
       round(100 * CAST(count_if(fault) AS double) / count(*), 2) AS fault_pct
FROM segments
WHERE dt BETWEEN :dt_from AND :dt_to
  AND name IS NOT NULL
  AND coalesce(type, 'segment') <> 'subsegment'
GROUP BY 1, 2
ORDER BY 2, 1
