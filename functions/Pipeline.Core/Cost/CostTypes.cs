namespace Pipeline.Core.Cost;

/// <summary>Kinesis capacity mode: the two are billed on different dimensions.</summary>
public enum StreamMode
{
    Provisioned,
    OnDemand,
}

/// <summary>Where a cost line belongs when costs are shown by service.</summary>
public enum CostGroup
{
    XRay,
    Kinesis,
    Lambda,
    S3,
    Athena,
    Ses,
    DynamoDb,
    CloudWatch,
    Sqs,
    Kms,
}

/// <summary>One billed dimension.</summary>
public enum CostComponent
{
    XRayTracesRecorded,
    XRayTracesRetrieved,
    KinesisShardHours,
    KinesisPutPayloadUnits,
    KinesisStreamHours,
    KinesisDataIn,
    KinesisDataOut,
    LambdaCompute,
    LambdaRequests,
    S3Storage,
    S3Puts,
    S3Gets,
    AthenaScanned,
    SesEmails,
    DynamoDbWrites,
    DynamoDbReads,
    LogsIngested,
    LogsStored,
    CloudWatchAlarms,
    CloudWatchDashboards,
    SqsRequests,
    KmsRequests,

    /// <summary>Only in the Transaction Search alternative: every span ingested by CloudWatch.</summary>
    TransactionSearchSpans,
}

/// <summary>
/// What the deployment looks like beyond the ingest's usage counters: stream capacity, what was
/// already archived, and the small daily usage of the scheduled functions and queries.
/// </summary>
public sealed record PipelineSetup
{
    public StreamMode StreamMode { get; init; } = StreamMode.Provisioned;

    /// <summary>Open shards of the stream (provisioned mode).</summary>
    public int ShardCount { get; init; } = 1;

    /// <summary>Bytes in the archive bucket when the month began (they are stored all month).</summary>
    public long ArchiveBytesAtMonthStart { get; init; }

    /// <summary>
    /// False when other workloads in the account already use the monthly free tiers (X-Ray,
    /// Lambda): then every unit is billed.
    /// </summary>
    public bool FreeTiersAvailable { get; init; } = true;

    public decimal DailyAthenaBytesScanned { get; init; }
    public decimal DailyS3Gets { get; init; }
    public decimal DailyEmails { get; init; }
    public decimal DailyXRayTracesRetrieved { get; init; }

    /// <summary>GB-seconds and requests of the scheduled functions (graph, report, replay) per day.</summary>
    public decimal DailyExtraLambdaGbSeconds { get; init; }
    public decimal DailyExtraLambdaRequests { get; init; }

    /// <summary>
    /// CloudWatch Logs bytes one ingest invocation writes (its own lines, the EMF lines and Lambda's
    /// START/END/REPORT lines). Measured from the handler against moto: see <see cref="StackFootprint"/>.
    /// </summary>
    public decimal LogBytesPerIngestInvocation { get; init; } = StackFootprint.LogBytesPerIngestInvocation;

    /// <summary>Log bytes the scheduled functions write per day (their invocations × bytes per invocation).</summary>
    public decimal DailyScheduledLogBytes { get; init; } = StackFootprint.DailyScheduledLogBytes;

    /// <summary>Retention of the functions' log groups (template <c>LogRetentionDays</c>).</summary>
    public int LogRetentionDays { get; init; } = StackFootprint.DefaultLogRetentionDays;

    /// <summary>Standard-resolution alarm metrics the stack creates.</summary>
    public int AlarmMetrics { get; init; } = StackFootprint.StandardAlarmMetrics;

    public int Dashboards { get; init; } = StackFootprint.Dashboards;

    /// <summary>
    /// Distinct credentials that write to or read from the encrypted stream (the relay nodes' and
    /// the event-source mapping's): Kinesis calls KMS for each about every five minutes.
    /// </summary>
    public int StreamCredentials { get; init; } = StackFootprint.DefaultStreamCredentials;

    /// <summary>Messages the event-source mapping sends to the on-failure queue per day (a healthy stack: none).</summary>
    public decimal DailyFailureQueueMessages { get; init; }
}

/// <summary>A calendar month's (or part month's) billable quantities, in the price table's units.</summary>
public sealed record MonthQuantities
{
    /// <summary>Traces that reached the pipeline: what X-Ray would record with no pipeline.</summary>
    public decimal TracesSeen { get; init; }

    /// <summary>Traces forwarded to X-Ray and so recorded there.</summary>
    public decimal TracesRecorded { get; init; }

