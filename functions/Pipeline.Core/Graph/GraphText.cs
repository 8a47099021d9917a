using System.Globalization;
using System.Text;

namespace Pipeline.Core.Graph;

/// <summary>The Graphviz (.dot) form of a graph and the ASCII edge summary <c>pipeline graph</c> prints.</summary>
public static class GraphText
{
    public static string Dot(GraphDocument graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var byId = graph.Services.ToDictionary(s => s.ReferenceId);
        var sb = new StringBuilder();
        sb.Append("digraph service_graph {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\"];\n");
        sb.Append(CultureInfo.InvariantCulture, $"  label={Quote($"{graph.StartTime} – {graph.EndTime}")};\n");
        foreach (var s in graph.Services)
        {
            var stats = s.SummaryStatistics;
            var faultRate = stats is null || stats.TotalCount == 0 ? 0 : (double)stats.FaultStatistics.TotalCount / stats.TotalCount;
            var fill = s.Type == CallTargets.ClientType ? "#e9ecef" : faultRate >= 0.2 ? "#ff8787" : faultRate >= 0.05 ? "#ffc078" : faultRate > 0 ? "#ffe066" : "#b2f2bb";
            sb.Append(CultureInfo.InvariantCulture, $"  n{s.ReferenceId} [label={Quote($"{s.Name}\n{s.Type}")}, fillcolor=\"{fill}\"];\n");
        }

        foreach (var s in graph.Services)
        {
            foreach (var e in s.Edges.Where(e => byId.ContainsKey(e.ReferenceId)))
            {
                var label = string.Create(CultureInfo.InvariantCulture, $"{e.SummaryStatistics.TotalCount} req\np99 {GraphSvg.Millis(e.Percentiles.P99)}");
                sb.Append(CultureInfo.InvariantCulture, $"  n{s.ReferenceId} -> n{e.ReferenceId} [label={Quote(label)}];\n");
            }
        }

        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>One line per edge: caller -> callee, counts, p50/p90/p99; then the diff in short.</summary>
    public static string Summary(GraphDocument graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var byId = graph.Services.ToDictionary(s => s.ReferenceId);
        var rows = graph.Services
            .SelectMany(s => s.Edges.Where(e => byId.ContainsKey(e.ReferenceId)).Select(e => (From: s.Name, To: byId[e.ReferenceId].Name, Edge: e)))
            .ToList();
        var width = rows.Count == 0 ? 10 : rows.Max(r => r.From.Length + r.To.Length + 4);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{"edge".PadRight(width)}  {"req",7} {"ok",7} {"4xx",6} {"429",6} {"5xx",6} {"p50",9} {"p90",9} {"p99",9}\n");
        foreach (var (from, to, e) in rows)
        {
            var s = e.SummaryStatistics;
            sb.Append(CultureInfo.InvariantCulture,
                $"{(from + " -> " + to).PadRight(width)}  {s.TotalCount,7} {s.OkCount,7} {s.ErrorStatistics.OtherCount,6} {s.ErrorStatistics.ThrottleCount,6} {s.FaultStatistics.TotalCount,6} {GraphSvg.Millis(e.Percentiles.P50),9} {GraphSvg.Millis(e.Percentiles.P90),9} {GraphSvg.Millis(e.Percentiles.P99),9}\n");
        }

        if (graph.Diff is { } d)
        {
            sb.Append(CultureInfo.InvariantCulture, $"diff vs {d.PreviousKey ?? "(no previous window)"}: +{d.AddedNodes.Count}/-{d.RemovedNodes.Count} nodes, +{d.AddedEdges.Count}/-{d.RemovedEdges.Count} edges, {d.Regressions.Count} regression(s)\n");
            foreach (var r in d.Regressions)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  regression {r.From} -> {r.To}: {r.Metric} {r.Before:0.####} -> {r.After:0.####}\n");
            }
        }

        return sb.ToString();
    }

    private static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
