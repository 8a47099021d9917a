namespace Pipeline.Core.Usage;

/// <summary>
/// The ingest function's tally for one batch: call the Add methods while processing, then
/// <see cref="ToRecord"/> once. Not thread-safe (one batch is processed by one invocation).
/// </summary>
public sealed class UsageRecorder
{
    /// <summary>
    /// Kinesis bills PUT payload units of 25 KB per record, rounded up.
    /// Source: Amazon Kinesis Data Streams pricing page ("PUT Payload Unit ... 25 KB").
    /// </summary>
    public const int PayloadUnitBytes = 25 * 1024;

    /// <summary>Services tracked by name per batch; beyond this they are folded into <see cref="OtherServices"/>.</summary>
    public const int MaxServices = 500;

    /// <summary>The bucket for services past <see cref="MaxServices"/>.</summary>
    public const string OtherServices = "(other)";

    private readonly Dictionary<string, ServiceTally> _services = new(StringComparer.Ordinal);
    private long _kinesisRecords;
    private long _payloadUnits;
    private long _billedKb;
    private long _segmentsIn;
    private long _segmentsValid;
    private long _segmentsInvalid;
    private long _segmentsKept;
    private long _tracesSeen;
    private long _tracesKept;
    private readonly long[] _keptByReason = new long[5];
    private long _bytesIn;
    private long _bytesArchived;
    private long _xrayCalls;
    private long _xrayDocuments;
    private long _s3Puts;
    private long _decisionReads;
    private long _decisionWrites;
    private long _xraySdkValid;
    private long _xraySdkInvalid;
    private long _otelSpansIn;
    private long _otelSpansValid;
    private long _otelSegmentsValid;

    /// <summary>Services that were folded into <see cref="OtherServices"/> because of the bound.</summary>
    public long ServicesFolded { get; private set; }

