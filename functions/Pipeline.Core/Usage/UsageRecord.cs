using System.Text.Json.Serialization;

namespace Pipeline.Core.Usage;

/// <summary>
/// What one ingest invocation did with one Kinesis batch, written to
/// <c>usage/dt=YYYY-MM-DD/&lt;shard&gt;-&lt;firstSeq&gt;.json</c> (see <see cref="Archive.ArchiveKeys.Usage"/>).
/// The key and the sequence range are those of the batch, like the archive object, so a retried
/// batch overwrites its own record and <see cref="UsageAggregator"/> can drop a stale record
/// whose range another record already covers.
/// </summary>
/// <remarks>
/// Counting rules for the ingest function (the aggregator relies on them):
/// <list type="bullet">
/// <item>Every count is for this batch only; nothing is cumulative across invocations.</item>
/// <item>A trace is counted in <see cref="TracesSeen"/> once, in the batch that carries its
/// root segment (a <c>segment</c> without <c>parent_id</c>), so a trace whose segments span
/// batches is not counted twice. <see cref="TracesKept"/> and <see cref="KeptByReason"/> count
/// the same traces by the decision taken for them.</item>
/// <item>When the invocation reports a <c>batchItemFailure</c> at record S, the record covers the
/// records before S only (<see cref="LastSequence"/> is the one before S): the retry starts at S
/// under its own key, and an overlap would be dropped as <see cref="UsageSkip.PartialOverlap"/>.</item>
/// <item><see cref="Services"/> counts segments by their <c>name</c>, and a trace for each
/// service that has a segment of it in this batch.</item>
/// </list>
/// </remarks>
public sealed record UsageRecord
{
    /// <summary>The schema this code writes; the aggregator skips records from a newer one.</summary>
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>Kinesis shard id, e.g. <c>shardId-000000000000</c>.</summary>
    public required string Shard { get; init; }

    /// <summary>Sequence number of the batch's first record (decimal digits).</summary>
    public required string FirstSequence { get; init; }

    /// <summary>Sequence number of the batch's last record (decimal digits).</summary>
    public required string LastSequence { get; init; }

    /// <summary>Arrival time of the batch's first record; its UTC date is the <c>dt=</c> partition.</summary>
    public required DateTimeOffset ArrivedAt { get; init; }

    /// <summary>Kinesis records in the batch (after KPL de-aggregation they may hold several segments).</summary>
    public long KinesisRecords { get; init; }

    /// <summary>Kinesis PUT payload units of those records: see <see cref="UsageRecorder.AddKinesisRecord"/>.</summary>
    public long KinesisPayloadUnits { get; init; }

    /// <summary>Kinesis on-demand data-in: each record rounded up to 1 KB (1,024 bytes).</summary>
    public long KinesisBilledKb { get; init; }

    public long SegmentsIn { get; init; }
    public long SegmentsValid { get; init; }
    public long SegmentsInvalid { get; init; }

    /// <summary>Segments forwarded (or queued for forwarding) to X-Ray.</summary>
    public long SegmentsKept { get; init; }

    public long TracesSeen { get; init; }
    public long TracesKept { get; init; }
    public KeptByReason KeptByReason { get; init; } = new();

    public long BytesIn { get; init; }

    /// <summary>Compressed bytes written to <c>segments/</c> and <c>quarantine/</c>.</summary>
    public long BytesArchived { get; init; }

    [JsonPropertyName("xray_put_calls")]
    public long XRayPutCalls { get; init; }
    [JsonPropertyName("xray_documents")]
    public long XRayDocuments { get; init; }

    /// <summary>Billed duration of the invocation, for GB-seconds.</summary>
    public long LambdaDurationMs { get; init; }

    /// <summary>Configured memory of the function, for GB-seconds.</summary>
    public int LambdaMemoryMb { get; init; }

    /// <summary>S3 PUT requests made, this usage file included.</summary>
    public long S3Puts { get; init; }

    /// <summary>Decision-table keys asked for with BatchGetItem (each is billed, found or not).</summary>
    public long DecisionReads { get; init; }

