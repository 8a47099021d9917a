using System.Globalization;
using System.Text;
using Pipeline.Core.Graph;
using Pipeline.Core.Traces;
using Pipeline.Functions.CostReport;

namespace Pipeline.Cli.Ui;

/// <summary>
/// The UI's pages, rendered on the server. Every application value goes through
/// <see cref="Html.Text"/> (attributes double-quoted), every link is built from validated parts
/// with <see cref="Html.Query"/>; there is no script, so a string that escaped encoding would
/// still have nothing to run under the CSP.
/// </summary>
internal static class UiPages
{
    public const string HtmlContentType = "text/html; charset=utf-8";

    private static readonly (string Path, string Label)[] Nav = [("/search", "Search"), ("/map", "Service map"), ("/reports", "Reports"), ("/quarantine", "Quarantine")];

    public static string Css { get; } = TraceHtml.Css + """
        header.top{display:flex;gap:24px;align-items:center;padding:10px 16px;background:#1f4e79;color:#fff}
        header.top a{color:#dbe7f3;text-decoration:none;font-weight:500}header.top a.on,header.top a:hover{color:#fff;text-decoration:underline}
        header.top .brand{font-weight:700;color:#fff;margin-right:12px}
        header.top form{margin-left:auto}header.top input{width:22rem}
        form.search{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:8px 14px;align-items:end;margin:8px 0 12px}
        form.search label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:2px}
        form.search label.check{flex-direction:row;align-items:center;gap:6px;color:var(--fg);font-size:13px}
        input,select,button{font:inherit;padding:4px 6px;border:1px solid #b8c2cc;border-radius:4px}
        button{background:#1f4e79;color:#fff;border-color:#1f4e79;cursor:pointer}
        table.results{border-collapse:collapse;width:100%;font-size:13px}
        table.results th{text-align:left;color:var(--muted);border-bottom:2px solid var(--line);padding:4px 8px;font-weight:600}
        table.results td{border-bottom:1px solid var(--line);padding:3px 8px;vertical-align:top}
        table.results td.num,table.results th.num{text-align:right;font-variant-numeric:tabular-nums}
        .flag{font-size:11px;padding:1px 6px;border-radius:8px;color:#fff;margin-right:3px}.flag.fault{background:var(--fault)}.flag.error{background:var(--error)}.flag.throttle{background:var(--throttle)}
        .errors{color:var(--fault);background:#fdecea;border:1px solid #f5c2c0;padding:8px 12px;border-radius:4px}
        svg.hist rect{fill:var(--span)}svg.hist a:hover rect{fill:var(--crit)}svg.hist text{font-size:10px;fill:var(--muted)}
        svg.graph text{font-size:12px;fill:var(--fg)}svg.graph .node rect{fill:#eef3f8;stroke:#7b93ad}svg.graph .node.fault rect{stroke:var(--fault);stroke-width:2}
        svg.graph .node.error rect{stroke:var(--error);stroke-width:2}svg.graph .node.remote rect{fill:#f6f1e7}svg.graph .edge path{fill:none;stroke:#7b93ad;stroke-width:1.5}
        svg.graph a:hover rect{fill:#dde8f3}svg.graph a:hover path{stroke:var(--crit);stroke-width:3}svg.graph .edge text{font-size:10px;fill:var(--muted)}
        .muted{color:var(--muted)}.added{color:var(--ok)}.removed{color:var(--fault)}
        .report{border:1px solid var(--line);padding:12px;margin:12px 0}.report img{max-width:100%;height:auto;display:block;border:1px solid var(--line)}
        pre.sample{max-height:200px}
        main code,table.results td{overflow-wrap:anywhere}
        """;

    public static string ReportChartPath(DateOnly day) => $"/reports/{day:yyyy-MM-dd}/chart.png";

    public static string ReportHtmlPath(DateOnly day) => $"/reports/{day:yyyy-MM-dd}/report.html";

    public static string Error(string title, string message)
    {
        var h = new StringBuilder();
        h.Append("<h1>").Append(Html.Text(title)).Append("</h1>\n<p class=\"errors\">").Append(Html.Text(message)).Append("</p>\n");
        return Layout(title, null, h.ToString());
    }

