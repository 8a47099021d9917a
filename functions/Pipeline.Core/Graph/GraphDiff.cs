namespace Pipeline.Core.Graph;

/// <summary>
/// When an edge present in both windows counts as a regression. Failure rate = (errors + throttles
/// + faults) / requests; p99 from the latency sketch. Both windows need
/// <see cref="MinRequests"/> requests on the edge, so one slow call in a quiet hour is not news.
/// </summary>
/// <param name="FailureRateIncrease">Absolute increase of the failure rate (0.05 = 5 percentage points).</param>
/// <param name="P99Ratio">New p99 at least this multiple of the old one…</param>
/// <param name="P99MinIncreaseSeconds">…and at least this much higher (seconds).</param>
public sealed record GraphDiffOptions(
    double FailureRateIncrease = 0.05,
    double P99Ratio = 1.5,
    double P99MinIncreaseSeconds = 0.05,
    long MinRequests = 10)
{
    public static GraphDiffOptions Default { get; } = new();
}

/// <summary>Compares two windows' documents: nodes by (name, type), edges by their ends' names and types.</summary>
public static class GraphDiff
{
    public const string FailureRateMetric = "failure_rate";
    public const string P99Metric = "p99";

    /// <param name="previous">The previous window's document, or null when there is none.</param>
    public static GraphDiffDocument Compare(GraphDocument? previous, GraphDocument current, string? previousKey, GraphDiffOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        options ??= GraphDiffOptions.Default;
        var before = previous is null ? new Snapshot([], []) : Snapshot.Of(previous);
        var after = Snapshot.Of(current);

        var addedNodes = after.Nodes.Keys.Where(k => !before.Nodes.ContainsKey(k)).Order().Select(k => new NodeRefDocument(k.Name, k.Type)).ToList();
        var removedNodes = before.Nodes.Keys.Where(k => !after.Nodes.ContainsKey(k)).Order().Select(k => new NodeRefDocument(k.Name, k.Type)).ToList();
        var addedEdges = after.Edges.Keys.Where(k => !before.Edges.ContainsKey(k)).Order().Select(k => new EdgeRefDocument(k.From.Name, k.To.Name)).ToList();
        var removedEdges = before.Edges.Keys.Where(k => !after.Edges.ContainsKey(k)).Order().Select(k => new EdgeRefDocument(k.From.Name, k.To.Name)).ToList();

        var regressions = new List<RegressionDocument>();
        foreach (var (key, now) in after.Edges.OrderBy(e => e.Key))
        {
            if (!before.Edges.TryGetValue(key, out var then)
                || now.SummaryStatistics.TotalCount < options.MinRequests
                || then.SummaryStatistics.TotalCount < options.MinRequests)
            {
                continue;
            }

            var rateThen = FailureRate(then.SummaryStatistics);
            var rateNow = FailureRate(now.SummaryStatistics);
            if (rateNow - rateThen >= options.FailureRateIncrease)
            {
                regressions.Add(new RegressionDocument(key.From.Name, key.To.Name, FailureRateMetric, rateThen, rateNow));
            }

            if (then.Percentiles.P99 is { } p99Then && now.Percentiles.P99 is { } p99Now
                && p99Now >= p99Then * options.P99Ratio && p99Now - p99Then >= options.P99MinIncreaseSeconds)
            {
                regressions.Add(new RegressionDocument(key.From.Name, key.To.Name, P99Metric, p99Then, p99Now));
            }
        }

        return new GraphDiffDocument
        {
            PreviousKey = previousKey,
            AddedNodes = addedNodes,
            RemovedNodes = removedNodes,
            AddedEdges = addedEdges,
            RemovedEdges = removedEdges,
            Regressions = regressions,
            Thresholds = options,
        };
    }

    public static double FailureRate(SummaryStatisticsDocument s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.TotalCount == 0 ? 0 : (double)(s.TotalCount - s.OkCount) / s.TotalCount;
    }

    private readonly record struct NodeKey(string Name, string Type) : IComparable<NodeKey>
    {
        public int CompareTo(NodeKey other)
        {
            var c = string.CompareOrdinal(Name, other.Name);
            return c != 0 ? c : string.CompareOrdinal(Type, other.Type);
        }
    }

    private readonly record struct EdgeKey(NodeKey From, NodeKey To) : IComparable<EdgeKey>
    {
        public int CompareTo(EdgeKey other)
        {
            var c = From.CompareTo(other.From);
            return c != 0 ? c : To.CompareTo(other.To);
        }
    }

    private sealed record Snapshot(Dictionary<NodeKey, ServiceDocument> Nodes, Dictionary<EdgeKey, EdgeDocument> Edges)
    {
        public static Snapshot Of(GraphDocument document)
        {
            var byId = document.Services.ToDictionary(s => s.ReferenceId);
            var nodes = new Dictionary<NodeKey, ServiceDocument>();
            var edges = new Dictionary<EdgeKey, EdgeDocument>();
            foreach (var s in document.Services)
            {
                var from = new NodeKey(s.Name, s.Type);
                nodes.TryAdd(from, s);
                foreach (var e in s.Edges)
                {
                    if (byId.TryGetValue(e.ReferenceId, out var callee))
                    {
                        edges.TryAdd(new EdgeKey(from, new NodeKey(callee.Name, callee.Type)), e);
                    }
                }
            }

            return new Snapshot(nodes, edges);
        }
    }
}
