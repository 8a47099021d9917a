-- segments_raw: the same archive objects as segments, one row per line holding the whole
-- segment document as JSON text, for fields the typed table does not declare
-- (metadata, cause, deeper subsegments): query it with json_extract / json_extract_scalar.
-- LazySimpleSerDe with its default \001 field delimiter (never present in JSON text) keeps a
-- line whole.
CREATE EXTERNAL TABLE IF NOT EXISTS segments_raw (
  line string
)
PARTITIONED BY (dt string, hour string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://${ArchiveBucket}/segments/'
TBLPROPERTIES (
  'classification' = 'json',
  'compressionType' = 'gzip',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://${ArchiveBucket}/segments/dt=${dt}/hour=${hour}/'
)