    public decimal TracesRetrieved { get; init; }
    public decimal ShardHours { get; init; }
    public decimal PutPayloadUnits { get; init; }
    public decimal StreamHours { get; init; }
    public decimal DataInGb { get; init; }
    public decimal DataOutGb { get; init; }
    public decimal LambdaGbSeconds { get; init; }
    public decimal LambdaRequests { get; init; }
    public decimal S3GbMonths { get; init; }
    public decimal S3Puts { get; init; }
    public decimal S3Gets { get; init; }
    public decimal AthenaTbScanned { get; init; }
    public decimal Emails { get; init; }
    public decimal DynamoDbWriteUnits { get; init; }
    public decimal DynamoDbReadUnits { get; init; }
    public decimal LogsIngestedGb { get; init; }
    public decimal LogsStoredGbMonths { get; init; }
    public decimal AlarmMetricMonths { get; init; }
    public decimal DashboardMonths { get; init; }
    public decimal SqsRequests { get; init; }
    public decimal KmsRequests { get; init; }

    /// <summary>Span bytes Transaction Search would ingest: the bytes the pipeline received, in GB.</summary>
    public decimal SpansGb { get; init; }
}

/// <summary>One priced dimension: quantity, what was left after the free tier, and its exact cost.</summary>
public sealed record CostLine(
    CostComponent Component,
    CostGroup Group,
    decimal Quantity,
    decimal Billable,
    string Unit,
    decimal Usd);

/// <summary>A dimension with a quantity but no price in the table: shown, not added to any sum.</summary>
/// <param name="PriceName">The price table entry a user sets to price it.</param>
public sealed record UnpricedLine(CostComponent Component, CostGroup Group, decimal Quantity, string Unit, string PriceName);

/// <summary>Priced lines and their sums; amounts are exact (round only when showing them).</summary>
public sealed record CostBreakdown(IReadOnlyList<CostLine> Lines, IReadOnlyList<UnpricedLine> Unpriced)
{
    public CostBreakdown(IReadOnlyList<CostLine> lines)
        : this(lines, [])
    {
    }

    public decimal Total => Lines.Sum(l => l.Usd);

    public decimal XRay => ByGroup(CostGroup.XRay);

    /// <summary>Everything except X-Ray: what running the pipeline costs.</summary>
    public decimal Pipeline => Total - XRay;

    public decimal ByGroup(CostGroup group) => Lines.Where(l => l.Group == group).Sum(l => l.Usd);

    public decimal ByComponent(CostComponent component) =>
        Lines.Where(l => l.Component == component).Sum(l => l.Usd);
}

/// <summary>
/// A month's costs as of a day: what was spent so far, where the month is heading, and what
/// sending every trace to X-Ray without the pipeline would have cost over the same period.
/// </summary>
public sealed record MonthlyCost
{
    public required int Year { get; init; }
    public required int Month { get; init; }

    /// <summary>Last day counted (inclusive).</summary>
    public required DateOnly AsOf { get; init; }

    public required int DaysElapsed { get; init; }
    public required int DaysInMonth { get; init; }

    /// <summary>Days the projection's daily rate was averaged over.</summary>
    public required int RateWindowDays { get; init; }

    /// <summary>
    /// Estimated archive size at the end of <see cref="AsOf"/>: the month-start size plus what
    /// the month archived (lifecycle expiry is not subtracted). Next month's report starts from it.
    /// </summary>
    public required long ArchiveBytesAtAsOf { get; init; }

    public required MonthQuantities MonthToDateQuantities { get; init; }
    public required MonthQuantities ProjectedQuantities { get; init; }
    public required CostBreakdown MonthToDate { get; init; }
    public required CostBreakdown Projected { get; init; }
    public required CostBreakdown CounterfactualMonthToDate { get; init; }
    public required CostBreakdown CounterfactualProjected { get; init; }

    /// <summary>Every span to CloudWatch Transaction Search, no pipeline (priced only when its price is set).</summary>
    public required CostBreakdown TransactionSearchMonthToDate { get; init; }
    public required CostBreakdown TransactionSearchProjected { get; init; }

    /// <summary>All traces to X-Ray with no pipeline, minus X-Ray for the kept traces plus the pipeline.</summary>
    public decimal SavingsMonthToDate => CounterfactualMonthToDate.Total - MonthToDate.Total;

    public decimal SavingsProjected => CounterfactualProjected.Total - Projected.Total;
}
