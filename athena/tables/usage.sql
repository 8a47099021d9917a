-- usage: the ingest's per-batch counters for the cost report, one JSON object per file,
-- written on one line. Only the counters every version writes are typed here; the whole
-- object is in usage_raw.
-- Layout (written by the ingest): s3://<archive>/usage/dt=YYYY-MM-DD/<shard>-<firstSeq>.json
CREATE EXTERNAL TABLE IF NOT EXISTS usage (
  segments_in bigint,
  segments_valid bigint,
  segments_invalid bigint,
  segments_kept bigint,
  traces_seen bigint,
  traces_kept bigint,
  bytes_archived bigint
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://${ArchiveBucket}/usage/'
TBLPROPERTIES (
  'classification' = 'json',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://${ArchiveBucket}/usage/dt=${dt}/'
)
