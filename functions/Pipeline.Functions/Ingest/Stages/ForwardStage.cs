using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Aws.Storage;
using Pipeline.Core.Archive;
using Pipeline.Lambda;

namespace Pipeline.Functions.Ingest.Stages;

/// <summary>
/// X-Ray is a view, not the store: kept segments go to PutTraceSegments (<see cref="XRayForwarder"/>,
/// ≤ 50 a call, unprocessed ones resent for a bounded number of rounds); what X-Ray still refuses —
/// or was never asked because a call failed outright or the deadline is near — is parked in
/// <see cref="ArchiveKeys.XRayRetry"/> (deterministic key, plain NDJSON) for the xray-replay
/// function. Only a failed park fails the batch (every write is idempotent and X-Ray keys
/// segments by id, so a full retry is safe).
/// </summary>
internal sealed class ForwardStage(XRayForwarder forwarder, IObjectStore store, IngestOptions options) : IIngestStage
{
    private readonly XRayForwarder _forwarder = forwarder ?? throw new ArgumentNullException(nameof(forwarder));
    private readonly IObjectStore _store = store ?? throw new ArgumentNullException(nameof(store));
    private readonly IngestOptions _options = options ?? throw new ArgumentNullException(nameof(options));

    public string Name => "forward";

    public async Task RunAsync(IngestBatch batch, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        var kept = new List<ForwardDocument>();
        batch.Kept = new bool[batch.Valid.Count];
        var unforwardable = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Valid.Count; i++)
        {
            batch.Kept[i] = _options.ForwardToXRay && batch.Decisions[i].Keep;
            if (batch.Kept[i] && !XRayForwarder.AcceptsTraceEpoch(batch.Valid[i].Segment.TraceId, batch.Now))
            {
                // Parking would not help: X-Ray will never take this trace id. Archived, counted under its own reason.
                batch.Kept[i] = false;
                batch.Metrics.XRayNoEpochSegments++;
                unforwardable.Add(batch.Valid[i].TraceKey);
            }

            if (batch.Kept[i])
            {
                var segment = batch.Valid[i];
                kept.Add(new ForwardDocument(segment.Segment.GetString(segment.Segment.Root.Id) ?? string.Empty, Encoding.UTF8.GetString(segment.Document.Span)));
            }
        }

        batch.Metrics.XRayNoEpochTraces = unforwardable.Count;
        if (kept.Count == 0)
        {
            return;
        }

        var result = await _forwarder.SendAsync(kept, () => context.RemainingTime > _options.XRayDeadlineReserve, context.CancellationToken).ConfigureAwait(false);
        foreach (var size in result.CallSizes)
        {
            batch.Usage.AddXRayPut(size);
        }

        batch.Metrics.XRayCalls = result.Calls;
        if (result.Refused.Count == 0)
        {
            return;
        }

        if (await ParkAsync(batch, result, context).ConfigureAwait(false))
        {
            batch.Usage.AddS3Put();
        }
        else
        {
            batch.RetryFromFirstRecord();
        }
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
