using Pipeline.Core.Kpl;
using Pipeline.Core.Otlp;
using Relay.Buffering;

namespace Relay.Receive.Otlp;

/// <summary>How an OTLP export request body is encoded.</summary>
public enum OtlpEncoding
{
    Protobuf,
    Json,
}

/// <summary>What became of one export request.</summary>
public enum OtlpIntakeStatus
{
    /// <summary>Every span that passed the checks is buffered (some may have been refused: <see cref="OtlpIntakeResult.Rejected"/>).</summary>
    Accepted,
    /// <summary>The body does not decode (HTTP 400, gRPC INVALID_ARGUMENT); nothing is buffered.</summary>
    Malformed,
    /// <summary>The buffer cannot take the request's records now (HTTP 503, gRPC UNAVAILABLE, with a retry delay); nothing is buffered.</summary>
    BufferFull,
}

/// <summary>The outcome: status, spans buffered and refused, and a message for partial_success or the error.</summary>
public readonly record struct OtlpIntakeResult(OtlpIntakeStatus Status, int Accepted, int Rejected, string Message)
{
    public OtlpDecodeError DecodeError { get; init; }
}

/// <summary>
/// The relay's OTLP intake, shared by the OTLP/HTTP and OTLP/gRPC receivers: decode (bounded by
/// <see cref="OtlpLimits"/>), refuse the spans that cannot be keyed or converted (bad ids or times,
/// over a per-span limit) with their reasons, group the rest by trace id, and buffer one versioned
/// record per trace (docs/kinesis-records.md) keyed by the trace id in X-Ray form — the key an X-Ray
/// SDK segment of the same trace has, so both land on one shard. The request's records are charged
/// to the same byte-bounded buffer as UDP datagrams, all or none: a full buffer refuses the whole
/// request with a retryable answer, so the SDK retries it instead of losing spans.
/// </summary>
public sealed class OtlpIntake(RecordBuffer buffer, OtlpReceiverMetrics metrics, OtlpLimits limits)
{
    /// <summary>Room left in a Kinesis record for the data after the partition key (35 characters in X-Ray form).</summary>
    public const int MaxRecordBytes = KplFormat.MaxKinesisRecordBytes - 64;

    public OtlpIntakeResult Accept(ReadOnlySpan<byte> body, OtlpEncoding encoding)
    {
        var decoded = encoding == OtlpEncoding.Protobuf ? OtlpProtobufDecoder.Decode(body, limits) : OtlpJsonDecoder.Decode(body, limits);
        if (!decoded.IsOk)
        {
            metrics.OnRequestRefused(decoded.Error.ToCode());
            return new OtlpIntakeResult(OtlpIntakeStatus.Malformed, 0, 0, $"the request does not decode: {decoded.Error.ToCode()} at byte {decoded.Offset}") { DecodeError = decoded.Error };
        }

        var request = decoded.Request!;
        var groups = new Dictionary<UInt128, TraceGroup>();
        var refused = new Dictionary<OtlpSpanProblem, int>();
        var accepted = 0;
        foreach (var resource in request.ResourceSpans)
        {
            foreach (var scope in resource.ScopeSpans)
            {
                foreach (var span in scope.Spans)
                {
                    var problem = OtlpIds.Check(span);
                    if (problem != OtlpSpanProblem.None)
                    {
                        refused[problem] = refused.GetValueOrDefault(problem) + 1;
                        continue;
                    }

                    var key = new UInt128(BitConverter.ToUInt64(span.TraceId, 0), BitConverter.ToUInt64(span.TraceId, 8));
                    if (!groups.TryGetValue(key, out var group))
                    {
                        group = new TraceGroup(OtlpIds.ToXRayTraceId(span.TraceId));
                        groups.Add(key, group);
                    }

                    group.Add(resource, scope, span);
                    accepted++;
                }
            }
        }

        var records = new List<(byte[] Data, string PartitionKey)>(groups.Count);
        foreach (var group in groups.Values)
        {
            foreach (var part in group.Split())
            {
                if (part.Payload.Length + OtlpRecord.HeaderLength > MaxRecordBytes)
                {
                    // Only a single span that is larger than a Kinesis record on its own gets here.
                    refused[OtlpSpanProblem.DocumentTooLarge] = refused.GetValueOrDefault(OtlpSpanProblem.DocumentTooLarge) + part.Spans;
                    accepted -= part.Spans;
                    continue;
                }

                records.Add((OtlpRecord.Create(part.Payload), group.PartitionKey));
            }
        }

        var rejected = refused.Values.Sum();
        foreach (var (problem, count) in refused)
        {
            metrics.OnSpansRefused(problem.ToCode(), count);
        }

        if (records.Count > 0 && !buffer.TryAddAll(records))
        {
            metrics.OnBufferFull(accepted);
            return new OtlpIntakeResult(OtlpIntakeStatus.BufferFull, 0, rejected, "the relay's buffer is full; retry later");
        }

        metrics.OnAccepted(accepted, records.Count);
        var message = rejected == 0
            ? string.Empty
            : string.Join("; ", refused.OrderBy(r => r.Key).Select(r => $"{r.Value} span(s) refused: {r.Key.ToCode()}"));
        return new OtlpIntakeResult(OtlpIntakeStatus.Accepted, accepted, rejected, message);
    }

