-- quarantine: records the ingest rejected, one JSON object per line (Pipeline.Core ArchiveLines):
-- the reason (snake_case name and stable numeric code), the JSON path that failed, the Kinesis
-- sequence number and arrival time, and the original bytes in base64 (a rejected record need
-- not be UTF-8 or JSON): from_utf8(from_base64(original_base64)) gives the document back.
-- The shard is not on the line: it is the first part of the object name.
-- Layout (written by the ingest): s3://<archive>/quarantine/dt=YYYY-MM-DD/<shard>-<firstSeq>.ndjson.gz
CREATE EXTERNAL TABLE IF NOT EXISTS quarantine (
  reason string,
  reason_code int,
  path string,
  sequence_number string,
  arrival_time string,
  size bigint,
  original_base64 string
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://${ArchiveBucket}/quarantine/'
TBLPROPERTIES (
  'classification' = 'json',
  'compressionType' = 'gzip',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://${ArchiveBucket}/quarantine/dt=${dt}/'
)
