namespace Pipeline.Core.Sampling;

/// <summary>Why a segment was kept for X-Ray or dropped. Stable values: counters use them.</summary>
public enum SamplingReason
{
    None = 0,
    /// <summary>Kept by the trace-id hash under the matched rule's fixed rate.</summary>
    Head = 1,
    /// <summary>Kept by the matched rule's per-second reservoir (remembered, since it is not a pure function).</summary>
    HeadReservoir = 2,
    TailError = 3,
    TailFault = 4,
    TailThrottle = 5,
    /// <summary>HTTP status ≥ 500 or 429.</summary>
    TailHttpStatus = 6,
    TailSlow = 7,
    /// <summary>Kept because an earlier batch decided to keep this trace (decision store).</summary>
    Remembered = 8,
    /// <summary>No rule, tail policy or remembered decision kept it.</summary>
    Dropped = 9,
    /// <summary>No rule matched (an empty rule list): dropped.</summary>
    NoMatchingRule = 10,
}

/// <summary>The sampling outcome for one segment.</summary>
public readonly record struct SamplingDecision(bool Keep, SamplingReason Reason, string? RuleName = null)
{
    /// <summary>
    /// True when another batch cannot recompute this answer from the trace id and the rules alone
    /// (tail and reservoir keeps), so it must go to the <see cref="ITraceDecisionStore"/>.
    /// </summary>
    public bool ShouldRemember => Keep && Reason is not (SamplingReason.Head or SamplingReason.Remembered);
}

/// <summary>A remembered per-trace decision.</summary>
public readonly record struct TraceDecision(bool Keep, SamplingReason Reason, DateTimeOffset DecidedAt);

/// <summary>
/// Per-trace decisions shared across batches, shards and invocations, with a TTL. Keys are trace
/// ids in lowercase (<see cref="Segments.ParsedSegment.TraceIdKey"/>). The DynamoDB implementation
/// lives with the ingest; <see cref="InMemoryTraceDecisionStore"/> serves tests and local mode.
/// </summary>
public interface ITraceDecisionStore
{
    ValueTask<TraceDecision?> GetAsync(string traceId, CancellationToken cancellationToken = default);

    /// <summary>Returns only the trace ids that have a live decision.</summary>
    ValueTask<IReadOnlyDictionary<string, TraceDecision>> GetManyAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default);

    ValueTask PutAsync(string traceId, TraceDecision decision, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    ValueTask PutManyAsync(IReadOnlyCollection<KeyValuePair<string, TraceDecision>> decisions, TimeSpan timeToLive, CancellationToken cancellationToken = default);
}
