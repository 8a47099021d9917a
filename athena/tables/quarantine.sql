-- quarantine: documents the ingest rejected, one JSON object per line with the reason code,
-- the JSON path that failed, where the record came from and the original document as a string.
-- Layout (written by the ingest): s3://<archive>/quarantine/dt=YYYY-MM-DD/<shard>-<firstSeq>.ndjson.gz
CREATE EXTERNAL TABLE IF NOT EXISTS quarantine (
  reason string,
  path string,
  shard string,
  sequence string,
  arrival string,
  raw string
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
