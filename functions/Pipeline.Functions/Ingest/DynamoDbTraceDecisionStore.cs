using Pipeline.Aws.DynamoDb;
using Pipeline.Core.Sampling;

namespace Pipeline.Functions.Ingest;

/// <summary>
/// <see cref="ITraceDecisionStore"/> on the DynamoDB decision table. Pipeline.Aws knows nothing of
/// Core, so this adapter maps <see cref="TraceDecision"/> to the table's item (reason by enum name).
/// </summary>
public sealed class DynamoDbTraceDecisionStore(DynamoDbDecisionTable table, TimeProvider timeProvider) : ITraceDecisionStore
{
    public async ValueTask<TraceDecision?> GetAsync(string traceId, CancellationToken cancellationToken = default)
    {
        var found = await GetManyAsync([traceId], cancellationToken).ConfigureAwait(false);
        return found.TryGetValue(traceId, out var decision) ? decision : null;
    }

    public async ValueTask<IReadOnlyDictionary<string, TraceDecision>> GetManyAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traceIds);
        if (traceIds.Count == 0)
        {
            return new Dictionary<string, TraceDecision>();
        }

        var stored = await table.GetLiveAsync(traceIds, cancellationToken).ConfigureAwait(false);
        return stored.ToDictionary(
            s => s.Key,
            s => new TraceDecision(s.Value.Keep, Enum.TryParse<SamplingReason>(s.Value.Reason, out var reason) ? reason : SamplingReason.None, s.Value.DecidedAt),
            StringComparer.Ordinal);
    }

    public ValueTask PutAsync(string traceId, TraceDecision decision, TimeSpan timeToLive, CancellationToken cancellationToken = default) =>
        PutManyAsync([new KeyValuePair<string, TraceDecision>(traceId, decision)], timeToLive, cancellationToken);

    public async ValueTask PutManyAsync(IReadOnlyCollection<KeyValuePair<string, TraceDecision>> decisions, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        if (decisions.Count == 0)
        {
            return;
        }

        var expiresAt = timeProvider.GetUtcNow() + timeToLive;
        await table.PutAsync(
            [.. decisions.Select(d => new StoredDecision(d.Key, d.Value.Keep, d.Value.Reason.ToString(), d.Value.DecidedAt, expiresAt))],
            cancellationToken).ConfigureAwait(false);
    }
}
