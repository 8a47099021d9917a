using System.Buffers;
using Pipeline.Core.Archive;
using Pipeline.Core.Sampling;
using Pipeline.Core.Segments;
using Pipeline.Core.Usage;
using Pipeline.Functions.Events;

namespace Pipeline.Functions.Ingest;

/// <summary>
/// One shard's batch as it moves through the ingest stages (<see cref="IngestPipeline"/>): the
/// Kinesis records, what each stage made of them, the quarantine, the counters and the outcome.
/// Each stage reads what the stages before it wrote and adds its own part; which stage writes
/// which member is said on the member. One invocation processes one batch: not thread-safe,
/// except that the archive and decide stages, which run at the same time, touch disjoint members.
/// </summary>
internal sealed class IngestBatch
{
    private readonly ArrayBufferWriter<byte> _quarantine = new();

    /// <param name="records">One shard's records in sequence order; at least one.</param>
    /// <param name="now">The clock the validator judges times against.</param>
    /// <param name="started">A <see cref="TimeProvider.GetTimestamp"/> of when the invocation began (for the usage record's duration).</param>
    public IngestBatch(IReadOnlyList<KinesisEventRecord> records, DateTimeOffset now, long started)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentOutOfRangeException.ThrowIfZero(records.Count);
        Records = records;
        Now = now;
        Started = started;
        Metrics = new IngestMetrics { Shard = Shard, FirstSequence = First.SequenceNumber, KinesisRecords = records.Count };
        Documents = new List<DecodedDocument>(records.Count);
        Valid = new List<ValidSegment>(records.Count);
    }

    public IReadOnlyList<KinesisEventRecord> Records { get; }

    public string Shard => Records[0].ShardId;

    /// <summary>The batch's first record: its sequence number and arrival time key every object the batch writes.</summary>
    public KinesisRecordData First => Records[0].Kinesis;

    public DateTimeOffset Now { get; }

    public long Started { get; }

    /// <summary>The invocation's counters (the EMF line); every stage adds to them.</summary>
    public IngestMetrics Metrics { get; }

    /// <summary>The usage record's tally; every stage adds to it.</summary>
    public UsageRecorder Usage { get; } = new();

    /// <summary>
    /// Decode: one entry per user record, in record order (a KPL aggregate gives several). A stage
    /// that turns another record format into segment documents (after decode, before validate)
    /// replaces the entries it converts or quarantines; validate reads the list as it then is.
    /// </summary>
    public List<DecodedDocument> Documents { get; }

    /// <summary>
    /// OTLP (only when XRAY_FORWARD=otlp): every span of the batch's OTLP records that passed the span
    /// checks, with its resource and scope, by X-Ray trace id: what forward sends of a kept trace.
    /// </summary>
    public Dictionary<string, List<OtlpForwardSpan>> OtelSpans { get; } = new(StringComparer.Ordinal);

    /// <summary>OTLP: the (trace, span id) pairs already in <see cref="OtelSpans"/>, so a span delivered twice is forwarded once.</summary>
    public HashSet<(string Trace, string Span)> OtelSpanIds { get; } = [];

    /// <summary>Validate: every valid (redacted) segment, in document order.</summary>
    public List<ValidSegment> Valid { get; }

    /// <summary>Decide: one decision per <see cref="Valid"/> segment, aligned by index.</summary>
    public SamplingDecision[] Decisions { get; set; } = [];

    /// <summary>Decide: the remembered decisions read for this batch, by trace key.</summary>
    public IReadOnlyDictionary<string, TraceDecision> Remembered { get; set; } = new Dictionary<string, TraceDecision>();

    /// <summary>Decide: the new decisions a later batch could not recompute, by trace key.</summary>
    public IReadOnlyDictionary<string, TraceDecision> ToRemember { get; set; } = new Dictionary<string, TraceDecision>();

    /// <summary>Forward: per <see cref="Valid"/> segment, whether it is kept for X-Ray (sampling kept it and forwarding is on).</summary>
    public bool[] Kept { get; set; } = [];

    /// <summary>Quarantine lines so far (NDJSON, <see cref="ArchiveLines.WriteQuarantine"/>).</summary>
    public ReadOnlySpan<byte> QuarantineLines => _quarantine.WrittenSpan;

    public int QuarantinedCount { get; private set; }

    /// <summary>Set by a stage that could not do its part: the batch is reported for retry from its first record and the remaining stages (but account) are skipped.</summary>
    public bool Failed => Metrics.RetryFrom is not null;

    /// <summary>
    /// Reports the batch for retry from its first record. Always the first: nothing of the batch
    /// is acknowledged, so a retry rewrites the same keys (README "exactly once").
    /// </summary>
    public void RetryFromFirstRecord() => Metrics.RetryFrom = First.SequenceNumber;

    /// <summary>Quarantines one record or document with its reason (any stage before archive); <paramref name="otel"/> for OTLP spans and what was converted from them.</summary>
    public void Quarantine(in QuarantineEntry entry, bool otel = false)
    {
        ArchiveLines.WriteQuarantine(_quarantine, entry);
        QuarantinedCount++;
        Usage.AddInvalidSegment(otel);
        Metrics.Reject(entry.Reason);
    }

    /// <summary>Quarantines <paramref name="original"/> of <paramref name="record"/> whole, for a reason of the ingest itself.</summary>
    public void Quarantine(IngestRejectReason reason, KinesisRecordData record, ReadOnlyMemory<byte> original) =>
        Quarantine(new QuarantineEntry(reason.ToCode(), (int)reason, "$", record.SequenceNumber, record.ApproximateArrivalTimestamp, original));
}

/// <summary>A user record after decode.</summary>
/// <param name="Body">The segment document (the daemon header line, when present, removed).</param>
/// <param name="Original">The user record as it arrived: what the quarantine keeps when the document is rejected.</param>
/// <param name="Record">The Kinesis record it came from (sequence number and arrival time for the quarantine).</param>
/// <param name="OtelSpans">Spans the document was converted from by the OTLP stage; 0 for an X-Ray SDK document.</param>
internal readonly record struct DecodedDocument(ReadOnlyMemory<byte> Body, ReadOnlyMemory<byte> Original, KinesisRecordData Record, int OtelSpans = 0);

/// <summary>A segment that passed validation.</summary>
/// <param name="Segment">The parsed document.</param>
/// <param name="Document">The redacted document bytes: what the archive and X-Ray get.</param>
/// <param name="TraceKey">The trace id as the decision table keys it.</param>
/// <param name="OtelSpans">Spans it was converted from (0: an X-Ray SDK document).</param>
internal readonly record struct ValidSegment(ParsedSegment Segment, ReadOnlyMemory<byte> Document, string TraceKey, int OtelSpans = 0);
