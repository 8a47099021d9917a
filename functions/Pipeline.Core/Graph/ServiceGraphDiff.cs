using System.Globalization;
using System.Text.Json.Serialization;

namespace Pipeline.Core.Graph;

/// <summary>
/// What changed in the service graph between two windows, as the cost report shows it: names and
/// short formatted values. The service-graph function writes the full <see cref="GraphDiffDocument"/>
/// into its graph document; <see cref="From"/> summarizes it, so the report depends on this
/// contract and not on the service-graph function.
/// </summary>
public sealed record ServiceGraphDiff
{
    /// <summary>The earlier graph window (its key or time range).</summary>
    public string? From { get; init; }

    public string? To { get; init; }
    public IReadOnlyList<string> AddedNodes { get; init; } = [];
    public IReadOnlyList<string> RemovedNodes { get; init; } = [];
    public IReadOnlyList<GraphEdgeChange> AddedEdges { get; init; } = [];
    public IReadOnlyList<GraphEdgeChange> RemovedEdges { get; init; } = [];
    public IReadOnlyList<GraphRegression> Regressions { get; init; } = [];

    [JsonIgnore]
    public bool IsEmpty =>
        AddedNodes.Count == 0 && RemovedNodes.Count == 0 && AddedEdges.Count == 0
        && RemovedEdges.Count == 0 && Regressions.Count == 0;

    /// <summary>
    /// The summary of <paramref name="document"/>'s diff against its previous window; null when
    /// the document carries no diff (the first window, or no previous graph).
    /// </summary>
    public static ServiceGraphDiff? Summarize(GraphDocument document, string? documentKey = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document.Diff is not { } d)
        {
            return null;
        }

        return new ServiceGraphDiff
        {
            From = d.PreviousKey,
            To = documentKey ?? $"{document.StartTime}..{document.EndTime}",
            AddedNodes = d.AddedNodes.Select(n => n.Name).ToList(),
            RemovedNodes = d.RemovedNodes.Select(n => n.Name).ToList(),
            AddedEdges = d.AddedEdges.Select(e => new GraphEdgeChange(e.From, e.To)).ToList(),
            RemovedEdges = d.RemovedEdges.Select(e => new GraphEdgeChange(e.From, e.To)).ToList(),
            Regressions = d.Regressions.Select(r => r.Metric == GraphDiff.P99Metric
                    ? new GraphRegression($"{r.From} -> {r.To}", "p99 latency", Millis(r.Before), Millis(r.After))
                    : new GraphRegression($"{r.From} -> {r.To}", "failure rate", Percent(r.Before), Percent(r.After)))
                .ToList(),
        };
    }

    private static string Millis(double seconds) => (seconds * 1000).ToString("0", CultureInfo.InvariantCulture) + " ms";

    private static string Percent(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}

public sealed record GraphEdgeChange(string From, string To);

/// <summary>A metric that got worse on a node or edge, e.g. ("checkout -> payments", "p99 latency", "120 ms", "480 ms").</summary>
public sealed record GraphRegression(string Subject, string Metric, string Before, string After);