    public static string SearchPage(TraceSearch? search, SearchResult? result, IReadOnlyList<string> errors, Func<string, IReadOnlyList<string>> values)
    {
        var h = new StringBuilder();
        h.Append("<h1>Search traces</h1>\n");
        SearchForm(h, values);
        if (errors.Count > 0)
        {
            h.Append("<div class=\"errors\" id=\"errors\"><ul>");
            foreach (var e in errors)
            {
                h.Append("<li>").Append(Html.Text(e)).Append("</li>");
            }

            h.Append("</ul></div>\n");
        }

        if (search is not null && result is not null)
        {
            var link = "/search?" + search.Absolute().ToQueryString();
            h.Append("<p class=\"facts\" id=\"summary\"><span id=\"match-count\">").Append(result.Matches.ToString(CultureInfo.InvariantCulture)).Append("</span> trace(s) from ")
                .Append(Html.Text(TraceSearch.Iso(search.From))).Append(" to ").Append(Html.Text(TraceSearch.Iso(search.To)))
                .Append(" · read ").Append(Html.Text(TraceReadReport.Size(result.BytesRead))).Append(" in ").Append(result.Hours.Count.ToString(CultureInfo.InvariantCulture))
                .Append(" hour partition(s), ").Append(result.SummarizedHours.ToString(CultureInfo.InvariantCulture)).Append(" from their search summary · <a id=\"permalink\" href=\"").Append(Html.Text(link)).Append("\">link to these results</a></p>\n");
            Histogram(h, search, result);
            Results(h, result);
        }

        return Layout("Search", "/search", h.ToString());
    }

    public static string TracePage(TraceTree tree, TraceReadReport read)
    {
        var h = new StringBuilder();
        TraceHtml.Summary(h, tree, read);
        if (!tree.IsEmpty)
        {
            var from = TraceSearch.Iso(DateTimeOffset.FromUnixTimeMilliseconds((long)(tree.Start * 1000)).AddMinutes(-30));
            var to = TraceSearch.Iso(DateTimeOffset.FromUnixTimeMilliseconds((long)(tree.End * 1000)).AddMinutes(30));
            h.Append("<h2>Services in this trace</h2>\n");
            TraceHtml.ServiceMap(h, tree, service => $"/search?from={Html.Query(from)}&to={Html.Query(to)}&service={Html.Query(service)}");
            h.Append("<h2>Timeline</h2>\n");
            TraceHtml.Waterfall(h, tree);
            h.Append("<p class=\"muted\"><a href=\"/api/trace/").Append(Html.Text(tree.TraceId)).Append("\">this trace as JSON</a></p>\n");
        }

        return Layout("Trace " + tree.TraceId, null, h.ToString());
    }

    public static string MapPage(GraphDocument graph, DateTimeOffset start, DateTimeOffset end)
    {
        var h = new StringBuilder();
        var window = end - start;
        h.Append("<h1>Service map</h1>\n<form class=\"search\" method=\"get\" action=\"/map\">")
            .Append("<label>from<input name=\"from\" value=\"").Append(Html.Text(TraceSearch.Iso(start))).Append("\"></label>")
            .Append("<label>to<input name=\"to\" value=\"").Append(Html.Text(TraceSearch.Iso(end))).Append("\"></label>")
            .Append("<button type=\"submit\">Show</button></form>\n")
            .Append("<p class=\"facts\">").Append(graph.Documents.ToString(CultureInfo.InvariantCulture)).Append(" segment document(s) from ")
            .Append(Html.Text(graph.StartTime)).Append(" to ").Append(Html.Text(graph.EndTime))
            .Append(" · <a id=\"previous-window\" href=\"/map?from=").Append(Html.Query(TraceSearch.Iso(start - window))).Append("&amp;to=").Append(Html.Query(TraceSearch.Iso(start)))
            .Append("\">previous window</a> · <a href=\"/api/map?from=").Append(Html.Query(TraceSearch.Iso(start))).Append("&amp;to=").Append(Html.Query(TraceSearch.Iso(end)))
            .Append("\">as JSON</a></p>\n");
        var searchWindow = $"from={Html.Query(TraceSearch.Iso(start))}&to={Html.Query(TraceSearch.Iso(end))}";
        string NodeSearch(string node) => node.Length == 0 ? $"/search?{searchWindow}" : $"/search?{searchWindow}&service={Html.Query(node)}";
        string EdgeSearch(string from, string to) => from == CallTargets.ClientName ? NodeSearch(to) : $"/search?{searchWindow}&service={Html.Query(from)}&service={Html.Query(to)}";
        UiGraph.Render(h, graph, NodeSearch, EdgeSearch);
        UiGraph.Tables(h, graph, NodeSearch);
        UiGraph.Diff(h, graph);
        return Layout("Service map", "/map", h.ToString());
    }

