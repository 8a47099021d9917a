using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Aws.Storage;
using Pipeline.Core.Archive;
using Pipeline.Core.Otlp;
using Pipeline.Lambda;

namespace Pipeline.Functions.Ingest.Stages;

/// <summary>
/// X-Ray is a view, not the store. By <see cref="IngestOptions.XRayForward"/>:
/// <list type="bullet">
/// <item><see cref="XRayForwardMode.Segments"/>: kept documents go to PutTraceSegments
/// (<see cref="XRayForwarder"/>, ≤ 50 a call, unprocessed ones resent for a bounded number of rounds);
/// a kept document whose trace id has no epoch X-Ray accepts (W3C random ids) is counted, not sent.</item>
/// <item><see cref="XRayForwardMode.Otlp"/>: kept traces' OTel spans go as received (resource and
/// scope kept, redacted by the same policy) to X-Ray's OTLP endpoint (<see cref="XRayOtlpForwarder"/>);
/// X-Ray SDK documents still go to PutTraceSegments.</item>
/// </list>
/// What X-Ray still refuses after retries — or was never asked because a call failed outright or the
/// deadline is near — is parked in <see cref="ArchiveKeys.XRayRetry"/> (documents, plain NDJSON) and
/// <see cref="ArchiveKeys.XRayRetryOtlp"/> (spans, one OTLP record) for the xray-replay function. Only a
/// failed park fails the batch (every write is idempotent and X-Ray keys segments and spans by id, so a
/// full retry is safe).
/// </summary>
internal sealed class ForwardStage : IIngestStage
{
    private readonly XRayForwarder _forwarder;
    private readonly XRayOtlpForwarder? _otlp;
    private readonly OtlpRedactor _redactor;
    private readonly IObjectStore _store;
    private readonly IngestOptions _options;

    /// <param name="otlp">Required when <see cref="IngestOptions.XRayForward"/> is <see cref="XRayForwardMode.Otlp"/>.</param>
    public ForwardStage(XRayForwarder forwarder, IObjectStore store, IngestOptions options, XRayOtlpForwarder? otlp = null)
    {
        _forwarder = forwarder ?? throw new ArgumentNullException(nameof(forwarder));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.XRayForward == XRayForwardMode.Otlp && otlp is null)
        {
            throw new ArgumentException("XRAY_FORWARD=otlp needs the OTLP forwarder.", nameof(otlp));
        }

