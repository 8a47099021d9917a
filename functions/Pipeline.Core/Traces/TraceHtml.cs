using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pipeline.Core.Traces;

/// <summary>
/// The trace as HTML: a summary, the waterfall (one expandable row per span with its details —
/// http, aws, sql, annotations, metadata, cause, raw JSON — and dotted rows for gaps) and a
/// small map of the services in the trace. No script at all: rows expand with
/// &lt;details&gt;, bars are SVG attributes (no inline style), so the page runs under a CSP that
/// allows one stylesheet and nothing else. <see cref="StandalonePage"/> is what
/// <c>pipeline trace --format html</c> writes; the UI puts the same fragments in its layout.
/// </summary>
public static class TraceHtml
{
    /// <summary>Width of the SVG bar coordinate space.</summary>
    private const int BarUnits = 1000;

    /// <summary>Rows of one details table at most (metadata can be large; the raw JSON has everything).</summary>
    private const int MaxDetailRows = 200;

    /// <summary>Indentation classes i0..i24 (deeper spans share the last).</summary>
    private const int MaxIndent = 24;

    public static string Css { get; } = BuildCss();

    /// <summary>A self-contained page (its stylesheet inline, allowed by hash in its own CSP).</summary>
    public static string StandalonePage(TraceTree tree, TraceReadReport? read = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var h = new StringBuilder(32 * 1024);
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src ").Append(Html.CspHash(Css))
            .Append("; img-src data:; base-uri 'none'; form-action 'none'\">\n")
            .Append("<meta name=\"referrer\" content=\"no-referrer\">\n")
            .Append("<title>trace ").Append(Html.Text(tree.TraceId)).Append("</title>\n<style>").Append(Css).Append("</style>\n</head>\n<body>\n<main>\n");
        Summary(h, tree, read);
        if (!tree.IsEmpty)
        {
            ServiceMap(h, tree, null);
            Waterfall(h, tree);
        }

        h.Append("</main>\n</body>\n</html>\n");
        return h.ToString();
    }

    public static void Summary(StringBuilder h, TraceTree tree, TraceReadReport? read)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(tree);
        h.Append("<header class=\"trace-head\">\n<h1>Trace <code id=\"trace-id\">").Append(Html.Text(tree.TraceId)).Append("</code>");
        if (tree.IsEmpty)
        {
            h.Append(" <span class=\"badge missing\">not found</span></h1>\n");
        }
        else
        {
            var (label, css) = tree.HasFault ? ("fault", "fault") : tree.HasError ? ("error", "error") : tree.HasThrottle ? ("throttle", "throttle") : ("ok", "ok");
            h.Append(" <span class=\"badge ").Append(css).Append("\">").Append(label).Append("</span></h1>\n<p class=\"facts\">")
                .Append("<span id=\"trace-duration\">").Append(Html.Text(WaterfallText.Duration(tree.Duration * 1000))).Append("</span> · ")
                .Append(tree.SegmentCount.ToString(CultureInfo.InvariantCulture)).Append(" segment(s) · <span id=\"span-count\">")
                .Append(tree.Spans.Count.ToString(CultureInfo.InvariantCulture)).Append("</span> span(s) · started ")
                .Append(Html.Text(WaterfallText.Timestamp(tree.Start))).Append(" · services: ")
                .Append(string.Join(", ", tree.Services.Select(Html.Text))).Append("</p>\n");
        }

        if (read is not null)
        {
            h.Append("<p class=\"read\">Read ").Append(Html.Text(read.Describe())).Append("</p>\n");
        }

        var n = tree.Notes;
        foreach (var (count, what) in new[]
        {
            (n.MissingParents, "span(s) name a parent that is not in the archive (an untraced caller, or a segment not yet archived)"),
            (n.DuplicateDocuments, "duplicate document(s) merged (an in-progress copy and the complete one)"),
            (n.UnreadableLines, "archived line(s) could not be read as a segment document"),
            (n.SpansOverLimit, $"span(s) over the limit of {TraceAssembler.MaxSpans} not shown"),
        })
        {
            if (count > 0)
            {
                h.Append("<p class=\"note\">").Append(count.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Html.Text(what)).Append("</p>\n");
            }
        }

