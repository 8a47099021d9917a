using System.Net;
using Pipeline.Aws.Http;
using Pipeline.Aws.XRay;
using Pipeline.Core.Otlp;

namespace Pipeline.Functions.Ingest;

/// <summary>An OTel span to forward as received, with the resource and scope it came under.</summary>
public readonly record struct OtlpForwardSpan(OtlpResourceSpans Resource, OtlpScopeSpans Scope, OtlpSpan Span);

/// <summary>What an OTLP forward did.</summary>
/// <param name="Parked">Spans to park in xray-retry/ (the endpoint was unreachable, answered an error after the client's retries, or the deadline came), in input order.</param>
/// <param name="RequestSizes">Spans per export request, one entry per request made.</param>
/// <param name="Sent">Spans in requests the endpoint answered 2xx (partially rejected ones included).</param>
/// <param name="Rejected">Spans the endpoint refused for good: <c>partial_success.rejected_spans</c> and whole requests answered 400/413.</param>
/// <param name="Unsendable">Spans never sent because the endpoint refuses them by its documented limits (too large, too old, too far ahead).</param>
/// <param name="Outage">A request failed (not a refusal of its content), so the rest was not sent.</param>
public sealed record OtlpForwardResult(IReadOnlyList<OtlpForwardSpan> Parked, IReadOnlyList<int> RequestSizes, long Sent, long Rejected, int Unsendable, bool Outage)
{
    public int Requests => RequestSizes.Count;
}

/// <summary>
/// Sends OTel spans as received (resource and scope kept) to X-Ray's OTLP traces endpoint
/// (<see cref="IXRayOtlpClient"/>) in <c>ExportTraceServiceRequest</c>s within the endpoint's limits
/// (<see cref="XRayOtlpLimits"/>: 10,000 spans, 5 MB uncompressed, 24 hours of span start times per
/// request); spans the endpoint would refuse by its limits (a span over 200 KB, a resource with its
/// scope over 16 KB, a start older than 14 days or more than 2 hours ahead) are counted, never sent
/// (a retry could never succeed). Throttling (429) and 5xx are retried inside the client by the one
/// backoff policy (counted as retries and give-ups of <c>xray.OtlpTraces</c>). A 2xx answer with
/// <c>partial_success</c> is counted and logged, not resent: it does not say which spans, and the OTLP
/// specification forbids retrying it. A 400/413 refuses that request's content: counted, the rest is
/// still sent. Any other failure is an outage: nothing more is sent and the rest is returned to be
/// parked. Shared by the ingest and the xray-replay functions.
/// </summary>
public sealed class XRayOtlpForwarder
{
    /// <summary>Room kept under <see cref="XRayOtlpLimits.MaxRequestBytes"/> for the length prefixes of a request's nesting.</summary>
    private const int RequestSlack = 64 * 1024;

    private readonly IXRayOtlpClient _client;
    private readonly int _maxSpans;
    private readonly int _maxBytes;

