using Pipeline.Aws.XRay;

namespace Pipeline.Functions.Ingest;

/// <summary>A segment document to forward, with its <c>id</c> (how X-Ray names what it refused).</summary>
public readonly record struct ForwardDocument(string Id, string Document);

/// <summary>What a forward did: what X-Ray still refused (or was never asked, after an outage) and the calls made.</summary>
/// <param name="Refused">Documents to park in xray-retry/, in input order.</param>
/// <param name="CallSizes">Documents per PutTraceSegments call, one entry per call made.</param>
/// <param name="Outage">A call failed outright (after the client's own retries), so the rest was not sent.</param>
public sealed record ForwardResult(IReadOnlyList<ForwardDocument> Refused, IReadOnlyList<int> CallSizes, bool Outage)
{
    public int Calls => CallSizes.Count;
}

/// <summary>
/// Sends documents to X-Ray PutTraceSegments in calls of at most <see cref="XRayLimits.MaxSegmentsPerPut"/>.
/// Throttling and 5xx inside a call are retried by the client (bounded, jittered); what X-Ray
/// answers as UnprocessedTraceSegments is resent for a bounded number of rounds. A call that still
/// fails is an outage: nothing more is sent this time and the rest is returned as refused, so the
/// caller parks it instead of stalling. Shared by the ingest and the xray-replay functions.
/// </summary>
public sealed class XRayForwarder
{
    /// <summary>
    /// X-Ray refuses trace ids whose epoch (first 8 hex digits) is older than its 30-day retention.
    /// Source: AWS X-Ray developer guide ("Tracing identifiers"; traces are stored for 30 days) and the
    /// OTel Collector's awsxrayexporter, which refuses ids older than 28 days or 5 minutes ahead.
    /// </summary>
    public static readonly TimeSpan MaxTraceAge = TimeSpan.FromDays(30);

    /// <summary>How far ahead of the ingest's clock a trace epoch may be (as <see cref="Pipeline.Core.Segments.ValidationOptions.MaxTraceEpochSkew"/>).</summary>
    public static readonly TimeSpan MaxTraceEpochSkew = TimeSpan.FromDays(1);

    private readonly IXRayClient _xray;
    private readonly TimeProvider _timeProvider;
    private readonly int _retryRounds;
    private readonly TimeSpan _retryDelay;

    public XRayForwarder(IXRayClient xray, TimeProvider timeProvider, int retryRounds, TimeSpan retryDelay)
    {
        ArgumentNullException.ThrowIfNull(xray);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfNegative(retryRounds);
        ArgumentOutOfRangeException.ThrowIfLessThan(retryDelay, TimeSpan.Zero);
        _xray = xray;
        _timeProvider = timeProvider;
        _retryRounds = retryRounds;
        _retryDelay = retryDelay;
    }

    /// <summary>
    /// Whether X-Ray can take a trace id: its epoch within <see cref="MaxTraceAge"/> before and
    /// <see cref="MaxTraceEpochSkew"/> after <paramref name="now"/>. A converted OpenTelemetry span keeps
    /// its W3C trace id, whose first 4 bytes are random unless the service used the AWS X-Ray ID
    /// generator; such traces are archived and counted, never parked (a retry would never succeed).
    /// </summary>
    public static bool AcceptsTraceEpoch(ReadOnlySpan<byte> traceId, DateTimeOffset now)
    {
        var epoch = Pipeline.Core.Segments.SegmentValidator.TraceEpochSeconds(traceId);
        return epoch >= (now - MaxTraceAge).ToUnixTimeSeconds() && epoch <= (now + MaxTraceEpochSkew).ToUnixTimeSeconds();
    }

    /// <param name="mayCall">Asked before each call; false (e.g. the deadline is near) parks the rest unsent.</param>
    public async Task<ForwardResult> SendAsync(IReadOnlyList<ForwardDocument> documents, Func<bool> mayCall, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(mayCall);
        var calls = new List<int>();
        var parked = new List<ForwardDocument>();
        var pending = documents;
        var outage = false;
        var stopped = false;
        for (var round = 0; pending.Count > 0 && round <= _retryRounds && !stopped; round++)
        {
            if (round > 0 && _retryDelay > TimeSpan.Zero)
            {
                await Task.Delay(_retryDelay * round, _timeProvider, cancellationToken).ConfigureAwait(false);
            }

            var refused = new List<ForwardDocument>();
            foreach (var chunk in pending.Chunk(XRayLimits.MaxSegmentsPerPut))
            {
                stopped = stopped || outage || !mayCall();
                if (stopped)
                {
                    parked.AddRange(chunk);
                    continue;
                }

                IReadOnlyList<UnprocessedTraceSegment> unprocessed;
                try
                {
                    calls.Add(chunk.Length);
                    unprocessed = await _xray.PutTraceSegmentsAsync([.. chunk.Select(d => d.Document)], cancellationToken).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // Any failure of the view (X-Ray) parks the documents; the archive already holds them.
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    outage = stopped = true;
                    parked.AddRange(chunk);
                    continue;
                }

                refused.AddRange(Refused(chunk, unprocessed));
            }

            pending = refused;
        }

        // Input order, so a parked object reads like the batch it came from.
        var failed = new HashSet<ForwardDocument>(parked.Concat(pending));
        return new ForwardResult([.. documents.Where(failed.Contains)], calls, outage);
    }

    /// <summary>The documents of <paramref name="chunk"/> that X-Ray named as unprocessed. An entry without a known id refuses the whole chunk (a resend is harmless: X-Ray keys segments by id).</summary>
    private static IEnumerable<ForwardDocument> Refused(ForwardDocument[] chunk, IReadOnlyList<UnprocessedTraceSegment> unprocessed)
    {
        if (unprocessed.Count == 0)
        {
            return [];
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var u in unprocessed)
        {
            if (u.Id is null || !chunk.Any(d => string.Equals(d.Id, u.Id, StringComparison.Ordinal)))
            {
                return chunk;
            }

            ids.Add(u.Id);
        }

        return chunk.Where(d => ids.Contains(d.Id));
    }
}