    /// <summary>Decision-table items written with BatchWriteItem.</summary>
    public long DecisionWrites { get; init; }

    /// <summary>Per service (segment <c>name</c>), sorted by name so the same batch writes the same bytes.</summary>
    public IReadOnlyList<ServiceUsage> Services { get; init; } = [];

    /// <summary>What came in by SDK generation: X-Ray SDK segments and OpenTelemetry spans (issue 17).</summary>
    public OriginUsage ByOrigin { get; init; } = new();

    /// <summary>The UTC day this record counts towards.</summary>
    [JsonIgnore]
    public DateOnly Day => DateOnly.FromDateTime(ArrivedAt.UtcDateTime);
}

/// <summary>Kept traces by the decision that kept them; a trace is counted under one reason only.</summary>
public sealed record KeptByReason
{
    /// <summary>Kept by the head (rule/rate) decision.</summary>
    public long Head { get; init; }
    public long TailError { get; init; }
    public long TailFault { get; init; }
    public long TailThrottle { get; init; }

    /// <summary>Kept because it was over the latency threshold.</summary>
    public long TailSlow { get; init; }

    [JsonIgnore]
    public long Total => Head + TailError + TailFault + TailThrottle + TailSlow;

    public KeptByReason Plus(KeptByReason other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new KeptByReason
        {
            Head = Head + other.Head,
            TailError = TailError + other.TailError,
            TailFault = TailFault + other.TailFault,
            TailThrottle = TailThrottle + other.TailThrottle,
            TailSlow = TailSlow + other.TailSlow,
        };
    }

    public long Get(KeepReason reason) => reason switch
    {
        KeepReason.Head => Head,
        KeepReason.TailError => TailError,
        KeepReason.TailFault => TailFault,
        KeepReason.TailThrottle => TailThrottle,
        KeepReason.TailSlow => TailSlow,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}

/// <summary>Why a trace was forwarded to X-Ray.</summary>
public enum KeepReason
{
    Head,
    TailError,
    TailFault,
    TailThrottle,
    TailSlow,
}

/// <summary>One service's share of a batch (or of a day, once folded).</summary>
public sealed record ServiceUsage
{
    public required string Name { get; init; }
    public long Segments { get; init; }
    public long Traces { get; init; }
    public KeptByReason Kept { get; init; } = new();

    public ServiceUsage Plus(ServiceUsage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return this with
        {
            Segments = Segments + other.Segments,
            Traces = Traces + other.Traces,
            Kept = Kept.Plus(other.Kept),
        };
    }
}

/// <summary>
/// Intake by SDK generation. X-Ray SDKs send segment documents (counted as documents); OTel SDKs send
/// spans, which the ingest converts into documents (a document can hold several spans nested).
/// </summary>
public sealed record OriginUsage
{
    public long XraySdkSegmentsIn { get; init; }
    public long XraySdkSegmentsValid { get; init; }
    public long XraySdkSegmentsInvalid { get; init; }

    public long OtelSpansIn { get; init; }
    public long OtelSpansValid { get; init; }
    public long OtelSpansInvalid { get; init; }

    /// <summary>Valid documents converted from OTel spans (they count in <see cref="UsageRecord.SegmentsValid"/>).</summary>
    public long OtelSegmentsValid { get; init; }

    public OriginUsage Plus(OriginUsage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new OriginUsage
        {
            XraySdkSegmentsIn = XraySdkSegmentsIn + other.XraySdkSegmentsIn,
            XraySdkSegmentsValid = XraySdkSegmentsValid + other.XraySdkSegmentsValid,
            XraySdkSegmentsInvalid = XraySdkSegmentsInvalid + other.XraySdkSegmentsInvalid,
            OtelSpansIn = OtelSpansIn + other.OtelSpansIn,
            OtelSpansValid = OtelSpansValid + other.OtelSpansValid,
            OtelSpansInvalid = OtelSpansInvalid + other.OtelSpansInvalid,
            OtelSegmentsValid = OtelSegmentsValid + other.OtelSegmentsValid,
        };
    }
}
