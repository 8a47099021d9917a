-- usage: the ingest's per-batch counters for the cost report (Pipeline.Core UsageRecord),
-- one snake_case JSON object per file, written on one line. The batch identity and the counters
-- the cost report sums are typed here; the whole object (per-service counts, fields added
-- later) is in usage_raw.
-- Layout (written by the ingest): s3://<archive>/usage/dt=YYYY-MM-DD/<shard>-<firstSeq>.json
CREATE EXTERNAL TABLE IF NOT EXISTS usage (
  version int,
  shard string,
  first_sequence string,
  last_sequence string,
  arrived_at string,
  kinesis_records bigint,
  segments_in bigint,
  segments_valid bigint,
  segments_invalid bigint,
  segments_kept bigint,
  traces_seen bigint,
  traces_kept bigint,
  kept_by_reason struct<head:bigint,tail_error:bigint,tail_fault:bigint,tail_throttle:bigint,tail_slow:bigint>,
  bytes_in bigint,
  bytes_archived bigint,
  xray_put_calls bigint,
  xray_documents bigint,
  s3_puts bigint
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
