namespace Pipeline.Core.Graph;

/// <summary>What a node stands for; decides its shape in pictures and how it was found.</summary>
public enum GraphNodeKind
{
    /// <summary>The callers of requests that have no parent (X-Ray's "client" node).</summary>
    Client,

    /// <summary>An instrumented service: the name of its segments (and origin as type).</summary>
    Service,

    /// <summary>An untraced HTTP host called from a <c>remote</c> subsegment.</summary>
    Remote,

    /// <summary>An AWS service or resource called through an AWS SDK (<c>namespace: aws</c>).</summary>
    Aws,

    /// <summary>A SQL database (a subsegment with a <c>sql</c> block).</summary>
    Database,
}

/// <summary>How one call or request ended, X-Ray's classes: fault (5xx) over throttle (429) over error (4xx).</summary>
public enum CallOutcome
{
    Ok,
    Error,
    Throttle,
    Fault,
}

/// <summary>Why the builder did not count something; each has a counter in <see cref="GraphBuildCounters"/>.</summary>
public enum GraphSkipReason
{
    /// <summary>The line was not a segment document the parser accepts.</summary>
    Unparseable,

    /// <summary>An in-progress segment: its completed copy is counted instead.</summary>
    InProgress,

    /// <summary>Root start time outside [window start, window end).</summary>
    OutsideWindow,

    /// <summary>No start or end time, or an id / trace id that is not X-Ray's hex format.</summary>
    MalformedEntity,

    /// <summary>A call subsegment still in progress (no duration).</summary>
    CallInProgress,

    /// <summary>A call nested inside another call subsegment (the outer one is the edge).</summary>
    NestedCall,

    /// <summary>A segment with a parent id whose calling subsegment is not in the window: counted as called by the client.</summary>
    ParentNotInWindow,

    /// <summary>An independent subsegment whose owning segment never arrived in the window.</summary>
    OwnerNotInWindow,

    /// <summary>The pending-join map was full: the call was resolved at once (to its inferred node).</summary>
    PendingOverflow,

    /// <summary>The node table was full: the call or segment was dropped.</summary>
    NodeOverflow,

    /// <summary>A second child segment for a call already matched (duplicate delivery).</summary>
    DuplicateChild,
}

/// <summary>Request counts and response times of an edge (or of a node's own segments).</summary>
public sealed class EdgeStatistics
{
    public long TotalCount { get; private set; }
    public long OkCount { get; private set; }

    /// <summary>4xx other than 429.</summary>
    public long ErrorOtherCount { get; private set; }

    public long ThrottleCount { get; private set; }
    public long FaultCount { get; private set; }

    /// <summary>Sum of response times in seconds.</summary>
    public double TotalResponseTime { get; private set; }

    public LatencySketch Latency { get; } = new();

    /// <summary>Errors as X-Ray counts them: throttles plus other 4xx.</summary>
    public long ErrorCount => ErrorOtherCount + ThrottleCount;

    public double FaultRate => TotalCount == 0 ? 0 : (double)FaultCount / TotalCount;

    /// <summary>Requests that did not end OK (error, throttle or fault), as a fraction.</summary>
    public double FailureRate => TotalCount == 0 ? 0 : (double)(TotalCount - OkCount) / TotalCount;

    public void Add(double seconds, CallOutcome outcome)
    {
        Count(outcome, 1);
        TotalResponseTime += seconds;
        Latency.Add(seconds);
    }

    /// <summary>Adds <paramref name="count"/> calls whose times are already bucketed (grouped query rows).</summary>
    public void AddCounts(CallOutcome outcome, long count, double totalSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Count(outcome, count);
        TotalResponseTime += totalSeconds;
    }

    public void Merge(EdgeStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        TotalCount += other.TotalCount;
        OkCount += other.OkCount;
        ErrorOtherCount += other.ErrorOtherCount;
        ThrottleCount += other.ThrottleCount;
        FaultCount += other.FaultCount;
        TotalResponseTime += other.TotalResponseTime;
        Latency.Merge(other.Latency);
    }

    private void Count(CallOutcome outcome, long count)
    {
        TotalCount += count;
        switch (outcome)
        {
            case CallOutcome.Ok:
                OkCount += count;
                break;
            case CallOutcome.Error:
                ErrorOtherCount += count;
                break;
            case CallOutcome.Throttle:
                ThrottleCount += count;
                break;
            default:
                FaultCount += count;
                break;
        }
    }
}

/// <summary>Latency percentiles in seconds (NaN when there were no timed calls).</summary>
public readonly record struct Percentiles(double P50, double P90, double P99)
{
    public static Percentiles Of(LatencySketch sketch)
    {
        ArgumentNullException.ThrowIfNull(sketch);
        return new(sketch.Quantile(0.5), sketch.Quantile(0.9), sketch.Quantile(0.99));
    }
}

/// <param name="ReferenceId">Index in <see cref="ServiceGraph.Nodes"/>: stable for the same input.</param>
/// <param name="Depth">Call depth from the client (layout column); nodes not reached from it start at 1.</param>
/// <param name="Summary">For services, their own segments; for inferred nodes, every call into them.</param>
public sealed record GraphNode(int ReferenceId, string Name, string Type, GraphNodeKind Kind, bool Root, int Depth, EdgeStatistics Summary);

/// <param name="Percentiles">From <see cref="EdgeStatistics.Latency"/>, or from the SQL engine's approx_percentile.</param>
public sealed record GraphEdge(int From, int To, EdgeStatistics Statistics, Percentiles Percentiles);

/// <summary>What the builder consumed and skipped, by reason.</summary>
public sealed class GraphBuildCounters
{
    private readonly long[] _skipped = new long[Enum.GetValues<GraphSkipReason>().Length];

    /// <summary>Documents (segments and independent subsegments) counted into the graph.</summary>
    public long Documents { get; internal set; }

    public long Calls { get; internal set; }

    /// <summary>Largest number of entries the pending-join maps held at once.</summary>
    public long PeakPending { get; internal set; }

    public long Skipped(GraphSkipReason reason) => _skipped[(int)reason];

    public IEnumerable<(GraphSkipReason Reason, long Count)> NonZero() =>
        Enum.GetValues<GraphSkipReason>().Where(r => _skipped[(int)r] != 0).Select(r => (r, _skipped[(int)r]));

    /// <summary>For readers that drop a line before it reaches the parser (e.g. longer than any segment).</summary>
    public void SkipUnparseable() => Skip(GraphSkipReason.Unparseable);

    internal void Skip(GraphSkipReason reason, long count = 1) => _skipped[(int)reason] += count;
}

/// <summary>The service map of one window: nodes sorted (client first, then by name, type), edges by (from, to).</summary>
public sealed record ServiceGraph(
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    IReadOnlyList<GraphNode> Nodes,
    IReadOnlyList<GraphEdge> Edges,
    GraphBuildCounters Counters,
    string Engine)
{
    public GraphNode? Find(string name) => Nodes.FirstOrDefault(n => n.Name == name);

    public GraphEdge? Edge(string from, string to) =>
        Edges.FirstOrDefault(e => Nodes[e.From].Name == from && Nodes[e.To].Name == to);
}
