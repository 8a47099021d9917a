namespace Pipeline.Core.Otlp;

/// <summary>
/// OpenTelemetry semantic-convention attribute names the conversion maps to X-Ray fields, both the
/// older names (semconv ≤ 1.20, still sent by many instrumentations) and the stable ones (HTTP
/// stable since semconv 1.23, database since 1.33). Source: opentelemetry.io semantic conventions,
/// and the AWS X-Ray exporter of the OpenTelemetry Collector for the aws.* names.
/// </summary>
internal static class SemanticConventions
{
    // Resource
    public const string ServiceName = "service.name";
    public const string ServiceVersion = "service.version";
    public const string TelemetrySdkLanguage = "telemetry.sdk.language";
    public const string TelemetrySdkVersion = "telemetry.sdk.version";
    public const string TelemetryAutoVersion = "telemetry.auto.version";
    public const string CloudProvider = "cloud.provider";
    public const string CloudPlatform = "cloud.platform";
    public const string CloudRegion = "cloud.region";
    public const string CloudAccountId = "cloud.account.id";
    public const string AwsEcsLaunchType = "aws.ecs.launchtype";

    // General
    public const string PeerService = "peer.service";
    public const string EnduserId = "enduser.id";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";
    public const string ClientAddress = "client.address";
    public const string NetPeerName = "net.peer.name";
    public const string NetPeerPort = "net.peer.port";
    public const string NetPeerIp = "net.peer.ip";
    public const string NetHostName = "net.host.name";
    public const string NetHostPort = "net.host.port";

    // HTTP (old, stable)
    public const string HttpMethod = "http.method";
    public const string HttpRequestMethod = "http.request.method";
    public const string HttpStatusCode = "http.status_code";
    public const string HttpResponseStatusCode = "http.response.status_code";
    public const string HttpUrl = "http.url";
    public const string UrlFull = "url.full";
    public const string HttpScheme = "http.scheme";
    public const string UrlScheme = "url.scheme";
    public const string HttpHost = "http.host";
    public const string HttpServerName = "http.server_name";
    public const string HttpTarget = "http.target";
    public const string UrlPath = "url.path";
    public const string UrlQuery = "url.query";
    public const string HttpClientIp = "http.client_ip";
    public const string HttpUserAgent = "http.user_agent";
    public const string UserAgentOriginal = "user_agent.original";
    public const string HttpResponseContentLength = "http.response_content_length";
    public const string HttpResponseBodySize = "http.response.body.size";

    // Database (old, stable)
    public const string DbSystem = "db.system";
    public const string DbSystemName = "db.system.name";
    public const string DbName = "db.name";
    public const string DbNamespace = "db.namespace";
    public const string DbStatement = "db.statement";
    public const string DbQueryText = "db.query.text";
    public const string DbUser = "db.user";
    public const string DbConnectionString = "db.connection_string";

    // RPC / AWS SDK
    public const string RpcSystem = "rpc.system";
    public const string RpcService = "rpc.service";
    public const string RpcMethod = "rpc.method";
    public const string RpcSystemAwsApi = "aws-api";
    public const string AwsService = "aws.service";
    public const string AwsRegion = "aws.region";
    public const string AwsRequestId = "aws.request_id";
    public const string AwsRequestIdCamel = "aws.requestId";
    public const string AwsRequestIdDotted = "aws.request.id";
    public const string AwsDynamoDbTableNames = "aws.dynamodb.table_names";
    public const string AwsTableName = "aws.table_name";
    public const string AwsSqsQueueUrl = "aws.sqs.queue_url";
    public const string AwsQueueUrl = "aws.queue_url";
    public const string AwsS3Bucket = "aws.s3.bucket";
    public const string AwsLambdaFunctionName = "aws.lambda.function.name";
    public const string FaasInvokedName = "faas.invoked_name";
    public const string AwsSnsTopicArn = "aws.sns.topic.arn";

    // X-Ray specific
    /// <summary>A string array naming the attributes to index as annotations (awsxrayexporter).</summary>
    public const string XRayAnnotations = "aws.xray.annotations";

    // Exception event (semconv "exceptions")
    public const string ExceptionEventName = "exception";
    public const string ExceptionType = "exception.type";
    public const string ExceptionMessage = "exception.message";
    public const string ExceptionStacktrace = "exception.stacktrace";

    /// <summary>
    /// <c>db.system</c> / <c>db.system.name</c> values that are SQL databases (an X-Ray <c>sql</c>
    /// block); other databases (Redis, MongoDB, DynamoDB) are remote calls without one.
    /// </summary>
    public static readonly HashSet<string> SqlSystems = new(StringComparer.Ordinal)
    {
        "other_sql", "mssql", "microsoft.sql_server", "mysql", "mariadb", "oracle", "oracle.db", "db2", "ibm.db2",
        "postgresql", "redshift", "aws.redshift", "sqlite", "h2", "hsqldb", "derby", "cockroachdb", "hive", "hanadb",
        "sap.hana", "sap.maxdb", "teradata", "vertica", "sybase", "informix", "firebird", "trino", "clickhouse",
        "spanner", "gcp.spanner", "edb", "netezza", "ingres", "interbase", "progress", "pervasive", "cache", "adabas",
    };
}
