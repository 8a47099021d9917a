using Microsoft.Extensions.Logging;
using Pipeline.Core.Sampling;
using Pipeline.Lambda;

namespace Pipeline.Functions.Ingest.Stages;

/// <summary>
/// Sampling (Core <see cref="TraceSampler.DecideBatch"/>): tail policies keep a trace; else a
/// remembered keep from the decision store; else the first matching head rule by trace-id hash.
/// Only traces the batch would otherwise drop are looked up. <see cref="RememberAsync"/> stores the
/// new tail and reservoir keeps. A failing decision store is counted and sampling goes on without
/// it (late segments of a tail-kept trace may then miss X-Ray; the archive has them): this stage
/// never fails the batch.
/// </summary>
internal sealed class DecideStage(TraceSampler sampler, ITraceDecisionStore decisions) : IIngestStage
{
    private readonly TraceSampler _sampler = sampler ?? throw new ArgumentNullException(nameof(sampler));
    private readonly ITraceDecisionStore _decisions = decisions ?? throw new ArgumentNullException(nameof(decisions));

    public string Name => "decide";

    public async Task RunAsync(IngestBatch batch, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        var remembered = await LookUpAsync(batch, context).ConfigureAwait(false);
        batch.Remembered = remembered;
        batch.Decisions = _sampler.DecideBatch([.. batch.Valid.Select(v => v.Segment)], remembered, batch.Now, out var toRemember);
        batch.ToRemember = toRemember;
    }

    /// <summary>Stores the batch's new keep decisions; a failure is counted (late segments may then miss X-Ray), never thrown.</summary>
    public async Task RememberAsync(IngestBatch batch, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        if (batch.ToRemember.Count == 0)
        {
            return;
        }

        // Counted for the cost report when attempted: a failed call may have written part of it.
        batch.Usage.AddDecisionWrites(batch.ToRemember.Count);
        try
        {
            await _decisions.PutManyAsync([.. batch.ToRemember], _sampler.Policy.DecisionTimeToLive, context.CancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A lost decision costs late segments their keep, not the batch.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            batch.Metrics.DecisionStoreErrors++;
            context.Logger.LogWarning(ex, "Could not remember {Count} sampling decisions", batch.ToRemember.Count);
        }
    }

    /// <summary>Remembered decisions of the traces that neither a tail reason in the batch nor a fixed-rate keep decides.</summary>
    private async Task<IReadOnlyDictionary<string, TraceDecision>> LookUpAsync(IngestBatch batch, InvocationContext context)
    {
        var certain = new HashSet<string>(StringComparer.Ordinal);
        var uncertain = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (segment, _, key, _) in batch.Valid)
        {
            if (TraceSampler.TailReason(segment, _sampler.Policy.Tail) != SamplingReason.None
                || (_sampler.Match(segment) is { } rule && TraceHash.Unit(segment.TraceId) < rule.FixedRate))
            {
                certain.Add(key);
            }
            else
            {
                uncertain.Add(key);
            }
        }

        uncertain.ExceptWith(certain);
        if (uncertain.Count == 0)
        {
            return new Dictionary<string, TraceDecision>();
        }

        // Every key asked for is billed, found or not (the cost report's DynamoDB read units).
        batch.Usage.AddDecisionReads(uncertain.Count);
        try
        {
            return await _decisions.GetManyAsync(uncertain, context.CancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Sampling degrades to head + tail; the batch goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            batch.Metrics.DecisionStoreErrors++;
            context.Logger.LogWarning(ex, "Could not read {Count} sampling decisions", uncertain.Count);
            return new Dictionary<string, TraceDecision>();
        }
    }
}
