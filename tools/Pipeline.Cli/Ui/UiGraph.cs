using System.Globalization;
using System.Text;
using Pipeline.Core.Graph;
using Pipeline.Core.Traces;

namespace Pipeline.Cli.Ui;

/// <summary>
/// The service map page's graph: the service-graph document laid out in columns by call depth
/// (as <see cref="GraphSvg"/> does for the stored SVG), but inline and interactive — every node
/// and every edge is a link to the search for traces through it — plus its tables and the diff
/// against the previous window.
/// </summary>
internal static class UiGraph
{
    private const int ColumnWidth = 260;
    private const int RowHeight = 90;
    private const int NodeWidth = 170;
    private const int NodeHeight = 46;
    private const int Margin = 20;

    public static void Render(StringBuilder h, GraphDocument graph, Func<string, string> nodeLink, Func<string, string, string> edgeLink)
    {
        if (graph.Services.Count == 0)
        {
            h.Append("<p class=\"muted\" id=\"empty-map\">No traffic in this window.</p>\n");
            return;
        }

        var columns = graph.Services.GroupBy(s => s.Depth).OrderBy(g => g.Key).ToList();
        var position = new Dictionary<int, (int X, int Y)>();
        var rows = 1;
        for (var c = 0; c < columns.Count; c++)
        {
            var row = 0;
            foreach (var node in columns[c].OrderBy(n => n.ReferenceId))
            {
                position[node.ReferenceId] = (Margin + (c * ColumnWidth), Margin + (row++ * RowHeight));
            }

            rows = Math.Max(rows, row);
        }

        var byId = graph.Services.ToDictionary(s => s.ReferenceId);
        var width = (Margin * 2) + ((columns.Count - 1) * ColumnWidth) + NodeWidth;
        var height = (Margin * 2) + ((rows - 1) * RowHeight) + NodeHeight;
        h.Append("<section aria-label=\"service map\"><svg class=\"graph\" id=\"graph\" viewBox=\"0 0 ").Append(I(width)).Append(' ').Append(I(height)).Append("\" width=\"").Append(I(width))
            .Append("\" height=\"").Append(I(height)).Append("\" role=\"img\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#7b93ad\"/></marker></defs>\n");
        foreach (var from in graph.Services)
        {
            foreach (var edge in from.Edges)
            {
                if (!byId.TryGetValue(edge.ReferenceId, out var to))
                {
                    continue;
                }

                var (x1, y1) = position[from.ReferenceId];
                var (x2, y2) = position[to.ReferenceId];
                var (sx, sy, ex, ey) = x2 > x1
                    ? (x1 + NodeWidth, y1 + (NodeHeight / 2), x2, y2 + (NodeHeight / 2))
                    : (x1 + (NodeWidth / 2), y1 + NodeHeight, x2 + (NodeWidth / 2), y2 + NodeHeight);
                var mid = x2 > x1 ? $"C{I((sx + ex) / 2)},{I(sy)} {I((sx + ex) / 2)},{I(ey)}" : $"C{I(sx)},{I(sy + 40)} {I(ex)},{I(ey + 40)}";
                var stats = edge.SummaryStatistics;
                h.Append("<a href=\"").Append(Html.Text(edgeLink(from.Name, to.Name))).Append("\"><g class=\"edge\" data-from=\"").Append(Html.Text(from.Name)).Append("\" data-to=\"")
                    .Append(Html.Text(to.Name)).Append("\"><path d=\"M").Append(I(sx)).Append(',').Append(I(sy)).Append(' ').Append(mid).Append(' ').Append(I(ex)).Append(',').Append(I(ey))
                    .Append("\" marker-end=\"url(#arrow)\"/><text x=\"").Append(I((sx + ex) / 2)).Append("\" y=\"").Append(I(((sy + ey) / 2) - 6)).Append("\" text-anchor=\"middle\">")
                    .Append(I(stats.TotalCount)).Append(" · p99 ").Append(Html.Text(Ms(edge.Percentiles.P99))).Append("</text><title>").Append(Html.Text(from.Name)).Append(" → ")
                    .Append(Html.Text(to.Name)).Append(": ").Append(I(stats.TotalCount)).Append(" request(s), ").Append(I(stats.ErrorStatistics.TotalCount)).Append(" error(s), ")
                    .Append(I(stats.FaultStatistics.TotalCount)).Append(" fault(s), ").Append(I(stats.ErrorStatistics.ThrottleCount)).Append(" throttle(s); p50 ")
                    .Append(Html.Text(Ms(edge.Percentiles.P50))).Append(", p90 ").Append(Html.Text(Ms(edge.Percentiles.P90))).Append(", p99 ").Append(Html.Text(Ms(edge.Percentiles.P99)))
                    .Append("</title></g></a>\n");
            }
        }

        foreach (var node in graph.Services)
        {
            var (x, y) = position[node.ReferenceId];
            var s = node.SummaryStatistics;
            var css = s is null ? "remote" : s.FaultStatistics.TotalCount > 0 ? "fault" : s.ErrorStatistics.TotalCount > 0 ? "error" : "ok";
            // The client node is every caller outside the trace: its traces are all of them.
            var link = node.Type == Pipeline.Core.Graph.CallTargets.ClientType ? nodeLink(string.Empty) : nodeLink(node.Name);
            h.Append("<a href=\"").Append(Html.Text(link)).Append("\"><g class=\"node ").Append(css).Append("\" data-service=\"").Append(Html.Text(node.Name))
                .Append("\"><rect x=\"").Append(I(x)).Append("\" y=\"").Append(I(y)).Append("\" width=\"").Append(I(NodeWidth)).Append("\" height=\"").Append(I(NodeHeight))
                .Append("\" rx=\"6\"/><text x=\"").Append(I(x + (NodeWidth / 2))).Append("\" y=\"").Append(I(y + 19)).Append("\" text-anchor=\"middle\">")
                .Append(Html.Text(DisplayText.Fit(node.Name, 24))).Append("</text><text x=\"").Append(I(x + (NodeWidth / 2))).Append("\" y=\"").Append(I(y + 36))
                .Append("\" text-anchor=\"middle\" class=\"muted\">").Append(Html.Text(DisplayText.Fit(node.Type, 26))).Append("</text><title>").Append(Html.Text(node.Name))
                .Append(" (").Append(Html.Text(node.Type)).Append(")</title></g></a>\n");
        }

        h.Append("</svg></section>\n");
    }

