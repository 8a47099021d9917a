using Pipeline.Core.Graph;
using System.Globalization;
using System.Net;
using System.Text;

namespace Pipeline.Functions.CostReport;

/// <summary>
/// The report as HTML for mail clients: one centred table layout, inline styles only (many
/// clients drop &lt;style&gt; blocks), no scripts; the chart by Content-ID in the e-mail, inline in the stored copy.
/// </summary>
public static class HtmlReportRenderer
{
    private const string Font = "font-family:Arial,Helvetica,sans-serif;";
    private const string Cell = "padding:4px 8px;border-bottom:1px solid #e3e7ec;";
    private const string Num = Cell + "text-align:right;white-space:nowrap;";
    private const string HeadBase = "padding:4px 8px;border-bottom:2px solid #1f4e79;color:#1f4e79;";
    private const string Head = HeadBase + "text-align:left;";
    private const string HeadNum = HeadBase + "text-align:right;";
    private const string Section = "margin:24px 0 8px 0;font-size:16px;color:#1f4e79;" + Font;
    /// <summary>Content width; Outlook sizes images by their width attribute and ignores max-width.</summary>
    private const int ContentWidth = 632;

    private const string Table = "border-collapse:collapse;width:100%;font-size:13px;" + Font;

    /// <summary>The e-mail's HTML: the chart is the message part with Content-ID <paramref name="chartContentId"/>.</summary>
    public static string Render(CostReportModel model, string chartContentId) => RenderWith(model, "cid:" + chartContentId);

    /// <summary>
    /// The copy kept in reports/ (S3 and the local mirror): there is no message to resolve a
    /// <c>cid:</c> against when the file is opened on its own, so the chart goes inline as a
    /// <c>data:</c> URI and the page shows it wherever it is opened (S3 console, a presigned URL,
    /// a local file).
    /// </summary>
    public static string RenderStored(CostReportModel model, byte[] chartPng)
    {
        ArgumentNullException.ThrowIfNull(chartPng);
        return RenderWith(model, "data:image/png;base64," + Convert.ToBase64String(chartPng));
    }

    private static string RenderWith(CostReportModel model, string chartSource)
    {
        ArgumentNullException.ThrowIfNull(model);
        var h = new StringBuilder(16 * 1024);
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width\">\n<title>").Append(E(model.Title)).Append("</title>\n</head>\n")
            .Append("<body style=\"margin:0;padding:0;background:#f4f6f8;\">\n")
            .Append("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f4f6f8;\"><tr><td align=\"center\" style=\"padding:16px;\">\n")
            .Append("<table role=\"presentation\" width=\"680\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:680px;width:100%;background:#ffffff;border:1px solid #dde3ea;\"><tr><td style=\"padding:20px 24px;color:#1b1f24;").Append(Font).Append("\">\n");

        h.Append("<h1 style=\"margin:0 0 4px 0;font-size:20px;color:#1f4e79;").Append(Font).Append("\">").Append(E(model.Title)).Append("</h1>\n")
            .Append("<p style=\"margin:0 0 16px 0;font-size:13px;color:#5a6573;\">")
            .Append(E(Period(model))).Append("</p>\n");

        Summary(h, model);
        h.Append("<p style=\"margin:16px 0;\"><img src=\"").Append(E(chartSource))
            .Append("\" width=\"").Append(ContentWidth.ToString(CultureInfo.InvariantCulture))
            .Append("\" height=\"").Append((ContentWidth * ReportChart.Height / ReportChart.Width).ToString(CultureInfo.InvariantCulture))
            .Append("\" alt=\"Daily traces seen and kept, and cost by component\" style=\"display:block;width:100%;max-width:")
            .Append(ReportChart.Width.ToString(CultureInfo.InvariantCulture)).Append("px;height:auto;border:0;\"></p>\n");

        Traffic(h, model);
        Costs(h, model);
        Services(h, model);
        TopTalkers(h, model);
        GraphDiff(h, model);
        Notes(h, model);