        h.Append("</header>\n");
    }

    /// <summary>The waterfall: an axis, then one row per span (and gap) in tree order.</summary>
    public static void Waterfall(StringBuilder h, TraceTree tree)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(tree);
        var totalMs = tree.Duration * 1000;
        h.Append("<section class=\"waterfall\" aria-label=\"waterfall\">\n<div class=\"row axis\"><span class=\"svc\">service</span><span class=\"nm\">name</span>")
            .Append("<span class=\"off\">start</span><span class=\"dur\">duration</span><span class=\"ticks\">");
        for (var i = 0; i <= 4; i++)
        {
            h.Append("<span>").Append(Html.Text(WaterfallText.Duration(totalMs * i / 4))).Append("</span>");
        }

        h.Append("</span><span class=\"st\">status</span><span class=\"mk\">marks</span></div>\n");
        foreach (var row in WaterfallLayout.Rows(tree))
        {
            if (row.Kind == WaterfallRowKind.Gap)
            {
                h.Append("<div class=\"row gap\" data-gap-ms=\"").Append(Html.Number(row.DurationMs)).Append("\"><span class=\"svc\"></span><span class=\"nm i")
                    .Append(Math.Min(row.Depth, MaxIndent).ToString(CultureInfo.InvariantCulture)).Append("\">untraced</span><span class=\"off\">")
                    .Append(Html.Text(WaterfallText.Duration(row.OffsetMs))).Append("</span><span class=\"dur\">").Append(Html.Text(WaterfallText.Duration(row.DurationMs)))
                    .Append("</span>");
                Bar(h, tree, row, totalMs, "g");
                h.Append("<span class=\"st\"></span><span class=\"mk\"></span></div>\n");
                continue;
            }

            SpanRow(h, tree, tree.Spans[row.Span], row, totalMs);
        }

        h.Append("</section>\n<p class=\"legend\"><span class=\"key c\"></span> critical path <span class=\"key s\"></span> span <span class=\"key o\"></span> in progress <span class=\"key g\"></span> untraced · marks: E error, F fault, T throttle, X exception, … in progress, ! parent not in archive</p>\n");
    }

    /// <summary>
    /// The services of this trace and the calls between them (a span of one service whose child
    /// belongs to another) as a small SVG graph, left to right in order of first appearance.
    /// <paramref name="serviceLink"/> makes each node a link (the UI's search by service).
    /// </summary>
    public static void ServiceMap(StringBuilder h, TraceTree tree, Func<string, string>? serviceLink)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(tree);
        var services = tree.Services;
        var edges = new Dictionary<(string From, string To), int>();
        foreach (var s in tree.Spans)
        {
            if (s.ParentIndex >= 0 && tree.Spans[s.ParentIndex].Service is var from && from != s.Service)
            {
                edges[(from, s.Service)] = edges.GetValueOrDefault((from, s.Service)) + 1;
            }
        }

        const int NodeWidth = 150;
        const int NodeHeight = 34;
        const int Gap = 60;
        var width = (services.Count * (NodeWidth + Gap)) - Gap + 20;
        var height = NodeHeight + 60;
        var x = services.Select((s, i) => (s, X: 10 + (i * (NodeWidth + Gap)))).ToDictionary(p => p.s, p => p.X, StringComparer.Ordinal);
        h.Append("<section class=\"trace-map\" aria-label=\"services in this trace\"><svg class=\"map\" viewBox=\"0 0 ")
            .Append(width.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(height.ToString(CultureInfo.InvariantCulture))
            .Append("\" width=\"").Append(width.ToString(CultureInfo.InvariantCulture)).Append("\" height=\"").Append(height.ToString(CultureInfo.InvariantCulture))
            .Append("\" role=\"img\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" class=\"arrowhead\"/></marker></defs>\n");
        const int Y = 30;
        foreach (var ((from, to), count) in edges)
        {
            var x1 = x[from] + NodeWidth;
            var x2 = x[to];
            var forward = x2 > x1;
            var path = forward
                ? $"M{x1},{Y + (NodeHeight / 2)} L{x2},{Y + (NodeHeight / 2)}"
                : $"M{x[from] + (NodeWidth / 2)},{Y + NodeHeight} C{x[from] + (NodeWidth / 2)},{Y + NodeHeight + 25} {x[to] + (NodeWidth / 2)},{Y + NodeHeight + 25} {x[to] + (NodeWidth / 2)},{Y + NodeHeight}";
            h.Append("<path class=\"edge\" d=\"").Append(path).Append("\" marker-end=\"url(#arrow)\"><title>")
                .Append(Html.Text(from)).Append(" → ").Append(Html.Text(to)).Append(": ").Append(count.ToString(CultureInfo.InvariantCulture)).Append(" call(s)</title></path>\n");
        }

        foreach (var service in services)
        {
            var spans = tree.Spans.Where(s => s.Service == service).ToList();
            var css = spans.Any(s => s.Fault) ? "fault" : spans.Any(s => s.Error) ? "error" : spans.Any(s => s.Throttle) ? "throttle" : "ok";
            var link = serviceLink?.Invoke(service);
            if (link is not null)
            {
                h.Append("<a href=\"").Append(Html.Text(link)).Append("\">");
            }

            h.Append("<g class=\"node ").Append(css).Append("\" data-service=\"").Append(Html.Text(service)).Append("\"><rect x=\"")
                .Append(x[service].ToString(CultureInfo.InvariantCulture)).Append("\" y=\"").Append(Y.ToString(CultureInfo.InvariantCulture))
                .Append("\" width=\"").Append(NodeWidth.ToString(CultureInfo.InvariantCulture)).Append("\" height=\"").Append(NodeHeight.ToString(CultureInfo.InvariantCulture))
                .Append("\" rx=\"6\"/><text x=\"").Append((x[service] + (NodeWidth / 2)).ToString(CultureInfo.InvariantCulture)).Append("\" y=\"")
                .Append((Y + 22).ToString(CultureInfo.InvariantCulture)).Append("\" text-anchor=\"middle\">").Append(Html.Text(DisplayText.Fit(service, 20)))
                .Append("</text><title>").Append(Html.Text(service)).Append("</title></g>");
            if (link is not null)
            {
                h.Append("</a>");
            }

            h.Append('\n');
        }

        h.Append("</svg></section>\n");
    }

    private static void SpanRow(StringBuilder h, TraceTree tree, TraceSpan span, WaterfallRow row, double totalMs)
    {
        h.Append("<details class=\"row").Append(row.Critical ? " crit" : "").Append(span.Fault ? " fault" : span.Error ? " error" : span.Throttle ? " throttle" : "")
            .Append(span.End is null ? " open" : "").Append("\" id=\"span-").Append(Html.Text(span.Id)).Append("\" data-span-id=\"").Append(Html.Text(span.Id))
            .Append("\" data-parent-id=\"").Append(span.ParentIndex >= 0 ? Html.Text(tree.Spans[span.ParentIndex].Id) : "")
            .Append("\" data-depth=\"").Append(span.Depth.ToString(CultureInfo.InvariantCulture))
            .Append("\" data-offset-ms=\"").Append(Html.Number(row.OffsetMs))
            .Append("\" data-duration-ms=\"").Append(span.End is null ? "" : Html.Number(row.DurationMs))
            .Append("\" data-kind=\"").Append(Kind(span)).Append("\">\n<summary><span class=\"svc\">").Append(Html.Text(DisplayText.Fit(span.Service, 40)))
            .Append("</span><span class=\"nm i").Append(Math.Min(span.Depth, MaxIndent).ToString(CultureInfo.InvariantCulture)).Append("\" title=\"").Append(Html.Text(span.Name)).Append("\">")
            .Append(Html.Text(DisplayText.Fit(span.Name, 80))).Append("</span><span class=\"off\">").Append(Html.Text(WaterfallText.Duration(row.OffsetMs)))
            .Append("</span><span class=\"dur\">").Append(span.End is null ? "≥ " : "").Append(Html.Text(WaterfallText.Duration(row.DurationMs))).Append("</span>");
        Bar(h, tree, row, totalMs, span.End is null ? "o" : "s");
        h.Append("<span class=\"st\">").Append(span.HttpStatus?.ToString(CultureInfo.InvariantCulture) ?? "").Append("</span><span class=\"mk\">")
            .Append(Html.Text(Marks(span))).Append("</span></summary>\n<div class=\"det\">\n");
        Details(h, tree, span);
        h.Append("</div>\n</details>\n");
    }

    private static void Bar(StringBuilder h, TraceTree tree, WaterfallRow row, double totalMs, string css)
    {
        var (x, w) = Scale(row.OffsetMs, row.DurationMs, totalMs);
        h.Append("<svg class=\"bar\" viewBox=\"0 0 ").Append(BarUnits.ToString(CultureInfo.InvariantCulture)).Append(" 10\" preserveAspectRatio=\"none\" aria-hidden=\"true\"><rect class=\"")
            .Append(css).Append("\" x=\"").Append(Html.Number(x)).Append("\" y=\"1\" width=\"").Append(Html.Number(w)).Append("\" height=\"8\"/>");
        if (row.Kind == WaterfallRowKind.Span)
        {
            foreach (var c in tree.CriticalPath.Where(c => c.Span == row.Span))
            {
                var (cx, cw) = Scale((c.Start - tree.Start) * 1000, (c.End - c.Start) * 1000, totalMs);
                h.Append("<rect class=\"c\" x=\"").Append(Html.Number(cx)).Append("\" y=\"1\" width=\"").Append(Html.Number(cw)).Append("\" height=\"8\"/>");
            }
        }

        h.Append("</svg>");
    }

    private static (double X, double Width) Scale(double offsetMs, double durationMs, double totalMs)
    {
        if (totalMs <= 0)
        {
            return (0, BarUnits);
        }

        var x = Math.Clamp(offsetMs / totalMs, 0, 1) * BarUnits;
        var w = Math.Clamp(durationMs / totalMs, 0, 1) * BarUnits;
        return (Math.Min(x, BarUnits - 2), Math.Max(2, Math.Min(w, BarUnits - x)));
    }

    private static void Details(StringBuilder h, TraceTree tree, TraceSpan span)
    {
        h.Append("<table class=\"kv\">");
        Pair(h, "kind", Kind(span));
        Pair(h, "id", span.Id);
        Pair(h, "parent", span.ParentId is null ? null : span.ParentId + (span.MissingParent ? " (not in the archive)" : ""));
        Pair(h, "service", span.Service);
        Pair(h, "name", span.Name);
        Pair(h, "namespace", span.Namespace);
        Pair(h, "origin", span.Origin);
        Pair(h, "start", WaterfallText.Timestamp(span.Start));
        Pair(h, "end", span.End is { } e ? WaterfallText.Timestamp(e) : "in progress");
        Pair(h, "duration", span.End is { } d ? WaterfallText.Duration((d - span.Start) * 1000) : null);
        var onPath = tree.CriticalPath.Where(c => c.Span == span.Index).Sum(c => c.End - c.Start);
        Pair(h, "on critical path", onPath > 0 ? WaterfallText.Duration(onPath * 1000) : null);
        Pair(h, "flags", string.Join(' ', new[] { span.Error ? "error" : null, span.Fault ? "fault" : null, span.Throttle ? "throttle" : null, span.Inferred ? "inferred" : null }.Where(f => f is not null)));
        h.Append("</table>\n");

        JsonElement entity;
        try
        {
            entity = TraceDetails.Entity(tree, span);
        }
        catch (JsonException)
        {
            h.Append("<p class=\"note\">The document could not be read for details.</p>\n");
            return;
        }

        foreach (var block in new[] { "http", "aws", "sql", "annotations" })
        {
            if (entity.TryGetProperty(block, out var value) && value.ValueKind == JsonValueKind.Object)
            {
                h.Append("<h3>").Append(block).Append("</h3>\n<table class=\"kv ").Append(block).Append("\">");
                var rows = 0;
                Flatten(h, value, string.Empty, ref rows);
                h.Append("</table>\n");
            }
        }

        if (entity.TryGetProperty("cause", out var cause))
        {
            Cause(h, cause);
        }

        if (entity.TryGetProperty("metadata", out var metadata))
        {
            h.Append("<h3>metadata</h3>\n<pre class=\"json metadata\">").Append(Html.Pre(TraceDetails.Pretty(metadata))).Append("</pre>\n");
        }

        h.Append("<details class=\"raw\"><summary>raw JSON</summary><pre class=\"json\">").Append(Html.Pre(TraceDetails.Pretty(entity))).Append("</pre></details>\n");
    }

    private static void Cause(StringBuilder h, JsonElement cause)
    {
        h.Append("<h3>cause</h3>\n");
        if (cause.ValueKind == JsonValueKind.String)
        {
            // A 16-hex exception id: the exception is recorded on another span.
            h.Append("<p>exception <code>").Append(Html.Text(cause.GetString())).Append("</code> (recorded on another span)</p>\n");
            return;
        }

        if (cause.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (cause.TryGetProperty("working_directory", out var wd) && wd.ValueKind == JsonValueKind.String)
        {
            h.Append("<p>working directory <code>").Append(Html.Text(wd.GetString())).Append("</code></p>\n");
        }

        if (!cause.TryGetProperty("exceptions", out var exceptions) || exceptions.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        h.Append("<ol class=\"exceptions\">");
        foreach (var ex in exceptions.EnumerateArray().Take(MaxDetailRows))
        {
            if (ex.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            h.Append("<li><strong>").Append(Html.Text(Scalar(ex, "type"))).Append("</strong> ").Append(Html.Text(Scalar(ex, "message")));
            if (ex.TryGetProperty("stack", out var stack) && stack.ValueKind == JsonValueKind.Array)
            {
                h.Append("<pre class=\"stack\">");
                foreach (var frame in stack.EnumerateArray().Take(MaxDetailRows))
                {
                    if (frame.ValueKind == JsonValueKind.Object)
                    {
                        h.Append("at ").Append(Html.Text(Scalar(frame, "label"))).Append(" (").Append(Html.Text(Scalar(frame, "path"))).Append(':')
                            .Append(Html.Text(Scalar(frame, "line"))).Append(")\n");
                    }
                }

                h.Append("</pre>");
            }

            h.Append("</li>");
        }

        h.Append("</ol>\n");
    }

    private static string? Scalar(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
            _ => null,
        } : null;

    private static void Flatten(StringBuilder h, JsonElement value, string path, ref int rows)
    {
        if (rows >= MaxDetailRows)
        {
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in value.EnumerateObject())
                {
                    Flatten(h, p.Value, path.Length == 0 ? p.Name : path + "." + p.Name, ref rows);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    Flatten(h, item, path + "[" + (i++).ToString(CultureInfo.InvariantCulture) + "]", ref rows);
                }

                break;
            default:
                rows++;
                Pair(h, path, value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText());
                break;
        }
    }

    private static void Pair(StringBuilder h, string key, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        h.Append("<tr><th>").Append(Html.Text(key)).Append("</th><td>").Append(Html.Text(value)).Append("</td></tr>");
    }

    private static string Kind(TraceSpan span) => span.Kind switch
    {
        SpanKind.Segment => span.Inferred ? "inferred segment" : "segment",
        SpanKind.Subsegment => "subsegment",
        _ => "independent subsegment",
    };

    private static string Marks(TraceSpan span) =>
        (span.Error ? "E" : "") + (span.Fault ? "F" : "") + (span.Throttle ? "T" : "") + (span.HasCause ? "X" : "")
        + (span.End is null ? "…" : "") + (span.MissingParent ? "!" : "");

    private static string BuildCss()
    {
        var b = new StringBuilder("""
            :root{--fg:#1b1f24;--muted:#5a6573;--line:#e3e7ec;--span:#8fb3d9;--crit:#d9822b;--gap:#c9ced6;--fault:#c62828;--error:#b26a00;--throttle:#7b1fa2;--ok:#2e7d32;--bg:#fff}
            *{box-sizing:border-box}
            body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg);background:#f4f6f8}
            main{max-width:1400px;margin:0 auto;padding:16px;background:var(--bg)}
            h1{font-size:20px;margin:0 0 4px 0}h2{font-size:16px;margin:20px 0 8px}h3{font-size:13px;margin:10px 0 4px;color:var(--muted)}
            code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
            pre{white-space:pre-wrap;word-break:break-all;background:#f7f8fa;border:1px solid var(--line);padding:8px;max-height:480px;overflow:auto}
            .facts,.read,.legend{color:var(--muted);margin:2px 0}.note{color:var(--error);margin:2px 0}
            .badge{font-size:12px;padding:2px 8px;border-radius:10px;color:#fff;vertical-align:middle}
            .badge.ok{background:var(--ok)}.badge.fault{background:var(--fault)}.badge.error{background:var(--error)}.badge.throttle{background:var(--throttle)}.badge.missing{background:var(--muted)}
            .waterfall{border-top:1px solid var(--line);margin-top:12px}
            .row>summary,.row.axis,.row.gap{display:grid;grid-template-columns:10rem 18rem 5.5rem 6.5rem 1fr 3.5rem 3.5rem;gap:6px;align-items:center;padding:2px 4px;border-bottom:1px solid var(--line);cursor:pointer;list-style:none}
            .row>summary::-webkit-details-marker{display:none}
            .row.axis{font-weight:600;color:var(--muted);cursor:default}.row.gap{color:var(--muted);cursor:default;font-style:italic}
            .row>summary:hover{background:#f0f4f8}.row[open]>summary{background:#e8eef5}
            .svc,.nm{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.off,.dur{text-align:right;font-variant-numeric:tabular-nums}
            .ticks{display:flex;justify-content:space-between;font-weight:400}
            .bar{width:100%;height:12px;display:block}
            rect.s{fill:var(--span)}rect.o{fill:var(--span);fill-opacity:.45;stroke:var(--span);stroke-dasharray:4 2}rect.g{fill:var(--gap)}rect.c{fill:var(--crit)}
            .crit .nm{font-weight:600}.fault .st,.fault .mk{color:var(--fault);font-weight:600}.error .st,.error .mk{color:var(--error)}.throttle .st,.throttle .mk{color:var(--throttle)}
            .det{padding:8px 12px 12px 28px;border-bottom:1px solid var(--line);background:#fbfcfd}
            table.kv{border-collapse:collapse;font-size:12px;margin:4px 0}table.kv th{text-align:left;color:var(--muted);font-weight:500;padding:1px 12px 1px 0;vertical-align:top;white-space:nowrap}table.kv td{padding:1px 0;word-break:break-all}
            .legend .key{display:inline-block;width:14px;height:8px;margin:0 2px 0 8px}.key.c{background:var(--crit)}.key.s{background:var(--span)}.key.o{background:var(--span);opacity:.45}.key.g{background:var(--gap)}
            .trace-map{overflow-x:auto;margin:8px 0}svg.map text{font-size:12px;fill:var(--fg)}svg.map .node rect{fill:#eef3f8;stroke:#7b93ad}
            svg.map .node.fault rect{stroke:var(--fault);stroke-width:2}svg.map .node.error rect{stroke:var(--error);stroke-width:2}svg.map .node.throttle rect{stroke:var(--throttle);stroke-width:2}
            svg.map .edge{fill:none;stroke:#7b93ad;stroke-width:1.5}svg.map .arrowhead{fill:#7b93ad}svg.map a:hover rect{fill:#dde8f3}
            """);
        for (var i = 0; i <= MaxIndent; i++)
        {
            b.Append(".i").Append(i.ToString(CultureInfo.InvariantCulture)).Append("{padding-left:").Append((i * 0.9).ToString("0.0", CultureInfo.InvariantCulture)).Append("rem}");
        }

        return b.Append('\n').ToString();
    }
}
