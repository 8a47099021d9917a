namespace Pipeline.Core.Sampling;

/// <summary>
/// Bounded in-memory <see cref="ITraceDecisionStore"/> for tests and local mode. Expiry uses the
/// injected clock; when full, the oldest insertions are evicted first (and counted).
/// </summary>
public sealed class InMemoryTraceDecisionStore(TimeProvider timeProvider, int capacity = 100_000) : ITraceDecisionStore
{
    private readonly Dictionary<string, (TraceDecision Decision, DateTimeOffset ExpiresAt)> _entries = new(StringComparer.Ordinal);
    private readonly Queue<(string TraceId, DateTimeOffset ExpiresAt)> _insertionOrder = new();
    private readonly Lock _lock = new();

    /// <summary>Live decisions evicted because the store was full.</summary>
    public long Evictions { get; private set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public ValueTask<TraceDecision?> GetAsync(string traceId, CancellationToken cancellationToken = default)
    {
        var now = timeProvider.GetUtcNow();
        lock (_lock)
        {
            return ValueTask.FromResult(TryGetLive(traceId, now, out var decision) ? decision : (TraceDecision?)null);
        }
    }

    public ValueTask<IReadOnlyDictionary<string, TraceDecision>> GetManyAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traceIds);
        var now = timeProvider.GetUtcNow();
        var found = new Dictionary<string, TraceDecision>(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var traceId in traceIds)
            {
                if (TryGetLive(traceId, now, out var decision))
                {
                    found[traceId] = decision;
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyDictionary<string, TraceDecision>>(found);
    }

    public ValueTask PutAsync(string traceId, TraceDecision decision, TimeSpan timeToLive, CancellationToken cancellationToken = default) =>
        PutManyAsync([new KeyValuePair<string, TraceDecision>(traceId, decision)], timeToLive, cancellationToken);

    public ValueTask PutManyAsync(IReadOnlyCollection<KeyValuePair<string, TraceDecision>> decisions, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        var expiresAt = timeProvider.GetUtcNow() + timeToLive;
        lock (_lock)
        {
            foreach (var (traceId, decision) in decisions)
            {
                ArgumentNullException.ThrowIfNull(traceId);
                _entries[traceId] = (decision, expiresAt);
                _insertionOrder.Enqueue((traceId, expiresAt));
                Trim();
            }
        }

        return ValueTask.CompletedTask;
    }

    private bool TryGetLive(string traceId, DateTimeOffset now, out TraceDecision decision)
    {
        if (_entries.TryGetValue(traceId, out var entry) && entry.ExpiresAt > now)
        {
            decision = entry.Decision;
            return true;
        }

        decision = default;
        return false;
    }

    private void Trim()
    {
        var now = timeProvider.GetUtcNow();
        while (_insertionOrder.TryPeek(out var head))
        {
            var live = _entries.TryGetValue(head.TraceId, out var entry) && entry.ExpiresAt == head.ExpiresAt;
            if (live && head.ExpiresAt > now && _entries.Count <= capacity)
            {
                break;
            }

            _insertionOrder.Dequeue();
            if (live)
            {
                if (head.ExpiresAt > now)
                {
                    Evictions++;
                }

                _entries.Remove(head.TraceId);
            }
        }

        // Re-puts leave stale queue entries behind a live head; compact them so the queue stays bounded.
        if (_insertionOrder.Count > (2 * capacity) + 16)
        {
            var liveEntries = _insertionOrder.Where(e => _entries.TryGetValue(e.TraceId, out var entry) && entry.ExpiresAt == e.ExpiresAt).ToList();
            _insertionOrder.Clear();
            foreach (var e in liveEntries)
            {
                _insertionOrder.Enqueue(e);
            }
        }
    }
}