        h.Append("</td></tr></table>\n</td></tr></table>\n</body>\n</html>\n");
        return h.ToString();
    }

    internal static string Period(CostReportModel m) => string.Create(
        CultureInfo.InvariantCulture,
        $"Month to date through {Display.Date(m.AsOf)} ({m.DaysElapsed} of {m.DaysInMonth} days); projection from the mean of the last {m.RateWindowDays} day(s). Generated {Display.Timestamp(m.GeneratedAt)}.");

    private static void Summary(StringBuilder h, CostReportModel m)
    {
        h.Append("<table role=\"presentation\" style=\"").Append(Table).Append("\">\n")
            .Append("<tr><th style=\"").Append(Head).Append("\"></th><th style=\"").Append(HeadNum).Append("\">Month to date</th><th style=\"").Append(HeadNum).Append("\">Projected month</th></tr>\n");
        Row(h, "X-Ray (kept traces)", m.MonthToDate.XRay, m.Projected.XRay, false);
        Row(h, ReportLines.PipelineLabel, m.MonthToDate.Pipeline, m.Projected.Pipeline, false);
        Row(h, "Total with the pipeline", m.MonthToDate.Total, m.Projected.Total, true);
        Row(h, "All traces to X-Ray, no pipeline", m.MonthToDate.AllToXRay, m.Projected.AllToXRay, false);
        h.Append("<tr><td style=\"").Append(Cell).Append("\">").Append(E(ReportLines.TransactionSearchLabel)).Append("</td>")
            .Append("<td style=\"").Append(Num).Append("\">").Append(E(ReportLines.OptionalMoney(m.MonthToDate.AllToTransactionSearch))).Append("</td>")
            .Append("<td style=\"").Append(Num).Append("\">").Append(E(ReportLines.OptionalMoney(m.Projected.AllToTransactionSearch))).Append("</td></tr>\n");
        h.Append("<tr><td style=\"").Append(Cell).Append("font-weight:bold;color:#2e7d32;\">Savings</td>")
            .Append("<td style=\"").Append(Num).Append("font-weight:bold;color:#2e7d32;\">").Append(E(Display.Money(m.MonthToDate.Savings)))
            .Append(" (").Append(E(Display.Percent(m.MonthToDate.SavingsFraction))).Append(")</td>")
            .Append("<td style=\"").Append(Num).Append("font-weight:bold;color:#2e7d32;\">").Append(E(Display.Money(m.Projected.Savings)))
            .Append(" (").Append(E(Display.Percent(m.Projected.SavingsFraction))).Append(")</td></tr>\n</table>\n");
    }

    private static void Row(StringBuilder h, string label, decimal mtd, decimal projected, bool bold)
    {
        var weight = bold ? "font-weight:bold;" : "";
        h.Append("<tr><td style=\"").Append(Cell).Append(weight).Append("\">").Append(E(label)).Append("</td>")
            .Append("<td style=\"").Append(Num).Append(weight).Append("\">").Append(E(Display.Money(mtd))).Append("</td>")
            .Append("<td style=\"").Append(Num).Append(weight).Append("\">").Append(E(Display.Money(projected))).Append("</td></tr>\n");
    }

    private static void Traffic(StringBuilder h, CostReportModel m)
    {
        var t = m.Traffic;
        h.Append("<h2 style=\"").Append(Section).Append("\">Traffic, month to date</h2>\n")
            .Append("<table role=\"presentation\" style=\"").Append(Table).Append("\">\n");
        Pair(h, "Segments received", Display.Count(t.SegmentsIn));
        Pair(h, "Valid / invalid (quarantined)", Display.Count(t.SegmentsValid) + " / " + Display.Count(t.SegmentsInvalid));
        foreach (var (label, value) in ReportLines.Origin(t))
        {
            Pair(h, label, value);
        }

        Pair(h, "Segments sent to X-Ray", Display.Count(t.SegmentsKept));
        Pair(h, "Traces seen / kept", Display.Count(t.TracesSeen) + " / " + Display.Count(t.TracesKept));
        Pair(h, "Kept: head sampling", Display.Percent(t.KeptRatio.Head));
        Pair(h, "Kept: errors / faults / throttles", Display.Percent(t.KeptRatio.TailError) + " / " + Display.Percent(t.KeptRatio.TailFault) + " / " + Display.Percent(t.KeptRatio.TailThrottle));
        Pair(h, "Kept: slow", Display.Percent(t.KeptRatio.TailSlow));
        Pair(h, "Archive size (estimated)", Display.Gigabytes(m.ArchiveBytesAtAsOf));
        h.Append("</table>\n");
    }

    private static void Pair(StringBuilder h, string label, string value) =>
        h.Append("<tr><td style=\"").Append(Cell).Append("\">").Append(E(label)).Append("</td><td style=\"").Append(Num).Append("\">").Append(E(value)).Append("</td></tr>\n");

    private static void Costs(StringBuilder h, CostReportModel m)
    {
        h.Append("<h2 style=\"").Append(Section).Append("\">Cost by component</h2>\n")
            .Append("<table role=\"presentation\" style=\"").Append(Table).Append("\">\n")
            .Append("<tr><th style=\"").Append(Head).Append("\">Component</th><th style=\"").Append(HeadNum).Append("\">Quantity</th><th style=\"").Append(HeadNum)
            .Append("\">Billable</th><th style=\"").Append(HeadNum).Append("\">Month to date</th><th style=\"").Append(HeadNum).Append("\">Projected</th></tr>\n");
        foreach (var c in m.Costs)
        {
            h.Append("<tr><td style=\"").Append(Cell).Append("\">").Append(E(c.Label)).Append("</td>")
                .Append("<td style=\"").Append(Num).Append("\">").Append(E(Display.Quantity(c.QuantityMonthToDate))).Append(' ').Append(E(c.Unit)).Append("</td>")
                .Append("<td style=\"").Append(Num).Append("\">").Append(E(Display.Quantity(c.BillableMonthToDate))).Append("</td>")
                .Append("<td style=\"").Append(Num).Append("\">").Append(E(Display.Money(c.UsdMonthToDate))).Append("</td>")
                .Append("<td style=\"").Append(Num).Append("\">").Append(E(Display.Money(c.UsdProjected))).Append("</td></tr>\n");
        }

        h.Append("</table>\n");
        if (m.Unpriced.Count == 0)
        {
            return;
        }

        h.Append("<h2 style=\"").Append(Section).Append("\">Not priced</h2>\n<p style=\"font-size:12px;color:#5a6573;margin:0 0 8px 0;\">")
            .Append(E(ReportLines.UnpricedIntro(m))).Append("</p>\n<table role=\"presentation\" style=\"").Append(Table).Append("\">\n")
            .Append("<tr><th style=\"").Append(Head).Append("\">Component</th><th style=\"").Append(HeadNum).Append("\">Month to date</th><th style=\"").Append(HeadNum)
            .Append("\">Projected</th><th style=\"").Append(Head).Append("\">Price to set</th></tr>\n");
        foreach (var u in m.Unpriced)
        {
            h.Append("<tr><td style=\"").Append(Cell).Append("\">").Append(E(u.Label)).Append("</td>")
                .Append("<td style=\"").Append(Num).Append("\">").Append(E(Display.Quantity(u.QuantityMonthToDate))).Append(' ').Append(E(u.Unit)).Append("</td>")
                .Append("<td style=\"").Append(Num).Append("\">").Append(E(Display.Quantity(u.QuantityProjected))).Append("</td>")
                .Append("<td style=\"").Append(Cell).Append("\">").Append(E(u.PriceName)).Append("</td></tr>\n");
        }

        h.Append("</table>\n");
    }

    private static void Services(StringBuilder h, CostReportModel m)
    {
        h.Append("<h2 style=\"").Append(Section).Append("\">Services</h2>\n");
        if (m.Services.Count == 0)
        {
            h.Append("<p style=\"font-size:13px;\">No service usage recorded this month.</p>\n");
            return;
        }

        h.Append("<table role=\"presentation\" style=\"").Append(Table).Append("\">\n<tr>");
        foreach (var (title, numeric) in new[] { ("Service", false), ("Segments", true), ("Traces", true), ("Kept", true), ("Head", true), ("Error", true), ("Fault", true), ("Throttle", true), ("Slow", true), ("X-Ray share", true) })
        {
            h.Append("<th style=\"").Append(numeric ? HeadNum : Head).Append("\">").Append(E(title)).Append("</th>");
        }

        h.Append("</tr>\n");
        foreach (var s in m.Services)
        {
            h.Append("<tr><td style=\"").Append(Cell).Append("\">").Append(E(s.Name)).Append("</td>");
            foreach (var value in new[]
            {
                Display.Count(s.Segments), Display.Count(s.Traces), Display.Percent(s.KeptRatio.Total),
                Display.Percent(s.KeptRatio.Head), Display.Percent(s.KeptRatio.TailError), Display.Percent(s.KeptRatio.TailFault),
                Display.Percent(s.KeptRatio.TailThrottle), Display.Percent(s.KeptRatio.TailSlow),
                Display.Percent(s.XRayCostShare) + " (" + Display.Money(s.XRayCostUsd) + ")",
            })
            {
                h.Append("<td style=\"").Append(Num).Append("\">").Append(E(value)).Append("</td>");
            }

            h.Append("</tr>\n");
        }

        h.Append("</table>\n");
        if (m.ServicesOmitted > 0)
        {
            h.Append("<p style=\"font-size:12px;color:#5a6573;\">").Append(m.ServicesOmitted.ToString(CultureInfo.InvariantCulture))
                .Append(" smaller service(s) not shown.</p>\n");
        }
    }

    private static void TopTalkers(StringBuilder h, CostReportModel m)
    {
        if (m.TopTalkers.Count == 0)
        {
            return;
        }

        h.Append("<h2 style=\"").Append(Section).Append("\">Top talkers</h2>\n<table role=\"presentation\" style=\"").Append(Table).Append("\">\n");
        foreach (var t in m.TopTalkers)
        {
            h.Append("<tr><td style=\"").Append(Cell).Append("\">").Append(E(t.Name)).Append("</td><td style=\"").Append(Num).Append("\">")
                .Append(E(Display.Count(t.Segments))).Append(" segments</td><td style=\"").Append(Num).Append("\">")
                .Append(E(Display.Percent(t.SegmentShare))).Append("</td></tr>\n");
        }

        h.Append("</table>\n");
    }

    private static void GraphDiff(StringBuilder h, CostReportModel m)
    {
        if (m.GraphDiff is not { } d)
        {
            return;
        }

        h.Append("<h2 style=\"").Append(Section).Append("\">Service graph changes</h2>\n");
        if (d.From is not null || d.To is not null)
        {
            h.Append("<p style=\"font-size:12px;color:#5a6573;margin:0 0 8px 0;\">").Append(E(d.From ?? "?")).Append(" &rarr; ").Append(E(d.To ?? "?")).Append("</p>\n");
        }

        if (d.IsEmpty)
        {
            h.Append("<p style=\"font-size:13px;\">No changes.</p>\n");
            return;
        }

        h.Append("<ul style=\"margin:0;padding-left:20px;font-size:13px;").Append(Font).Append("\">\n");
        foreach (var line in ReportLines.GraphChanges(d))
        {
            h.Append("<li>").Append(E(line)).Append("</li>\n");
        }

        h.Append("</ul>\n");
    }

    private static void Notes(StringBuilder h, CostReportModel m)
    {
        h.Append("<p style=\"margin:24px 0 0 0;font-size:11px;color:#5a6573;\">");
        foreach (var note in m.Notes)
        {
            h.Append(E(note)).Append("<br>");
        }

        h.Append(E(ReportLines.PriceFootnote(m))).Append("</p>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}

/// <summary>Sentences that the HTML and text renderers share word for word.</summary>
internal static class ReportLines
{
    public const string PipelineLabel = "Pipeline (every AWS service it runs on)";

    public const string TransactionSearchLabel = "All spans to Transaction Search, no pipeline";

    public static string OptionalMoney(decimal? usd) => usd is { } v ? Display.Money(v) : "price not set";

    public static string UnpricedIntro(CostReportModel m) => string.Create(
        CultureInfo.InvariantCulture,
        $"The stack bills these too, but price table {m.PriceTable.Version} has no confirmed price for them, so no total includes them: set prices.<name>.usd in PRICE_TABLE to price them (docs/cost-report.md).");

    /// <summary>Intake by SDK generation; nothing when the month has no usage by origin at all.</summary>
    public static IEnumerable<(string Label, string Value)> Origin(TrafficTotals t)
    {
        if (t.ByOrigin is not { } o || o.XraySdkSegmentsIn + o.OtelSpansIn == 0)
        {
            yield break;
        }

        yield return ("X-Ray SDK segments in / valid / invalid", Display.Count(o.XraySdkSegmentsIn) + " / " + Display.Count(o.XraySdkSegmentsValid) + " / " + Display.Count(o.XraySdkSegmentsInvalid));
        yield return ("OTel spans in / valid / invalid", Display.Count(o.OtelSpansIn) + " / " + Display.Count(o.OtelSpansValid) + " / " + Display.Count(o.OtelSpansInvalid));
        yield return ("Segments converted from OTel spans", Display.Count(o.OtelSegmentsValid));
    }

    public static IEnumerable<string> GraphChanges(ServiceGraphDiff d)
    {
        foreach (var n in d.AddedNodes)
        {
            yield return "New service: " + n;
        }

        foreach (var n in d.RemovedNodes)
        {
            yield return "Service gone: " + n;
        }

        foreach (var e in d.AddedEdges)
        {
            yield return "New call: " + e.From + " -> " + e.To;
        }

        foreach (var e in d.RemovedEdges)
        {
            yield return "Call gone: " + e.From + " -> " + e.To;
        }

        foreach (var r in d.Regressions)
        {
            yield return "Regression: " + r.Subject + ", " + r.Metric + " " + r.Before + " -> " + r.After;
        }
    }

    public static string PriceFootnote(CostReportModel m) => string.Create(
        CultureInfo.InvariantCulture,
        $"Prices: table {m.PriceTable.Version} for {m.PriceTable.Region}, taken {Display.Date(m.PriceTable.RetrievedOn)}, in {m.PriceTable.Currency}; monthly free tiers applied to the calendar month. \"All traces to X-Ray\" prices every trace seen as recorded by X-Ray with no pipeline; \"All spans to Transaction Search\" prices the bytes the pipeline received as spans ingested, the free 1 % trace-summary indexing included.");
}
