namespace Pipeline.Core.Usage;

/// <summary>One UTC day's usage, folded from the usage records of that day.</summary>
public sealed record DailyUsage
{
    public required DateOnly Day { get; init; }

    /// <summary>Usage records (ingest invocations) counted.</summary>
    public long Invocations { get; init; }

    /// <summary>Distinct shards that delivered records that day: the open shard count, as far as usage shows it.</summary>
    public int Shards { get; init; }

    public long KinesisRecords { get; init; }
    public long KinesisPayloadUnits { get; init; }
    public long KinesisBilledKb { get; init; }
    public long SegmentsIn { get; init; }
    public long SegmentsValid { get; init; }
    public long SegmentsInvalid { get; init; }
    public long SegmentsKept { get; init; }
    public long TracesSeen { get; init; }
    public long TracesKept { get; init; }
    public KeptByReason KeptByReason { get; init; } = new();
    public long BytesIn { get; init; }
    public long BytesArchived { get; init; }
    public long XRayPutCalls { get; init; }
    public long XRayDocuments { get; init; }

    /// <summary>Sum of duration × memory: seconds × GB (1 GB = 1024 MB, as Lambda bills).</summary>
    public decimal LambdaGbSeconds { get; init; }

    public long S3Puts { get; init; }

    /// <summary>Decision-table keys read (BatchGetItem) and items written (BatchWriteItem).</summary>
    public long DecisionReads { get; init; }
    public long DecisionWrites { get; init; }

    /// <summary>Intake by SDK generation (X-Ray SDK segments, OTel spans).</summary>
    public OriginUsage ByOrigin { get; init; } = new();

    /// <summary>Per service, sorted by name.</summary>
    public IReadOnlyList<ServiceUsage> Services { get; init; } = [];

    /// <summary>GB-seconds of one invocation: billed ms / 1000 × MB / 1024.</summary>
    public static decimal GbSeconds(long durationMs, int memoryMb) => durationMs / 1000m * (memoryMb / 1024m);
}
