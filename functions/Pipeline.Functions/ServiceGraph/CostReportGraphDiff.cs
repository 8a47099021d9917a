using System.Globalization;
using Pipeline.Aws.Storage;
using Pipeline.Core.Graph;
using Pipeline.Functions.CostReport;

namespace Pipeline.Functions.ServiceGraph;

/// <summary>
/// The cost report's graph-diff input (<see cref="ServiceGraphDiff"/>, short formatted values)
/// from a graph document's diff. The cost report reads the latest graph JSON and passes
/// <c>CostReportGraphDiff.From(document, jsonKey)</c> to <c>CostReportBuilder.Build</c>.
/// </summary>
public static class CostReportGraphDiff
{
    public static ServiceGraphDiff? From(GraphDocument document, string? documentKey = null)
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

    /// <summary>
    /// The diff of the latest graph written on <paramref name="day"/> (or the day before, when
    /// that day has none yet), mapped for the report; null when there is no graph.
    /// </summary>
    public static async Task<ServiceGraphDiff?> LoadLatestAsync(IObjectStore store, string bucket, DateOnly day, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        foreach (var d in new[] { day, day.AddDays(-1) })
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"{ServiceGraphJson.GraphsPrefix}dt={d:yyyy-MM-dd}/");
            var latest = (await store.ListAsync(bucket, prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
                .Where(o => o.Key.EndsWith(".json", StringComparison.Ordinal))
                .Select(o => o.Key)
                .Order(StringComparer.Ordinal)
                .LastOrDefault();
            if (latest is not null
                && await store.GetAsync(bucket, latest, cancellationToken).ConfigureAwait(false) is { } bytes
                && ServiceGraphJson.TryDeserialize(bytes) is { } document)
            {
                return From(document, latest);
            }
        }

        return null;
    }

    private static string Millis(double seconds) => (seconds * 1000).ToString("0", CultureInfo.InvariantCulture) + " ms";

    private static string Percent(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}
