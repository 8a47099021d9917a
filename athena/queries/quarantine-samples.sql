-- Quarantine samples: for one rejection reason, the most recent rejected records with the
-- failing JSON path and the original document decoded back to text.
-- param: reason string
-- param: dt_from date = today-1
-- param: dt_to date = today
-- param: limit number = 20
SELECT arrival_time,
       sequence_number,
       path,
       size,
       from_utf8(from_base64(original_base64)) AS document
FROM quarantine
WHERE dt BETWEEN :dt_from AND :dt_to
  AND reason = :reason
ORDER BY arrival_time DESC, sequence_number
LIMIT :limit
