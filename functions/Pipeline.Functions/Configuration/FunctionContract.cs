namespace Pipeline.Functions.Configuration;

/// <summary>
/// The one source of truth for what each function is called (the <c>_HANDLER</c> value the
/// bootstrap dispatches on) and which environment variables it reads. template.yaml must match:
/// a test compares them.
/// </summary>
public static class FunctionContract
{
    public const string IngestHandler = "ingest";
    public const string ServiceGraphHandler = "service-graph";
    public const string CostReportHandler = "cost-report";
    public const string XRayReplayHandler = "xray-replay";

    /// <summary>Every handler name the bootstrap knows.</summary>
    public static IReadOnlyList<string> HandlerNames { get; } =
        [IngestHandler, ServiceGraphHandler, CostReportHandler, XRayReplayHandler];

    /// <summary>Environment variables, by the function that reads them (required ones first).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Environment { get; } =
        new Dictionary<string, IReadOnlyList<string>>
        {
            [IngestHandler] =
            [
                EnvironmentNames.ArchiveBucket,
                EnvironmentNames.DecisionTable,
                EnvironmentNames.SamplingRate,
                EnvironmentNames.SamplingRules,
                EnvironmentNames.TailLatencyMs,
                EnvironmentNames.DecisionTtlHours,
                EnvironmentNames.XRayForward,
                EnvironmentNames.RedactionRules,
                EnvironmentNames.OtlpAnnotationKeys,
            ],
            [ServiceGraphHandler] =
            [
                EnvironmentNames.ArchiveBucket,
                EnvironmentNames.GraphWindowMinutes,
                EnvironmentNames.GraphEngine,
                EnvironmentNames.GraphSqlThresholdSegments,
                EnvironmentNames.AthenaWorkGroup,
                EnvironmentNames.AthenaDatabase,
            ],
            [CostReportHandler] =
            [
                EnvironmentNames.ArchiveBucket,
                EnvironmentNames.ReportRecipients,
                EnvironmentNames.ReportSender,
                EnvironmentNames.PriceTable,
            ],
            [XRayReplayHandler] =
            [
                EnvironmentNames.ArchiveBucket,
            ],
        };
}

/// <summary>Environment variable names read by the functions. Defaults live with each options type.</summary>
public static class EnvironmentNames
{
    /// <summary>S3 bucket holding segments/, quarantine/, usage/, xray-retry/, graphs/, reports/.</summary>
    public const string ArchiveBucket = "ARCHIVE_BUCKET";

    /// <summary>DynamoDB table of tail sampling decisions (partition key <c>trace_id</c>, TTL attribute <c>expires_at</c>).</summary>
    public const string DecisionTable = "DECISION_TABLE";

    /// <summary>Head sampling rate for traces with no matching rule, 0..1 (default 0.1).</summary>
    public const string SamplingRate = "SAMPLING_RATE";

    /// <summary>Optional JSON array of head sampling rules (X-Ray rule fields).</summary>
    public const string SamplingRules = "SAMPLING_RULES";

    /// <summary>Tail policy: keep traces with a segment slower than this (default 1000 ms).</summary>
    public const string TailLatencyMs = "TAIL_LATENCY_MS";

    /// <summary>How long a tail decision is remembered for late segments (default 24 h).</summary>
    public const string DecisionTtlHours = "DECISION_TTL_HOURS";

    /// <summary>"true"/"segments" (default) forwards kept traces to PutTraceSegments; "otlp" sends kept OTel spans to X-Ray's OTLP endpoint; "false"/"off" archives only.</summary>
    public const string XRayForward = "XRAY_FORWARD";

    /// <summary>Optional JSON redaction rules added to the built-in ones.</summary>
    public const string RedactionRules = "REDACTION_RULES";

    /// <summary>Optional comma-separated span attributes that converted OpenTelemetry spans index as annotations.</summary>
    public const string OtlpAnnotationKeys = "OTLP_ANNOTATION_KEYS";

    /// <summary>Service graph window length (default 60).</summary>
    public const string GraphWindowMinutes = "GRAPH_WINDOW_MINUTES";

    /// <summary>"stream" (default), "athena" or "auto" (athena above the threshold).</summary>
    public const string GraphEngine = "GRAPH_ENGINE";

    /// <summary>Segments in the window above which "auto" uses Athena.</summary>
    public const string GraphSqlThresholdSegments = "GRAPH_SQL_THRESHOLD_SEGMENTS";

    public const string AthenaWorkGroup = "ATHENA_WORKGROUP";

    public const string AthenaDatabase = "ATHENA_DATABASE";

    /// <summary>Comma-separated report recipients.</summary>
    public const string ReportRecipients = "REPORT_RECIPIENTS";

    /// <summary>Verified SES sender address.</summary>
    public const string ReportSender = "REPORT_SENDER";

    /// <summary>Optional price table override: inline JSON or an s3:// URI.</summary>
    public const string PriceTable = "PRICE_TABLE";
}