    public static string ReportsPage(IReadOnlyList<StoredReport> reports)
    {
        var h = new StringBuilder("<h1>Cost reports</h1>\n");
        if (reports.Count == 0)
        {
            h.Append("<p class=\"muted\">No stored report yet: <code>pipeline report</code> runs one now; <code>pipeline up</code> runs one on a timer.</p>\n");
        }

        foreach (var r in reports)
        {
            var day = r.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            h.Append("<section class=\"report\" id=\"report-").Append(day).Append("\"><h2>").Append(Html.Text(r.Model?.Title ?? "Report " + day)).Append("</h2>\n");
            if (r.Model is { } m)
            {
                h.Append("<p class=\"facts\">Month to date through ").Append(Html.Text(Display.Date(m.AsOf))).Append(" (").Append(m.DaysElapsed.ToString(CultureInfo.InvariantCulture))
                    .Append(" of ").Append(m.DaysInMonth.ToString(CultureInfo.InvariantCulture)).Append(" days), generated ").Append(Html.Text(Display.Timestamp(m.GeneratedAt))).Append("</p>\n<table class=\"kv\">");
                Row(h, "Month to date", Display.Money(m.MonthToDate.Total));
                Row(h, "Projected month", Display.Money(m.Projected.Total));
                Row(h, "All traces to X-Ray instead", Display.Money(m.Projected.AllToXRay));
                Row(h, "Projected savings", Display.Money(m.Projected.Savings) + " (" + Display.Percent(m.Projected.SavingsFraction) + ")");
                Row(h, "Traces seen / kept", Display.Count(m.Traffic.TracesSeen) + " / " + Display.Count(m.Traffic.TracesKept));
                h.Append("</table>\n");
            }

            if (r.HasChart)
            {
                h.Append("<img class=\"chart\" src=\"").Append(ReportChartPath(r.Day)).Append("\" alt=\"Daily traces seen and kept, and cost by component\">\n");
            }

            if (r.HasHtml)
            {
                h.Append("<p><a href=\"").Append(ReportHtmlPath(r.Day)).Append("\">the stored report as e-mailed</a></p>\n");
            }

            h.Append("</section>\n");
        }

        return Layout("Reports", "/reports", h.ToString());
    }