    /// <summary>One Kinesis record as delivered (before KPL de-aggregation).</summary>
    public void AddKinesisRecord(int dataBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dataBytes);
        _kinesisRecords++;
        _payloadUnits += PayloadUnits(dataBytes);
        _billedKb += BilledKb(dataBytes);
        _bytesIn += dataBytes;
    }

    /// <summary>Payload units of one record: ceil(bytes / 25 KB), and at least one.</summary>
    public static long PayloadUnits(long dataBytes) =>
        dataBytes <= 0 ? 1 : (dataBytes + PayloadUnitBytes - 1) / PayloadUnitBytes;

    /// <summary>
    /// On-demand data-in of one record: its size rounded up to the next 1 KB.
    /// Source: Kinesis Data Streams pricing page, on-demand "Data-In" key term.
    /// </summary>
    public static long BilledKb(long dataBytes) => dataBytes <= 0 ? 1 : (dataBytes + 1023) / 1024;

    /// <summary>A segment document that failed validation (it goes to quarantine); <paramref name="otel"/> when converted from OTel spans.</summary>
    public void AddInvalidSegment(bool otel = false)
    {
        _segmentsIn++;
        _segmentsInvalid++;
        if (!otel)
        {
            _xraySdkInvalid++;
        }
    }

    /// <summary>
    /// The spans of one OTLP record (a record that could not be read at all counts as one). Those not
    /// in a valid document (<see cref="AddValidSegment"/>) count as invalid.
    /// </summary>
    public void AddOtelSpans(int spans) => _otelSpansIn += Math.Max(spans, 1);

    /// <summary>A valid segment of <paramref name="service"/>; <paramref name="kept"/> when it is forwarded to X-Ray;
    /// <paramref name="otelSpans"/> &gt; 0 when it was converted from that many OTel spans.</summary>
    public void AddValidSegment(string service, bool kept, int otelSpans = 0)
    {
        _segmentsIn++;
        _segmentsValid++;
        if (otelSpans > 0)
        {
            _otelSegmentsValid++;
            _otelSpansValid += otelSpans;
        }
        else
        {
            _xraySdkValid++;
        }

        if (kept)
        {
            _segmentsKept++;
        }

        Tally(service).Segments++;
    }

    /// <summary>A trace whose root segment is in this batch, with the reason it was kept (null: dropped).</summary>
    public void AddTrace(KeepReason? kept)
    {
        _tracesSeen++;
        if (kept is { } reason)
        {
            _tracesKept++;
            _keptByReason[(int)reason]++;
        }
    }

    /// <summary>A trace that <paramref name="service"/> took part in within this batch (once per service and trace).</summary>
    public void AddServiceTrace(string service, KeepReason? kept)
    {
        var tally = Tally(service);
        tally.Traces++;
        if (kept is { } reason)
        {
            tally.Kept[(int)reason]++;
        }
    }

    public void AddArchivedBytes(long bytes) => _bytesArchived += bytes;

    public void AddS3Put() => _s3Puts++;

    /// <summary>Keys asked of the decision table (BatchGetItem), found or not.</summary>
    public void AddDecisionReads(int keys) => _decisionReads += Math.Max(0, keys);

    /// <summary>Items written to the decision table (BatchWriteItem).</summary>
    public void AddDecisionWrites(int items) => _decisionWrites += Math.Max(0, items);

    public void AddXRayPut(int documents)
    {
        _xrayCalls++;
        _xrayDocuments += documents;
    }

    public UsageRecord ToRecord(
        string shard, string firstSequence, string lastSequence, DateTimeOffset arrivedAt,
        long lambdaDurationMs, int lambdaMemoryMb)
    {
        var services = _services
            .OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => new ServiceUsage
            {
                Name = s.Key,
                Segments = s.Value.Segments,
                Traces = s.Value.Traces,
                Kept = ToKept(s.Value.Kept),
            })
            .ToArray();

        return new UsageRecord
        {
            Shard = shard,
            FirstSequence = firstSequence,
            LastSequence = lastSequence,
            ArrivedAt = arrivedAt.ToUniversalTime(),
            KinesisRecords = _kinesisRecords,
            KinesisPayloadUnits = _payloadUnits,
            KinesisBilledKb = _billedKb,
            SegmentsIn = _segmentsIn,
            SegmentsValid = _segmentsValid,
            SegmentsInvalid = _segmentsInvalid,
            SegmentsKept = _segmentsKept,
            TracesSeen = _tracesSeen,
            TracesKept = _tracesKept,
            KeptByReason = ToKept(_keptByReason),
            BytesIn = _bytesIn,
            BytesArchived = _bytesArchived,
            XRayPutCalls = _xrayCalls,
            XRayDocuments = _xrayDocuments,
            LambdaDurationMs = lambdaDurationMs,
            LambdaMemoryMb = lambdaMemoryMb,
            S3Puts = _s3Puts,
            DecisionReads = _decisionReads,
            DecisionWrites = _decisionWrites,
            Services = services,
            ByOrigin = new OriginUsage
            {
                XraySdkSegmentsIn = _xraySdkValid + _xraySdkInvalid,
                XraySdkSegmentsValid = _xraySdkValid,
                XraySdkSegmentsInvalid = _xraySdkInvalid,
                OtelSpansIn = _otelSpansIn,
                OtelSpansValid = _otelSpansValid,
                OtelSpansInvalid = _otelSpansIn - _otelSpansValid,
                OtelSegmentsValid = _otelSegmentsValid,
            },
        };
    }

    private static KeptByReason ToKept(long[] byReason) => new()
    {
        Head = byReason[(int)KeepReason.Head],
        TailError = byReason[(int)KeepReason.TailError],
        TailFault = byReason[(int)KeepReason.TailFault],
        TailThrottle = byReason[(int)KeepReason.TailThrottle],
        TailSlow = byReason[(int)KeepReason.TailSlow],
    };

    private ServiceTally Tally(string service)
    {
        if (_services.TryGetValue(service, out var tally))
        {
            return tally;
        }

        if (_services.Count >= MaxServices)
        {
            ServicesFolded++;
            service = OtherServices;
            if (_services.TryGetValue(service, out tally))
            {
                return tally;
            }
        }

        tally = new ServiceTally();
        _services.Add(service, tally);
        return tally;
    }

    private sealed class ServiceTally
    {
        public long Segments;
        public long Traces;
        public readonly long[] Kept = new long[5];
    }
}
