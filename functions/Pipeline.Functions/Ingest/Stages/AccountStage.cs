using Microsoft.Extensions.Logging;
using Pipeline.Aws.Storage;
using Pipeline.Core.Archive;
using Pipeline.Core.Sampling;
using Pipeline.Core.Usage;
using Pipeline.Functions.Configuration;
using Pipeline.Lambda;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Functions.Ingest.Stages;

/// <summary>
/// The batch's accounts: the usage record (<see cref="ArchiveKeys.Usage"/>, for the cost report) of a
/// batch that succeeded, and — for every batch, failed or not — the one EMF line of the invocation's
/// counters. Counting rules (UsageRecord remarks): a trace is seen in the batch that has its root
/// segment; per service, once per trace it took part in. A failed usage write is counted (the cost
/// report then undercounts one batch); the shard is not stalled for it.
/// </summary>
internal sealed class AccountStage(IObjectStore store, IngestOptions options, IMetricsSink metrics, TimeProvider timeProvider) : IIngestStage
{
    private readonly IObjectStore _store = store ?? throw new ArgumentNullException(nameof(store));
    private readonly IngestOptions _options = options ?? throw new ArgumentNullException(nameof(options));
    private readonly IMetricsSink _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
    private readonly TimeProvider _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));

    public string Name => "account";

    public async Task RunAsync(IngestBatch batch, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        if (!batch.Failed)
        {
            await WriteUsageAsync(batch, context).ConfigureAwait(false);
        }

        _metrics.WriteLine(batch.Metrics.ToEmf(FunctionContract.IngestHandler, _timeProvider.GetUtcNow()));
    }

    private async Task WriteUsageAsync(IngestBatch batch, InvocationContext context)
    {
        Count(batch);
        var usage = batch.Usage;
        usage.AddS3Put(); // the usage file itself
        var record = usage.ToRecord(
            batch.Shard,
            batch.First.SequenceNumber,
            batch.Records[^1].Kinesis.SequenceNumber,
            batch.First.ApproximateArrivalTimestamp,
            (long)Math.Ceiling(_timeProvider.GetElapsedTime(batch.Started).TotalMilliseconds),
            _options.FunctionMemoryMb);
        try
        {
            await _store.PutAsync(
                _options.ArchiveBucket,
                ArchiveKeys.Usage(record.Shard, record.FirstSequence, record.ArrivedAt),
                UsageJson.Serialize(record),
                ArchiveObjects.JsonContentType,
                context.CancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The cost report undercounts one batch; the shard is not stalled for it.
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            batch.Metrics.UsageWriteErrors++;
            context.Logger.LogWarning(ex, "Could not write the usage record of {Shard}/{Sequence}", batch.Shard, batch.First.SequenceNumber);
        }
    }

    private static void Count(IngestBatch batch)
    {
        var serviceTraces = new HashSet<(string Service, string Trace)>();
        for (var i = 0; i < batch.Valid.Count; i++)
        {
            var segment = batch.Valid[i].Segment;
            var keep = batch.Kept[i];
            var service = segment.GetString(segment.Root.Name) ?? string.Empty;
            var trace = batch.Valid[i].TraceKey;
            var reason = keep
                ? ToKeepReason(batch.Decisions[i].Reason, batch.Remembered.TryGetValue(trace, out var prior) ? prior.Reason : SamplingReason.None)
                : (KeepReason?)null;
            batch.Usage.AddValidSegment(service, keep, batch.Valid[i].OtelSpans);
            if (keep)
            {
                batch.Metrics.SegmentsKept++;
            }

            if (!segment.IsIndependentSubsegment && !segment.Root.ParentId.IsPresent)
            {
                batch.Usage.AddTrace(reason);
                batch.Metrics.TracesSeen++;
                if (reason is not null)
                {
                    batch.Metrics.TracesKept++;
                }
            }

            if (serviceTraces.Add((service, trace)))
            {
                batch.Usage.AddServiceTrace(service, reason);
            }
        }
    }

    /// <summary>
    /// The usage record's coarser reasons. HTTP 5xx/429 counts as a fault (a 429 is rarer than a
    /// 5xx and the record has no status split); a remembered keep counts under its original reason.
    /// </summary>
    internal static KeepReason ToKeepReason(SamplingReason reason, SamplingReason rememberedReason) => reason switch
    {
        SamplingReason.TailError => KeepReason.TailError,
        SamplingReason.TailFault or SamplingReason.TailHttpStatus => KeepReason.TailFault,
        SamplingReason.TailThrottle => KeepReason.TailThrottle,
        SamplingReason.TailSlow => KeepReason.TailSlow,
        SamplingReason.Remembered when rememberedReason is not (SamplingReason.Remembered or SamplingReason.None) => ToKeepReason(rememberedReason, SamplingReason.None),
        _ => KeepReason.Head,
    };
}
