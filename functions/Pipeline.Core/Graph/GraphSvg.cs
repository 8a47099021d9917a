using System.Globalization;
using System.Text;

namespace Pipeline.Core.Graph;

/// <summary>
/// Draws a <see cref="GraphDocument"/> as a standalone SVG: a layered layout, one column per call
/// depth from left to right, nodes filled by fault rate, edges labelled with requests and p99,
/// and the diff against the previous window (new nodes/edges green, regressions red, removed
/// items listed at the bottom). Every text is XML-escaped; no scripts, no external resources.
/// </summary>
public static class GraphSvg
{
    private const int ColumnWidth = 350;
    private const int RowHeight = 110;
    private const int NodeWidth = 190;
    private const int NodeHeight = 62;
    private const int Margin = 40;
    private const int MaxLabelChars = 28;

    /// <summary>Fault-rate bands and their fills (lower bound inclusive).</summary>
    private static readonly (double From, string Fill, string Label)[] FaultBands =
    [
        (0.20, "#ff8787", "faults ≥ 20 %"),
        (0.05, "#ffc078", "faults ≥ 5 %"),
        (0.001, "#ffe066", "faults > 0"),
        (0.0, "#b2f2bb", "no faults"),
    ];

    public static string Render(GraphDocument graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var columns = graph.Services.GroupBy(s => s.Depth).OrderBy(g => g.Key).ToList();
        var position = new Dictionary<int, (double X, double Y)>();
        var rows = 1;
        var columnIndex = 0;
        foreach (var column in columns)
        {
            var row = 0;
            foreach (var node in column.OrderBy(n => n.ReferenceId))
            {
                position[node.ReferenceId] = (Margin + (columnIndex * ColumnWidth), Margin + 30 + (row * RowHeight));
                row++;
            }

            rows = Math.Max(rows, row);
            columnIndex++;
        }

        var diff = graph.Diff;
        var removedLines = diff is null ? [] : RemovedLines(diff);
        var width = Math.Max(640, (Margin * 2) + (Math.Max(1, columns.Count) * ColumnWidth));
        var legendTop = Margin + 30 + (rows * RowHeight) + 10;
        var height = legendTop + 60 + (removedLines.Count * 18);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#495057\"/></marker></defs>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Margin}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Service graph {Escape(graph.StartTime)} – {Escape(graph.EndTime)}</text>\n");

        var byId = graph.Services.ToDictionary(s => s.ReferenceId);
        var addedEdges = diff?.AddedEdges.Select(e => (e.From, e.To)).ToHashSet() ?? [];
        var addedNodes = diff?.AddedNodes.Select(n => (n.Name, n.Type)).ToHashSet() ?? [];
        var regressions = diff?.Regressions.ToLookup(r => (r.From, r.To)) ?? Array.Empty<RegressionDocument>().ToLookup(r => (r.From, r.To));

        foreach (var from in graph.Services)
        {
            foreach (var edge in from.Edges)
            {
                if (!byId.TryGetValue(edge.ReferenceId, out var to))
                {
                    continue;
                }

                var regressed = regressions[(from.Name, to.Name)].ToList();
                var colour = regressed.Count > 0 ? "#e03131" : addedEdges.Contains((from.Name, to.Name)) ? "#2f9e44" : "#495057";
                DrawEdge(svg, position[from.ReferenceId], position[to.ReferenceId], from.ReferenceId == to.ReferenceId, colour, EdgeLabel(edge, regressed));
            }
        }

        foreach (var node in graph.Services)
        {
            DrawNode(svg, node, position[node.ReferenceId], addedNodes.Contains((node.Name, node.Type)));
        }

        DrawLegend(svg, legendTop, removedLines);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void DrawNode(StringBuilder svg, ServiceDocument node, (double X, double Y) at, bool added)
    {
        var stats = node.SummaryStatistics;
        var faultRate = stats is null || stats.TotalCount == 0 ? 0 : (double)stats.FaultStatistics.TotalCount / stats.TotalCount;
        var fill = node.Type == CallTargets.ClientType ? "#e9ecef" : FaultBands.First(b => faultRate >= b.From).Fill;
        var stroke = added ? "stroke=\"#2f9e44\" stroke-width=\"3\" stroke-dasharray=\"6 3\"" : "stroke=\"#343a40\" stroke-width=\"1.5\"";
        var radius = node.Type == CallTargets.ClientType ? 31 : 8;
        svg.Append(CultureInfo.InvariantCulture, $"<g class=\"node\" data-name=\"{Escape(node.Name)}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title>{Escape(node.Name)} ({Escape(node.Type)})</title>");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(at.X)}\" y=\"{F(at.Y)}\" width=\"{NodeWidth}\" height=\"{NodeHeight}\" rx=\"{radius}\" fill=\"{fill}\" {stroke}/>");
        var cx = at.X + (NodeWidth / 2.0);
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(cx)}\" y=\"{F(at.Y + 20)}\" text-anchor=\"middle\" font-weight=\"bold\">{Escape(Shorten(node.Name))}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(cx)}\" y=\"{F(at.Y + 36)}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#495057\">{Escape(Shorten(node.Type))}{(added ? " · new" : string.Empty)}</text>");
        if (stats is not null)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"{stats.TotalCount} req · {faultRate * 100:0.#}% fault");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(cx)}\" y=\"{F(at.Y + 52)}\" text-anchor=\"middle\" font-size=\"10\">{Escape(line)}</text>");
        }

        svg.Append("</g>\n");
    }

    private static void DrawEdge(StringBuilder svg, (double X, double Y) from, (double X, double Y) to, bool self, string colour, List<string> label)
    {
        var y1 = from.Y + (NodeHeight / 2.0);
        var y2 = to.Y + (NodeHeight / 2.0);
        string path;
        double lx, ly;
        if (self)
        {
            // A service calling itself: a loop above the node.
            var x = from.X + (NodeWidth / 2.0);
            path = string.Create(CultureInfo.InvariantCulture, $"M {F(x - 30)} {F(from.Y)} C {F(x - 40)} {F(from.Y - 45)} {F(x + 40)} {F(from.Y - 45)} {F(x + 30)} {F(from.Y)}");
            (lx, ly) = (x, from.Y - 38);
        }
        else if (to.X > from.X)
        {
            var x1 = from.X + NodeWidth;
            var x2 = to.X;
            var mid = (x1 + x2) / 2;
            path = string.Create(CultureInfo.InvariantCulture, $"M {F(x1)} {F(y1)} C {F(mid)} {F(y1)} {F(mid)} {F(y2)} {F(x2)} {F(y2)}");
            // Near the callee, where the curve runs flat: fan-out labels then sit in distinct rows.
            (lx, ly) = (x2 - ((ColumnWidth - NodeWidth) / 2.0), y2 - 6);
        }
        else
        {
            // A call back to an earlier (or the same) column, e.g. a cycle: arc below the nodes.
            var x1 = from.X + (NodeWidth / 2.0);
            var x2 = to.X + (NodeWidth / 2.0);
            var bottom = Math.Max(from.Y, to.Y) + NodeHeight + 40;
            path = string.Create(CultureInfo.InvariantCulture, $"M {F(x1)} {F(from.Y + NodeHeight)} C {F(x1)} {F(bottom)} {F(x2)} {F(bottom)} {F(x2)} {F(to.Y + NodeHeight)}");
            (lx, ly) = ((x1 + x2) / 2, bottom - 4);
        }

        svg.Append(CultureInfo.InvariantCulture, $"<g class=\"edge\"><path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\" marker-end=\"url(#arrow)\"/>");
        // A white halo keeps labels readable where they cross lines; a regression goes on a second
        // line, so multi-line labels move up to stay above a straight edge.
        if (!self)
        {
            ly -= 12 * (label.Count - 1);
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(lx)}\" y=\"{F(ly)}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{colour}\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">");
        for (var i = 0; i < label.Count; i++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<tspan x=\"{F(lx)}\" dy=\"{(i == 0 ? 0 : 12)}\">{Escape(label[i])}</tspan>");
        }

        svg.Append("</text></g>\n");
    }

    private static List<string> EdgeLabel(EdgeDocument edge, List<RegressionDocument> regressed)
    {
        var label = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{edge.SummaryStatistics.TotalCount} req · p99 {Millis(edge.Percentiles.P99)}") };
        foreach (var r in regressed)
        {
            label.Add(r.Metric == GraphDiff.P99Metric
                ? string.Create(CultureInfo.InvariantCulture, $"▲ p99 {Millis(r.Before)} → {Millis(r.After)}")
                : string.Create(CultureInfo.InvariantCulture, $"▲ failures {r.Before * 100:0.#}% → {r.After * 100:0.#}%"));
        }

        return label;
    }

    private static void DrawLegend(StringBuilder svg, int top, List<string> removedLines)
    {
        var x = Margin;
        foreach (var band in FaultBands.Reverse())
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{top}\" width=\"14\" height=\"14\" fill=\"{band.Fill}\" stroke=\"#343a40\"/><text x=\"{x + 20}\" y=\"{top + 11}\" font-size=\"11\">{Escape(band.Label)}</text>\n");
            x += 120;
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{top + 11}\" font-size=\"11\"><tspan fill=\"#2f9e44\">green: new since previous window</tspan> · <tspan fill=\"#e03131\">red: regression</tspan></text>\n");
        var y = top + 36;
        foreach (var line in removedLines)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Margin}\" y=\"{y}\" font-size=\"11\" fill=\"#868e96\">{Escape(line)}</text>\n");
            y += 18;
        }
    }

    private static List<string> RemovedLines(GraphDiffDocument diff)
    {
        var lines = diff.RemovedNodes.Select(n => $"removed node: {n.Name} ({n.Type})")
            .Concat(diff.RemovedEdges.Select(e => $"removed edge: {e.From} → {e.To}"))
            .ToList();
        // Bounded: a picture is not the place for a thousand removals; the JSON has them all.
        const int MaxLines = 12;
        return lines.Count <= MaxLines ? lines : [.. lines.Take(MaxLines), $"… and {lines.Count - MaxLines} more (see the JSON)"];
    }

    internal static string Millis(double? seconds) => seconds is { } s
        ? (s * 1000).ToString(s < 0.01 ? "0.##" : "0", CultureInfo.InvariantCulture) + " ms"
        : "–";

    private static string Shorten(string text) => text.Length <= MaxLabelChars ? text : string.Concat(text.AsSpan(0, MaxLabelChars - 1), "…");

    private static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>XML text and attribute escaping; characters XML 1.0 forbids are replaced.</summary>
    internal static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                case < ' ' and not ('\t' or '\n' or '\r'):
                case '\uFFFE' or '\uFFFF':
                    sb.Append('\uFFFD');
                    break;
                default: sb.Append(c); break;
            }
        }

        return sb.ToString();
    }
}
