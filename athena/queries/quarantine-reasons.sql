-- Quarantine reasons: why did the ingest reject documents, how many per reason, at how many
-- distinct JSON paths, and when was each reason first and last seen?
-- param: dt_from date = today-1
-- param: dt_to date = today
SELECT reason,
       count(*) AS documents,
       count(DISTINCT path) AS paths,
       min(arrival_time) AS first_seen,
       max(arrival_time) AS last_seen
FROM quarantine
WHERE dt BETWEEN :dt_from AND :dt_to
GROUP BY reason
ORDER BY documents DESC, reason
