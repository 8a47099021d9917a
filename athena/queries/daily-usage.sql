-- Daily usage: per day, how many segments came in, were valid, invalid and kept for X-Ray,
-- how many traces were seen and kept, and how many bytes went to the archive?
-- param: dt_from date = today-30
-- param: dt_to date = today
SELECT dt,
       sum(segments_in) AS segments_in,
       sum(segments_valid) AS segments_valid,
       sum(segments_invalid) AS segments_invalid,
       sum(segments_kept) AS segments_kept,
       sum(traces_seen) AS traces_seen,
       sum(traces_kept) AS traces_kept,
       sum(bytes_archived) AS bytes_archived
FROM usage
WHERE dt BETWEEN :dt_from AND :dt_to
GROUP BY dt
ORDER BY dt
