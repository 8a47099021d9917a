-- segments: one row per archived X-Ray segment document (and per independent subsegment,
-- type = 'subsegment'), read from the ingest's gzip NDJSON archive.
-- Layout (written by the ingest): s3://<archive>/segments/dt=YYYY-MM-DD/hour=HH/<shard>-<firstSeq>.ndjson.gz
-- Partition projection computes partitions from the key layout: no crawler, no MSCK REPAIR.
-- Nested subsegments are typed two levels deep (Hive types cannot recurse); deeper levels
-- remain in the raw document (table segments_raw).
-- ${ArchiveBucket} is the archive bucket name (substituted by the template).
CREATE EXTERNAL TABLE IF NOT EXISTS segments (
  trace_id string,
  id string,
  parent_id string,
  type string,
  name string,
  origin string,
  start_time double,
  end_time double,
  in_progress boolean,
  inferred boolean,
  error boolean,
  fault boolean,
  throttle boolean,
  `user` string,
  http struct<request:struct<method:string,url:string,client_ip:string,user_agent:string,x_forwarded_for:boolean,traced:boolean>,response:struct<status:int,content_length:bigint>>,
  annotations map<string,string>,
  aws struct<account_id:string,operation:string,region:string,request_id:string,table_name:string,queue_url:string,function_arn:string,ec2:struct<instance_id:string,availability_zone:string>,ecs:struct<container:string>,elastic_beanstalk:struct<environment_name:string,version_label:string,deployment_id:bigint>,xray:struct<sdk:string,sdk_version:string>>,
  service struct<version:string>,
  namespace string,
  subsegments array<struct<id:string,name:string,namespace:string,start_time:double,end_time:double,in_progress:boolean,error:boolean,fault:boolean,throttle:boolean,http:struct<request:struct<method:string,url:string,traced:boolean>,response:struct<status:int,content_length:bigint>>,aws:struct<operation:string,region:string,request_id:string,table_name:string,queue_url:string>,sql:struct<url:string,database_type:string,database_version:string,driver_version:string,preparation:string>,annotations:map<string,string>,subsegments:array<struct<id:string,name:string,namespace:string,start_time:double,end_time:double,in_progress:boolean,error:boolean,fault:boolean,throttle:boolean,http:struct<request:struct<method:string,url:string,traced:boolean>,response:struct<status:int,content_length:bigint>>,aws:struct<operation:string,region:string,request_id:string,table_name:string,queue_url:string>,sql:struct<url:string,database_type:string,database_version:string,driver_version:string,preparation:string>,annotations:map<string,string>>>>>
)
PARTITIONED BY (dt string, hour string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
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