    public static string QuarantinePage(IReadOnlyList<QuarantineReason> reasons, DateOnly from, DateOnly to)
    {
        var h = new StringBuilder("<h1>Quarantine</h1>\n");
        h.Append("<form class=\"search\" method=\"get\" action=\"/quarantine\"><label>from<input name=\"from\" value=\"").Append(from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
            .Append("\"></label><label>to<input name=\"to\" value=\"").Append(to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("\"></label><button type=\"submit\">Show</button></form>\n");
        h.Append("<p class=\"facts\">").Append(reasons.Sum(r => r.Documents).ToString(CultureInfo.InvariantCulture)).Append(" rejected document(s), ")
            .Append(reasons.Count.ToString(CultureInfo.InvariantCulture)).Append(" reason(s). Nothing rejected is lost: the original bytes are kept in <code>quarantine/</code>.</p>\n");
        h.Append("<table class=\"results\" id=\"reasons\"><tr><th>reason</th><th class=\"num\">documents</th></tr>");
        foreach (var r in reasons)
        {
            h.Append("<tr><td><a href=\"#reason-").Append(Html.Text(r.Reason)).Append("\">").Append(Html.Text(r.Reason)).Append("</a></td><td class=\"num\">")
                .Append(r.Documents.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>");
        }

        h.Append("</table>\n");
        foreach (var r in reasons)
        {
            h.Append("<h2 id=\"reason-").Append(Html.Text(r.Reason)).Append("\">").Append(Html.Text(r.Reason)).Append("</h2>\n");
            foreach (var s in r.Samples)
            {
                h.Append("<p class=\"muted\">").Append(Html.Text(s.ArrivalTime)).Append(" · sequence ").Append(Html.Text(s.SequenceNumber)).Append(" · ")
                    .Append(s.Size.ToString(CultureInfo.InvariantCulture)).Append(" bytes · at <code>").Append(Html.Text(s.Path)).Append("</code></p>\n<pre class=\"sample\">")
                    .Append(Html.Pre(s.Document)).Append("</pre>\n");
            }
        }

        return Layout("Quarantine", "/quarantine", h.ToString());
    }

    private static void SearchForm(StringBuilder h, Func<string, IReadOnlyList<string>> values)
    {
        string? First(string name) => values(name) is { Count: > 0 } all ? all[0] : null;
        string V(string name) => Html.Text(First(name) ?? "");
        string Checked(string name) => First(name) is { Length: > 0 } v && v is not ("0" or "false" or "off") ? " checked" : "";
        var services = values("service");
        h.Append("<form class=\"search\" id=\"search\" method=\"get\" action=\"/search\">\n")
            .Append("<label>last<select name=\"since\">");
        var since = First("since") ?? "";
        foreach (var option in new[] { "", "15m", "1h", "6h", "1d", "7d" })
        {
            h.Append("<option value=\"").Append(option).Append('"').Append(option == since ? " selected" : "").Append('>').Append(option.Length == 0 ? "(from/to or 1h)" : option).Append("</option>");
        }

        h.Append("</select></label>\n")
            .Append("<label>from (UTC)<input name=\"from\" placeholder=\"2026-11-25T07:00:00Z\" value=\"").Append(V("from")).Append("\"></label>\n")
            .Append("<label>to (UTC)<input name=\"to\" placeholder=\"2026-11-25T08:00:00Z\" value=\"").Append(V("to")).Append("\"></label>\n")
            .Append("<label>service<input name=\"service\" value=\"").Append(Html.Text(services.Count > 0 ? services[0] : "")).Append("\"></label>\n");
        foreach (var extra in services.Skip(1))
        {
            h.Append("<label>and service<input name=\"service\" value=\"").Append(Html.Text(extra)).Append("\"></label>\n");
        }

        h.Append("<label>min duration (ms)<input name=\"min_ms\" inputmode=\"decimal\" value=\"").Append(V("min_ms")).Append("\"></label>\n")
            .Append("<label>max duration (ms)<input name=\"max_ms\" inputmode=\"decimal\" value=\"").Append(V("max_ms")).Append("\"></label>\n")
            .Append("<label>HTTP method<input name=\"method\" value=\"").Append(V("method")).Append("\"></label>\n")
            .Append("<label>HTTP status<input name=\"status\" inputmode=\"numeric\" value=\"").Append(V("status")).Append("\"></label>\n")
            .Append("<label>URL contains<input name=\"url\" value=\"").Append(V("url")).Append("\"></label>\n")
            .Append("<label>annotation key=value<input name=\"annotation\" value=\"").Append(V("annotation")).Append("\"></label>\n")
            .Append("<label class=\"check\"><input type=\"checkbox\" name=\"error\" value=\"1\"").Append(Checked("error")).Append("> error</label>\n")
            .Append("<label class=\"check\"><input type=\"checkbox\" name=\"fault\" value=\"1\"").Append(Checked("fault")).Append("> fault</label>\n")
            .Append("<label class=\"check\"><input type=\"checkbox\" name=\"throttle\" value=\"1\"").Append(Checked("throttle")).Append("> throttle</label>\n")
            .Append("<label>trace id<input name=\"trace\" value=\"").Append(V("trace")).Append("\"></label>\n")
            .Append("<button type=\"submit\" id=\"search-button\">Search</button>\n</form>\n");
    }

    private static void Histogram(StringBuilder h, TraceSearch search, SearchResult result)
    {
        if (result.Histogram.Count == 0)
        {
            return;
        }

        const int BarWidth = 28;
        const int Height = 90;
        var first = result.Histogram.Min(b => b.Bucket);
        var last = result.Histogram.Max(b => b.Bucket);
        var max = result.Histogram.Max(b => b.Traces);
        var counts = result.Histogram.ToDictionary(b => b.Bucket, b => b.Traces);
        var width = ((last - first + 1) * BarWidth) + 10;
        h.Append("<section aria-label=\"latency histogram\"><svg class=\"hist\" id=\"histogram\" viewBox=\"0 0 ").Append(width.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append((Height + 30).ToString(CultureInfo.InvariantCulture)).Append("\" width=\"").Append(width.ToString(CultureInfo.InvariantCulture)).Append("\" height=\"")
            .Append((Height + 30).ToString(CultureInfo.InvariantCulture)).Append("\" role=\"img\">");
        for (var b = first; b <= last; b++)
        {
            var count = counts.GetValueOrDefault(b);
            var lo = TraceSearchSql.BucketStartMs(b);
            var hi = TraceSearchSql.BucketStartMs(b + 1);
            var barHeight = count == 0 ? 0 : Math.Max(2, (double)count / max * Height);
            var x = 5 + ((b - first) * BarWidth);
            var link = "/search?" + (search with { MinDurationMs = Math.Round(lo, 3), MaxDurationMs = Math.Round(hi, 3) }).ToQueryString();
            h.Append("<a href=\"").Append(Html.Text(link)).Append("\"><rect x=\"").Append(x.ToString(CultureInfo.InvariantCulture)).Append("\" y=\"")
                .Append(Html.Number(Height - barHeight)).Append("\" width=\"").Append((BarWidth - 4).ToString(CultureInfo.InvariantCulture)).Append("\" height=\"").Append(Html.Number(barHeight))
                .Append("\" data-traces=\"").Append(count.ToString(CultureInfo.InvariantCulture)).Append("\"><title>").Append(Html.Text(WaterfallText.Duration(lo))).Append(" – ")
                .Append(Html.Text(WaterfallText.Duration(hi))).Append(": ").Append(count.ToString(CultureInfo.InvariantCulture)).Append(" trace(s)</title></rect></a>");
            if ((b - first) % 2 == 0)
            {
                h.Append("<text x=\"").Append(x.ToString(CultureInfo.InvariantCulture)).Append("\" y=\"").Append((Height + 14).ToString(CultureInfo.InvariantCulture)).Append("\">")
                    .Append(Html.Text(WaterfallText.Duration(lo).Replace(".0 ", " ", StringComparison.Ordinal))).Append("</text>");
            }
        }

        h.Append("</svg></section>\n");
    }

    private static void Results(StringBuilder h, SearchResult result)
    {
        h.Append("<table class=\"results\" id=\"results\"><tr><th>start (UTC)</th><th>trace</th><th>entry</th><th>request</th><th class=\"num\">status</th><th class=\"num\">duration</th><th class=\"num\">segments</th><th>flags</th></tr>\n");
        foreach (var t in result.Traces)
        {
            h.Append("<tr data-trace-id=\"").Append(Html.Text(t.TraceId)).Append("\"><td>").Append(Html.Text(WaterfallText.Timestamp(t.StartTime))).Append("</td><td><a href=\"/trace/")
                .Append(Html.Text(t.TraceId)).Append("\"><code>").Append(Html.Text(t.TraceId)).Append("</code></a></td><td>").Append(Html.Text(t.RootService)).Append("</td><td>")
                .Append(Html.Text(t.RootMethod)).Append(' ').Append(Html.Text(DisplayText.Fit(t.RootUrl, 80))).Append("</td><td class=\"num\">")
                .Append(t.RootStatus?.ToString(CultureInfo.InvariantCulture) ?? "").Append("</td><td class=\"num\">").Append(Html.Text(WaterfallText.Duration(t.DurationSeconds * 1000)))
                .Append("</td><td class=\"num\">").Append(t.Segments.ToString(CultureInfo.InvariantCulture)).Append("</td><td>")
                .Append(t.Fault ? "<span class=\"flag fault\">fault</span>" : "").Append(t.Error ? "<span class=\"flag error\">error</span>" : "")
                .Append(t.Throttle ? "<span class=\"flag throttle\">throttle</span>" : "").Append("</td></tr>\n");
        }

        h.Append("</table>\n");
        if (result.Traces.Count < result.Matches)
        {
            h.Append("<p class=\"muted\">Showing the newest ").Append(result.Traces.Count.ToString(CultureInfo.InvariantCulture)).Append(" (raise <code>limit</code> or narrow the search).</p>\n");
        }
    }

    private static void Row(StringBuilder h, string key, string value) =>
        h.Append("<tr><th>").Append(Html.Text(key)).Append("</th><td>").Append(Html.Text(value)).Append("</td></tr>");

    private static string Layout(string title, string? active, string body)
    {
        var h = new StringBuilder(body.Length + 2048);
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<title>")
            .Append(Html.Text(title)).Append(" · pipeline</title>\n<link rel=\"stylesheet\" href=\"").Append(UiEndpoints.CssPath).Append("\">\n</head>\n<body>\n<header class=\"top\"><span class=\"brand\">X-Ray archive</span>");
        foreach (var (path, label) in Nav)
        {
            h.Append("<a href=\"").Append(path).Append('"').Append(path == active ? " class=\"on\"" : "").Append('>').Append(label).Append("</a>");
        }

        h.Append("<form method=\"get\" action=\"/search\"><input name=\"trace\" placeholder=\"go to trace id\" aria-label=\"trace id\"></form></header>\n<main>\n")
            .Append(body).Append("</main>\n</body>\n</html>\n");
        return h.ToString();
    }
}