    public static void Tables(StringBuilder h, GraphDocument graph, Func<string, string> nodeLink)
    {
        h.Append("<h2>Calls</h2>\n<table class=\"results\" id=\"edges\"><tr><th>from</th><th>to</th><th class=\"num\">requests</th><th class=\"num\">ok</th><th class=\"num\">errors</th>")
            .Append("<th class=\"num\">faults</th><th class=\"num\">throttles</th><th class=\"num\">p50</th><th class=\"num\">p90</th><th class=\"num\">p99</th></tr>\n");
        var byId = graph.Services.ToDictionary(s => s.ReferenceId);
        foreach (var from in graph.Services)
        {
            foreach (var edge in from.Edges)
            {
                var to = byId.TryGetValue(edge.ReferenceId, out var t) ? t.Name : "?";
                var s = edge.SummaryStatistics;
                h.Append("<tr><td><a href=\"").Append(Html.Text(nodeLink(from.Name))).Append("\">").Append(Html.Text(from.Name)).Append("</a></td><td><a href=\"")
                    .Append(Html.Text(nodeLink(to))).Append("\">").Append(Html.Text(to)).Append("</a></td>");
                foreach (var n in new[] { s.TotalCount, s.OkCount, s.ErrorStatistics.OtherCount, s.FaultStatistics.TotalCount, s.ErrorStatistics.ThrottleCount })
                {
                    h.Append("<td class=\"num\">").Append(I(n)).Append("</td>");
                }

                foreach (var p in new[] { edge.Percentiles.P50, edge.Percentiles.P90, edge.Percentiles.P99 })
                {
                    h.Append("<td class=\"num\">").Append(Html.Text(Ms(p))).Append("</td>");
                }

                h.Append("</tr>\n");
            }
        }

        h.Append("</table>\n");
    }

    public static void Diff(StringBuilder h, GraphDocument graph)
    {
        h.Append("<h2>Against the previous window</h2>\n");
        if (graph.Diff is not { } d)
        {
            h.Append("<p class=\"muted\" id=\"diff\">No graph for the previous window to compare with.</p>\n");
            return;
        }

        h.Append("<ul id=\"diff\">");
        var any = false;
        void Item(string css, string text)
        {
            any = true;
            h.Append("<li class=\"").Append(css).Append("\">").Append(Html.Text(text)).Append("</li>");
        }

        foreach (var n in d.AddedNodes)
        {
            Item("added", $"new service {n.Name} ({n.Type})");
        }

        foreach (var n in d.RemovedNodes)
        {
            Item("removed", $"service {n.Name} ({n.Type}) no longer seen");
        }

        foreach (var e in d.AddedEdges)
        {
            Item("added", $"new call {e.From} → {e.To}");
        }

        foreach (var e in d.RemovedEdges)
        {
            Item("removed", $"call {e.From} → {e.To} no longer seen");
        }

        foreach (var r in d.Regressions)
        {
            Item("removed", string.Create(CultureInfo.InvariantCulture, $"{r.From} → {r.To}: {r.Metric} {r.Before:0.###} → {r.After:0.###}"));
        }

        if (!any)
        {
            h.Append("<li class=\"muted\">No change.</li>");
        }

        h.Append("</ul>\n");
    }

    /// <summary>Percentiles in the graph document are seconds (X-Ray's response-time unit).</summary>
    private static string Ms(double? seconds) => seconds is { } s ? WaterfallText.Duration(s * 1000) : "–";

    private static string I(long n) => n.ToString(CultureInfo.InvariantCulture);
}
