using Pipeline.Runtime.Telemetry;

namespace Pipeline.Functions.Ingest;

/// <summary>
/// The counters of one ingest invocation (one shard batch): the EMF metrics, the reject and drop
/// reasons behind them, and what happened to the batch.
/// </summary>
public sealed class IngestMetrics
{
    /// <summary>CloudWatch namespace of every pipeline metric.</summary>
    public const string Namespace = PipelineMetrics.CloudWatchNamespace;

    /// <summary>The one dimension: which function emitted the line.</summary>
    public const string FunctionDimension = PipelineMetrics.FunctionDimension;

    public required string Shard { get; init; }

    public required string FirstSequence { get; init; }

    public long KinesisRecords { get; set; }
    public long SegmentsIn { get; set; }
    public long SegmentsValid { get; set; }
    public long SegmentsInvalid { get; set; }
    public long SegmentsKept { get; set; }
    public long SegmentsRedacted { get; set; }

    /// <summary>OTLP records (docs/kinesis-records.md), the spans in them, and those quarantined.</summary>
    public long OtlpRecords { get; set; }

    public long OtlpSpansIn { get; set; }

    public long OtlpSpansQuarantined { get; set; }

    /// <summary>
    /// Kept segments (and their traces) not sent to X-Ray because their trace id carries no epoch X-Ray
    /// accepts (W3C random ids of OTel services without the X-Ray ID generator); archived, never parked.
    /// </summary>
    public long XRayNoEpochSegments { get; set; }

    public long XRayNoEpochTraces { get; set; }
    public long TracesSeen { get; set; }
    public long TracesKept { get; set; }
    public long BytesArchived { get; set; }
    public long XRayCalls { get; set; }

    /// <summary>Kept segments written to xray-retry/ because X-Ray refused them or was unreachable.</summary>
    public long XRayParked { get; set; }

    /// <summary>XRAY_FORWARD=otlp: export requests made to X-Ray's OTLP endpoint.</summary>
    public long XRayOtlpRequests { get; set; }

    /// <summary>XRAY_FORWARD=otlp: spans the endpoint took.</summary>
    public long XRayOtlpSpansSent { get; set; }

    /// <summary>XRAY_FORWARD=otlp: spans the endpoint refused for good (partial_success, or a request answered 400/413); archived, not parked.</summary>
    public long XRayOtlpSpansRejected { get; set; }

    /// <summary>XRAY_FORWARD=otlp: spans not sent because the endpoint's limits refuse them (over 200 KB, resource over 16 KB, older than 14 days, over 2 h ahead).</summary>
    public long XRayOtlpSpansUnsendable { get; set; }

    /// <summary>XRAY_FORWARD=otlp: spans written to xray-retry/ (.otlp) because the endpoint was unreachable or the deadline came.</summary>
    public long XRayOtlpSpansParked { get; set; }

    /// <summary>XRAY_FORWARD=otlp: attribute values masked in the spans sent (REDACTION_RULES and the built-in lists).</summary>
    public long XRayOtlpRedactions { get; set; }

    /// <summary>1 when the archive could not take the batch (the batch is reported for retry).</summary>
    public long ArchiveFailures { get; set; }

    /// <summary>Decision-store reads or writes that failed (sampling then falls back to head and tail only).</summary>
    public long DecisionStoreErrors { get; set; }

    /// <summary>Usage-record writes that failed (the cost report undercounts that batch).</summary>
    public long UsageWriteErrors { get; set; }

    /// <summary>Quarantined documents by reason code (segment and ingest reasons).</summary>
    public Dictionary<string, long> Rejects { get; } = new(StringComparer.Ordinal);

    /// <summary>Set when the batch is reported back for retry.</summary>
    public string? RetryFrom { get; set; }

    public void Reject(string reasonCode) => Rejects[reasonCode] = Rejects.GetValueOrDefault(reasonCode) + 1;

    /// <summary>The EMF JSON object (one line), written by the one <see cref="EmfWriter"/>; the batch's identity and reasons ride along as plain members.</summary>
    public byte[] ToEmf(string functionName, DateTimeOffset timestamp) =>
        EmfWriter.Write(
            Namespace,
            [new(FunctionDimension, functionName)],
            timestamp,
            [.. Values().Select(v => new EmfMetric(v.Name, v.Unit, v.Value))],
            json =>
            {
                json.WriteString("Shard"u8, Shard);
                json.WriteString("FirstSequence"u8, FirstSequence);
                json.WriteNumber("KinesisRecords"u8, KinesisRecords);
                json.WriteNumber("SegmentsRedacted"u8, SegmentsRedacted);
                json.WriteNumber("OtlpRecords"u8, OtlpRecords);
                json.WriteNumber("XRayNoEpochSegments"u8, XRayNoEpochSegments);
                json.WriteNumber("XRayOtlpRedactions"u8, XRayOtlpRedactions);
                json.WriteNumber("DecisionStoreErrors"u8, DecisionStoreErrors);
                json.WriteNumber("UsageWriteErrors"u8, UsageWriteErrors);
                if (RetryFrom is not null)
                {
                    json.WriteString("RetryFrom"u8, RetryFrom);
                }

                json.WriteStartObject("Rejects"u8);
                foreach (var (reason, count) in Rejects.OrderBy(r => r.Key, StringComparer.Ordinal))
                {
                    json.WriteNumber(reason, count);
                }

                json.WriteEndObject();
            });

    private IEnumerable<(string Name, string Unit, long Value)> Values() =>
    [
        ("SegmentsIn", "Count", SegmentsIn),
        ("SegmentsValid", "Count", SegmentsValid),
        ("SegmentsInvalid", "Count", SegmentsInvalid),
        ("SegmentsKept", "Count", SegmentsKept),
        ("TracesSeen", "Count", TracesSeen),
        ("TracesKept", "Count", TracesKept),
        ("BytesArchived", "Bytes", BytesArchived),
        ("XRayCalls", "Count", XRayCalls),
        ("XRayParked", "Count", XRayParked),
        ("ArchiveFailures", "Count", ArchiveFailures),
        ("OtlpSpansIn", "Count", OtlpSpansIn),
        ("OtlpSpansQuarantined", "Count", OtlpSpansQuarantined),
        ("XRayNoEpochTraces", "Count", XRayNoEpochTraces),
        ("XRayOtlpRequests", "Count", XRayOtlpRequests),
        ("XRayOtlpSpansSent", "Count", XRayOtlpSpansSent),
        ("XRayOtlpSpansRejected", "Count", XRayOtlpSpansRejected),
        ("XRayOtlpSpansUnsendable", "Count", XRayOtlpSpansUnsendable),
        ("XRayOtlpSpansParked", "Count", XRayOtlpSpansParked),
    ];
}
