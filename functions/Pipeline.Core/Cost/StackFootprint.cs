namespace Pipeline.Core.Cost;

/// <summary>
/// What the deployed stack runs besides the per-batch usage, as the cost model counts it: each
/// figure is either read from template.yaml (checked against it by TemplateFootprintTests), a
/// documented AWS billing rule, or measured from the handlers against moto
/// (CostQuantityMeasurementTests); docs/cost-report.md explains each.
/// </summary>
public static class StackFootprint
{
    /// <summary>
    /// Eventually consistent read of an item up to 4 KB: one half read request unit. The ingest
    /// reads the decision table with <c>ConsistentRead = false</c> and its items are under 1 KB.
    /// Every key asked for is counted, found or not. Source: DynamoDB on-demand pricing page, key terms.
    /// </summary>
    public const decimal ReadRequestUnitsPerDecisionRead = 0.5m;

    /// <summary>A standard write of an item up to 1 KB: one write request unit. Source: as above.</summary>
    public const decimal WriteRequestUnitsPerDecisionWrite = 1m;

    /// <summary>
    /// Kinesis calls KMS about every five minutes per credential that produces to or consumes from
    /// a stream encrypted with a KMS key (aws/kinesis included): 12 requests an hour. Source: Kinesis
    /// Data Streams developer guide, "Costs, Regions, and performance considerations" of
    /// server-side encryption. Our own code makes no KMS call (measured: CostQuantityMeasurementTests).
    /// </summary>
    public const int KmsRequestsPerCredentialHour = 12;

    /// <summary>The relay nodes' role and the event-source mapping's: each further credential (e.g. one per IRSA pod session) adds 12 requests an hour.</summary>
    public const int DefaultStreamCredentials = 2;

    /// <summary>template.yaml: the standard-resolution alarms that name one metric each (QuarantineRateAlarm, a Metrics Insights query alarm, is billed otherwise and not counted).</summary>
    public const int StandardAlarmMetrics = 6;

    /// <summary>template.yaml: <c>PipelineDashboard</c>.</summary>
    public const int Dashboards = 1;

    /// <summary>template.yaml parameter <c>LogRetentionDays</c>, default.</summary>
    public const int DefaultLogRetentionDays = 30;

    /// <summary>
    /// Invocations of the scheduled functions a day at the template's default schedules:
    /// service-graph <c>rate(1 hour)</c> 24, cost-report daily 1, xray-replay <c>rate(15 minutes)</c> 96.
    /// </summary>
    public const int ScheduledInvocationsPerDay = 24 + 1 + 96;

    /// <summary>
    /// Lambda's own lines per invocation in the Text log format the template uses: START, END and
    /// REPORT (duration, billed duration, memory, max memory, and with active tracing the XRAY trace
    /// id). The length of such a set with a 36-character request id and typical widths; CloudWatch
    /// ingests them like the function's own lines.
    /// </summary>
    public const int PlatformLogBytesPerInvocation = 340;

    /// <summary>
    /// Bytes one ingest invocation of a typical batch writes itself, measured by
    /// CostQuantityMeasurementTests (a 450-record batch through the handler against moto): a healthy
    /// batch logs no line but the EMF line of its counters, 1,472 bytes since the OTLP forwarding
    /// counters joined it (1,097 before); rounded up for larger counts.
    /// </summary>
    public const int IngestOwnLogBytesPerInvocation = 1_500;

    /// <summary>
    /// Bytes one scheduled invocation writes itself, measured on the most frequent one (xray-replay
    /// with nothing to resend: its one summary line, 308 bytes) and rounded up.
    /// </summary>
    public const int ScheduledOwnLogBytesPerInvocation = 400;

    public const decimal LogBytesPerIngestInvocation = PlatformLogBytesPerInvocation + IngestOwnLogBytesPerInvocation;

    public const decimal DailyScheduledLogBytes = ScheduledInvocationsPerDay * (decimal)(PlatformLogBytesPerInvocation + ScheduledOwnLogBytesPerInvocation);
}