        _otlp = otlp;
        _redactor = new OtlpRedactor(options.Redaction);
    }

    public string Name => "forward";

    public async Task RunAsync(IngestBatch batch, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        var mode = _options.XRayForward;
        var kept = new List<ForwardDocument>();
        var otlpTraces = new HashSet<string>(StringComparer.Ordinal);
        batch.Kept = new bool[batch.Valid.Count];
        var unforwardable = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Valid.Count; i++)
        {
            var segment = batch.Valid[i];
            batch.Kept[i] = mode != XRayForwardMode.Off && batch.Decisions[i].Keep;
            if (!batch.Kept[i])
            {
                continue;
            }

            if (mode == XRayForwardMode.Otlp && segment.OtelSpans > 0)
            {
                // Its spans go to the OTLP endpoint, which takes W3C random trace ids.
                otlpTraces.Add(segment.TraceKey);
                continue;
            }

            if (!XRayForwarder.AcceptsTraceEpoch(segment.Segment.TraceId, batch.Now))
            {
                // Parking would not help: X-Ray will never take this trace id. Archived, counted under its own reason.
                batch.Kept[i] = false;
                batch.Metrics.XRayNoEpochSegments++;
                unforwardable.Add(segment.TraceKey);
                continue;
            }

            kept.Add(new ForwardDocument(segment.Segment.GetString(segment.Segment.Root.Id) ?? string.Empty, Encoding.UTF8.GetString(segment.Document.Span)));
        }

        batch.Metrics.XRayNoEpochTraces = unforwardable.Count;
        var mayCall = () => context.RemainingTime > _options.XRayDeadlineReserve;
        var parked = true;
        if (kept.Count > 0)
        {
            var result = await _forwarder.SendAsync(kept, mayCall, context.CancellationToken).ConfigureAwait(false);
            foreach (var size in result.CallSizes)
            {
                batch.Usage.AddXRayPut(size);
            }

            batch.Metrics.XRayCalls = result.Calls;
            if (result.Refused.Count > 0)
            {
                parked = await ParkAsync(batch, result, context).ConfigureAwait(false);
            }
        }

        if (otlpTraces.Count > 0)
        {
            parked &= await ForwardOtlpAsync(batch, otlpTraces, mayCall, context).ConfigureAwait(false);
        }

        if (!parked)
        {
            batch.RetryFromFirstRecord();
        }
    }

    /// <summary>Sends the kept traces' spans to the OTLP endpoint and parks what it did not take. False when parking failed.</summary>
    private async Task<bool> ForwardOtlpAsync(IngestBatch batch, HashSet<string> traces, Func<bool> mayCall, InvocationContext context)
    {
        var spans = new List<OtlpForwardSpan>();
        foreach (var trace in traces.Order(StringComparer.Ordinal))
        {
            if (batch.OtelSpans.TryGetValue(trace, out var ofTrace))
            {
                spans.AddRange(ofTrace);
            }
        }

        if (spans.Count == 0)
        {
            return true;
        }

        foreach (var span in spans)
        {
            batch.Metrics.XRayOtlpRedactions += _redactor.Redact(span.Span);
        }

        foreach (var group in spans.Select(s => (s.Resource, s.Scope)).Distinct())
        {
            batch.Metrics.XRayOtlpRedactions += RedactOnce(group.Resource, group.Scope);
        }

        var logger = context.Logger;
        var result = await _otlp!.SendAsync(spans, batch.Now, mayCall, message => logger.LogWarning("{Message}", message), context.CancellationToken).ConfigureAwait(false);
        batch.Metrics.XRayOtlpRequests = result.Requests;
        batch.Metrics.XRayOtlpSpansSent = result.Sent - result.Rejected;
        batch.Metrics.XRayOtlpSpansRejected = result.Rejected;
        batch.Metrics.XRayOtlpSpansUnsendable = result.Unsendable;
        if (result.Parked.Count == 0)
        {
            return true;
        }

        var key = ArchiveKeys.XRayRetryOtlp(batch.Shard, batch.First.SequenceNumber, batch.First.ApproximateArrivalTimestamp);
        try
        {
            var record = OtlpRecord.Create(XRayOtlpForwarder.Encode(result.Parked));
            await _store.PutAsync(_options.ArchiveBucket, key, record, ArchiveObjects.OtlpContentType, context.CancellationToken).ConfigureAwait(false);
            batch.Usage.AddS3Put();
            batch.Metrics.XRayOtlpSpansParked = result.Parked.Count;
            logger.LogWarning("X-Ray's OTLP endpoint did not take {Count} spans{Outage}; parked in {Key}", result.Parked.Count, result.Outage ? " (outage)" : string.Empty, key);
            return true;
        }
#pragma warning disable CA1031 // Reported as a batch failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogError(ex, "Could not park {Count} spans X-Ray's OTLP endpoint did not take; reporting the batch for retry", result.Parked.Count);
            return false;
        }
    }

    /// <summary>A resource and a scope are shared by many spans: redacted once (the mask makes a second pass a no-op anyway).</summary>
    private int RedactOnce(OtlpResourceSpans resource, OtlpScopeSpans scope)
    {
        var request = new OtlpTraceRequest();
        var resourceSpans = new OtlpResourceSpans { Resource = resource.Resource };
        resourceSpans.ScopeSpans.Add(new OtlpScopeSpans { Scope = scope.Scope });
        request.ResourceSpans.Add(resourceSpans);
        return _redactor.Redact(request);
    }

    /// <summary>Writes the refused documents to xray-retry/ (one object per batch). False when that failed too.</summary>
    private async Task<bool> ParkAsync(IngestBatch batch, ForwardResult result, InvocationContext context)
    {
        var lines = new ArrayBufferWriter<byte>(result.Refused.Sum(d => d.Document.Length + 1));
        foreach (var document in result.Refused)
        {
            ArchiveLines.WriteSegment(lines, Encoding.UTF8.GetBytes(document.Document));
        }

        var key = ArchiveKeys.XRayRetry(batch.Shard, batch.First.SequenceNumber, batch.First.ApproximateArrivalTimestamp);
        try
        {
            await _store.PutAsync(_options.ArchiveBucket, key, lines.WrittenMemory, ArchiveObjects.NdjsonContentType, context.CancellationToken).ConfigureAwait(false);
            batch.Usage.AddS3Put();
            batch.Metrics.XRayParked = result.Refused.Count;
            context.Logger.LogWarning("X-Ray did not take {Count} segments{Outage}; parked in {Key}", result.Refused.Count, result.Outage ? " (outage)" : string.Empty, key);
            return true;
        }
#pragma warning disable CA1031 // Reported as a batch failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            context.Logger.LogError(ex, "Could not park {Count} segments X-Ray refused; reporting the batch for retry", result.Refused.Count);
            return false;
        }
    }
}