    /// <param name="maxSpansPerRequest">Spans per request (the endpoint's limit by default; smaller in tests).</param>
    /// <param name="maxRequestBytes">Bytes per request (likewise).</param>
    public XRayOtlpForwarder(IXRayOtlpClient client, int maxSpansPerRequest = XRayOtlpLimits.MaxSpansPerRequest, int maxRequestBytes = XRayOtlpLimits.MaxRequestBytes)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSpansPerRequest, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxSpansPerRequest, XRayOtlpLimits.MaxSpansPerRequest);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRequestBytes, XRayOtlpLimits.MaxSpanBytes + XRayOtlpLimits.MaxResourceAndScopeBytes + 1024);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRequestBytes, XRayOtlpLimits.MaxRequestBytes);
        _maxSpans = maxSpansPerRequest;
        _maxBytes = maxRequestBytes;
    }

    /// <summary>Why the endpoint would refuse <paramref name="span"/> by its documented limits; null when it may be sent.</summary>
    public static string? UnsendableReason(in OtlpForwardSpan span, DateTimeOffset now)
    {
        if (OtlpProtobufEncoder.SpanFieldBytes(span.Span) > XRayOtlpLimits.MaxSpanBytes)
        {
            return "span_too_large";
        }

        if (OtlpProtobufEncoder.ResourceAndScopeBytes(span.Resource, span.Scope) > XRayOtlpLimits.MaxResourceAndScopeBytes)
        {
            return "resource_too_large";
        }

        var start = StartOf(span);
        if (start < now - XRayOtlpLimits.MaxSpanAge)
        {
            return "too_old";
        }

        return start > now + XRayOtlpLimits.MaxSpanSkew ? "too_far_ahead" : null;
    }

    /// <summary>
    /// The export requests for <paramref name="spans"/>, in span start order: each within the span,
    /// byte and time-range limits, spans grouped under their own resource and scope.
    /// </summary>
    public static IReadOnlyList<(byte[] Request, IReadOnlyList<OtlpForwardSpan> Spans)> Split(IReadOnlyList<OtlpForwardSpan> spans, int maxSpans = XRayOtlpLimits.MaxSpansPerRequest, int maxBytes = XRayOtlpLimits.MaxRequestBytes)
    {
        ArgumentNullException.ThrowIfNull(spans);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSpans, 1);
        var budget = Math.Max(maxBytes - RequestSlack, maxBytes / 2);
        var requests = new List<(byte[], IReadOnlyList<OtlpForwardSpan>)>();
        var chunk = new List<OtlpForwardSpan>();
        var groups = new HashSet<(OtlpResourceSpans, OtlpScopeSpans)>();
        long bytes = 0;
        ulong chunkStart = 0;
        foreach (var span in spans.OrderBy(s => s.Span.StartTimeUnixNano))
        {
            var spanBytes = OtlpProtobufEncoder.SpanFieldBytes(span.Span);
            var groupBytes = groups.Contains((span.Resource, span.Scope)) ? 0 : OtlpProtobufEncoder.ResourceAndScopeBytes(span.Resource, span.Scope) + 16;
            var tooLong = chunk.Count > 0 && span.Span.StartTimeUnixNano - chunkStart > (ulong)XRayOtlpLimits.MaxRequestTimeRange.Ticks * 100;
            if (chunk.Count > 0 && (chunk.Count == maxSpans || bytes + spanBytes + groupBytes > budget || tooLong))
            {
                Add(requests, chunk, maxBytes);
                chunk = [];
                groups.Clear();
                bytes = 0;
                groupBytes = OtlpProtobufEncoder.ResourceAndScopeBytes(span.Resource, span.Scope) + 16;
            }

            if (chunk.Count == 0)
            {
                chunkStart = span.Span.StartTimeUnixNano;
            }

            chunk.Add(span);
            groups.Add((span.Resource, span.Scope));
            bytes += spanBytes + groupBytes;
        }

        if (chunk.Count > 0)
        {
            Add(requests, chunk, maxBytes);
        }

        return requests;
    }

    /// <summary>One <c>ExportTraceServiceRequest</c> of <paramref name="spans"/>, each under a copy of its resource and scope (the originals' other spans left out).</summary>
    public static byte[] Encode(IEnumerable<OtlpForwardSpan> spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
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

        return OtlpProtobufEncoder.Encode(request);
    }

    /// <param name="spans">The spans to send (their traces were kept).</param>
    /// <param name="now">The clock the endpoint's time limits are judged against.</param>
    /// <param name="mayCall">Asked before each request; false (the deadline is near) parks the rest unsent.</param>
    /// <param name="log">Told of each partial success or refusal (count and the endpoint's message).</param>
    public async Task<OtlpForwardResult> SendAsync(IReadOnlyList<OtlpForwardSpan> spans, DateTimeOffset now, Func<bool> mayCall, Action<string>? log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spans);
        ArgumentNullException.ThrowIfNull(mayCall);
        var sendable = new List<OtlpForwardSpan>(spans.Count);
        var unsendable = 0;
        foreach (var span in spans)
        {
            if (UnsendableReason(span, now) is { } reason)
            {
                unsendable++;
                log?.Invoke($"span {Convert.ToHexStringLower(span.Span.SpanId)} of trace {Convert.ToHexStringLower(span.Span.TraceId)} not sent: {reason}");
                continue;
            }

            sendable.Add(span);
        }

        var sizes = new List<int>();
        var parked = new HashSet<OtlpForwardSpan>();
        long sent = 0, rejected = 0;
        var outage = false;
        foreach (var (request, members) in Split(sendable, _maxSpans, _maxBytes))
        {
            if (outage || !mayCall())
            {
                parked.UnionWith(members);
                continue;
            }

            sizes.Add(members.Count);
            try
            {
                var answer = await _client.ExportTracesAsync(request, cancellationToken).ConfigureAwait(false);
                sent += members.Count;
                if (answer.IsPartial)
                {
                    rejected += Math.Min(answer.RejectedSpans, members.Count);
                    log?.Invoke($"X-Ray's OTLP endpoint rejected {answer.RejectedSpans} of {members.Count} spans: {answer.ErrorMessage}");
                }
            }
            catch (AwsServiceException ex) when (ex.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge)
            {
                // The content is refused; sending it again would be refused again.
                rejected += members.Count;
                log?.Invoke($"X-Ray's OTLP endpoint refused a request of {members.Count} spans ({(int)ex.StatusCode} {ex.ErrorCode}): {ex.Message}");
            }
#pragma warning disable CA1031 // Any other failure of the view (X-Ray) parks the spans; the archive already holds them.
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                outage = true;
                parked.UnionWith(members);
                log?.Invoke($"X-Ray's OTLP endpoint failed ({ex.GetType().Name}: {ex.Message}); {members.Count} spans and the rest parked");
            }
        }

        return new OtlpForwardResult([.. spans.Where(parked.Contains)], sizes, sent, rejected, unsendable, outage);
    }

    private static DateTimeOffset StartOf(in OtlpForwardSpan span) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)Math.Min(span.Span.StartTimeUnixNano / 100, (ulong)(DateTimeOffset.MaxValue - DateTimeOffset.UnixEpoch).Ticks));

    /// <summary>Encodes one chunk; a chunk the estimate let grow past <paramref name="maxBytes"/> is halved until each part fits.</summary>
    private static void Add(List<(byte[], IReadOnlyList<OtlpForwardSpan>)> requests, List<OtlpForwardSpan> chunk, int maxBytes)
    {
        var encoded = Encode(chunk);
        if (encoded.Length <= maxBytes || chunk.Count == 1)
        {
            requests.Add((encoded, chunk));
            return;
        }

        var half = chunk.Count / 2;
        Add(requests, chunk[..half], maxBytes);
        Add(requests, chunk[half..], maxBytes);
    }
}
