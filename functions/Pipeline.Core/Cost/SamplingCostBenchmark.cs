namespace Pipeline.Core.Cost;

/// <summary>
/// The traffic shape the "cost per million segments" figure is computed for. Defaults describe
/// the benchmark: 10 % of traces kept, one segment per Kinesis record, measured ingest speed.
/// </summary>
public sealed record SegmentWorkload
{
    /// <summary>Fraction of traces forwarded to X-Ray (head plus tail decisions).</summary>
    public decimal KeptTraceFraction { get; init; } = 0.10m;

    public decimal SegmentsPerTrace { get; init; } = 1m;

    /// <summary>1 without KPL aggregation; more when the relay aggregates.</summary>
    public decimal SegmentsPerKinesisRecord { get; init; } = 1m;

    /// <summary>Average Kinesis record size (for 25 KB payload units).</summary>
    public long AverageRecordBytes { get; init; } = 1024;

    /// <summary>Archived (gzip) bytes per segment.</summary>
    public decimal CompressedBytesPerSegment { get; init; } = 200m;

    /// <summary>Months a segment stays in the archive (its storage is charged to the segment).</summary>
    public decimal StorageMonths { get; init; } = 1m;

    /// <summary>Segments per ingest invocation (event source mapping batch size).</summary>
    public decimal SegmentsPerInvocation { get; init; } = 1000m;

    /// <summary>Measured ingest throughput of one invocation.</summary>
    public decimal IngestSegmentsPerSecond { get; init; } = 50_000m;

    public int LambdaMemoryMb { get; init; } = 1024;

    /// <summary>Archive object and usage file per invocation.</summary>
    public decimal S3PutsPerInvocation { get; init; } = 2m;

    /// <summary>
    /// Records per second one provisioned shard carries on average (its limit is 1,000): the
    /// shard-hours a million records use at that utilisation.
    /// </summary>
    public decimal RecordsPerShardSecond { get; init; } = 500m;
}

/// <summary>The pipeline's marginal cost for a million segments against sending them all to X-Ray.</summary>
public sealed record SamplingCostComparison(
    CostBreakdown Pipeline,
    CostBreakdown AllToXRay,
    MonthQuantities Quantities)
{
    /// <summary>X-Ray for the kept traces plus Kinesis, Lambda and S3.</summary>
    public decimal PipelineUsd => Pipeline.Total;

    public decimal AllToXRayUsd => AllToXRay.Total;

    /// <summary>Pipeline cost as a fraction of the all-to-X-Ray cost (the target is at most 0.20).</summary>
    public decimal Ratio => AllToXRayUsd == 0m ? 0m : PipelineUsd / AllToXRayUsd;
}

public static class SamplingCostBenchmark
{
    public const decimal Segments = 1_000_000m;
    private const decimal SecondsPerHour = 3600m;

    /// <summary>
    /// Cost of one million segments at the workload's sampling, against all of them to X-Ray.
    /// Free tiers are left out: at the volumes the figure is for they are used up, and leaving
    /// them in would make the ratio depend on the month's other traffic.
    /// </summary>
    public static SamplingCostComparison PerMillionSegments(PriceTable table, SegmentWorkload workload)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(workload);
        var traces = Segments / workload.SegmentsPerTrace;
        var records = Segments / workload.SegmentsPerKinesisRecord;
        var invocations = Segments / workload.SegmentsPerInvocation;
        var q = new MonthQuantities
        {
            TracesSeen = traces,
            TracesRecorded = traces * workload.KeptTraceFraction,
            ShardHours = records / workload.RecordsPerShardSecond / SecondsPerHour,
            PutPayloadUnits = records * Usage.UsageRecorder.PayloadUnits(workload.AverageRecordBytes),
            LambdaGbSeconds = Segments / workload.IngestSegmentsPerSecond * (workload.LambdaMemoryMb / 1024m),
            LambdaRequests = invocations,
            S3Puts = invocations * workload.S3PutsPerInvocation,
            S3GbMonths = Segments * workload.CompressedBytesPerSegment / CostModel.BytesPerGb * workload.StorageMonths,
        };
        var setup = new PipelineSetup { StreamMode = StreamMode.Provisioned, FreeTiersAvailable = false };
        return new SamplingCostComparison(
            CostModel.Price(table, q, setup),
            CostModel.PriceAllToXRay(table, q, setup),
            q);
    }
}