    /// <summary>The spans of one trace in one request, keeping their resource and scope groups.</summary>
    private sealed class TraceGroup(string partitionKey)
    {
        private readonly List<(OtlpResourceSpans Resource, OtlpScopeSpans Scope, OtlpSpan Span)> _spans = [];

        public string PartitionKey { get; } = partitionKey;

        public void Add(OtlpResourceSpans resource, OtlpScopeSpans scope, OtlpSpan span) => _spans.Add((resource, scope, span));

        /// <summary>One encoded request, or several when the spans would not fit one Kinesis record (halved until each fits).</summary>
        public IEnumerable<(byte[] Payload, int Spans)> Split()
        {
            var pending = new Stack<ArraySegment<(OtlpResourceSpans, OtlpScopeSpans, OtlpSpan)>>();
            pending.Push(_spans.ToArray());
            while (pending.TryPop(out var part))
            {
                var payload = OtlpProtobufEncoder.Encode(Build(part));
                if (part.Count > 1 && payload.Length + OtlpRecord.HeaderLength > MaxRecordBytes)
                {
                    var half = part.Count / 2;
                    pending.Push(part[half..]);
                    pending.Push(part[..half]);
                    continue;
                }

                yield return (payload, part.Count);
            }
        }

        private static OtlpTraceRequest Build(ArraySegment<(OtlpResourceSpans Resource, OtlpScopeSpans Scope, OtlpSpan Span)> spans)
        {
            var request = new OtlpTraceRequest();
            var resources = new Dictionary<OtlpResourceSpans, OtlpResourceSpans>(ReferenceEqualityComparer.Instance);
            var scopes = new Dictionary<OtlpScopeSpans, OtlpScopeSpans>(ReferenceEqualityComparer.Instance);
            foreach (var (resource, scope, span) in spans)
            {
                if (!resources.TryGetValue(resource, out var resourceCopy))
                {
                    resourceCopy = new OtlpResourceSpans { Resource = resource.Resource, SchemaUrl = resource.SchemaUrl };
                    resources.Add(resource, resourceCopy);
                    request.ResourceSpans.Add(resourceCopy);
                }

                if (!scopes.TryGetValue(scope, out var scopeCopy))
                {
                    scopeCopy = new OtlpScopeSpans { Scope = scope.Scope, SchemaUrl = scope.SchemaUrl };
                    scopes.Add(scope, scopeCopy);
                    resourceCopy.ScopeSpans.Add(scopeCopy);
                }

                scopeCopy.Spans.Add(span);
            }

            return request;
        }
    }
}
