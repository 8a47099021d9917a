-- segments_parquet: the same rows and columns as segments, compacted per hour into Parquet by
-- `pipeline compact` (one part-00000.parquet per hour, rewritten whole on a rerun), so Athena
-- reads only the columns a query names instead of whole gzip NDJSON objects.
-- Layout: s3://<archive>/segments_parquet/dt=YYYY-MM-DD/hour=HH/part-00000.parquet
-- The column list must stay identical to segments.sql (a test compares them).
CREATE EXTERNAL TABLE IF NOT EXISTS segments_parquet (
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
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://${ArchiveBucket}/segments_parquet/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://${ArchiveBucket}/segments_parquet/dt=${dt}/hour=${hour}/'
)
