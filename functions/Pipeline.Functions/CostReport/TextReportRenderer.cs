using System.Globalization;
using System.Text;

namespace Pipeline.Functions.CostReport;

/// <summary>The plain-text alternative part: the same content as the HTML, in fixed-width columns.</summary>
public static class TextReportRenderer
{
    private const int LabelWidth = 44;
    private const int ValueWidth = 22;

    public static string Render(CostReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var t = new StringBuilder(8 * 1024);
        t.Append(model.Title).Append('\n').Append(new string('=', model.Title.Length)).Append('\n')
            .Append(HtmlReportRenderer.Period(model)).Append("\n\n");

        t.Append(Cols("", "Month to date", "Projected"));
        t.Append(Cols("X-Ray (kept traces)", Display.Money(model.MonthToDate.XRay), Display.Money(model.Projected.XRay)));
        t.Append(Cols(ReportLines.PipelineLabel, Display.Money(model.MonthToDate.Pipeline), Display.Money(model.Projected.Pipeline)));
        t.Append(Cols("Total with the pipeline", Display.Money(model.MonthToDate.Total), Display.Money(model.Projected.Total)));
        t.Append(Cols("All traces to X-Ray, no pipeline", Display.Money(model.MonthToDate.AllToXRay), Display.Money(model.Projected.AllToXRay)));
        t.Append(Cols(ReportLines.TransactionSearchLabel, ReportLines.OptionalMoney(model.MonthToDate.AllToTransactionSearch), ReportLines.OptionalMoney(model.Projected.AllToTransactionSearch)));
        t.Append(Cols(
            "Savings",
            Display.Money(model.MonthToDate.Savings) + " (" + Display.Percent(model.MonthToDate.SavingsFraction) + ")",
            Display.Money(model.Projected.Savings) + " (" + Display.Percent(model.Projected.SavingsFraction) + ")"));

        var tr = model.Traffic;
        Heading(t, "Traffic, month to date");
        t.Append(Cols("Segments received", Display.Count(tr.SegmentsIn)));
        t.Append(Cols("Valid / invalid (quarantined)", Display.Count(tr.SegmentsValid) + " / " + Display.Count(tr.SegmentsInvalid)));
        foreach (var (label, value) in ReportLines.Origin(tr))
        {
            t.Append(Cols(label, value));
        }

        t.Append(Cols("Segments sent to X-Ray", Display.Count(tr.SegmentsKept)));
        t.Append(Cols("Traces seen / kept", Display.Count(tr.TracesSeen) + " / " + Display.Count(tr.TracesKept)));
        t.Append(Cols("Kept: head sampling", Display.Percent(tr.KeptRatio.Head)));
        t.Append(Cols("Kept: errors / faults / throttles", Display.Percent(tr.KeptRatio.TailError) + " / " + Display.Percent(tr.KeptRatio.TailFault) + " / " + Display.Percent(tr.KeptRatio.TailThrottle)));
        t.Append(Cols("Kept: slow", Display.Percent(tr.KeptRatio.TailSlow)));
        t.Append(Cols("Archive size (estimated)", Display.Gigabytes(model.ArchiveBytesAtAsOf)));

        Heading(t, "Cost by component");
        t.Append(Cols("Component", "Month to date", "Projected"));
        foreach (var c in model.Costs)
        {
            t.Append(Cols(c.Label, Display.Money(c.UsdMonthToDate), Display.Money(c.UsdProjected)));
            t.Append("  ").Append(Display.Quantity(c.QuantityMonthToDate)).Append(' ').Append(c.Unit);
            if (c.BillableMonthToDate != c.QuantityMonthToDate)
            {
                t.Append(", ").Append(Display.Quantity(c.BillableMonthToDate)).Append(" billable");
            }

            t.Append('\n');
        }

        if (model.Unpriced.Count > 0)
        {
            Heading(t, "Not priced");
            t.Append(ReportLines.UnpricedIntro(model)).Append('\n');
            foreach (var u in model.Unpriced)
            {
                t.Append(Cols(u.Label, Display.Quantity(u.QuantityMonthToDate), Display.Quantity(u.QuantityProjected)));
                t.Append("  ").Append(u.Unit).Append(", price: ").Append(u.PriceName).Append('\n');
            }
        }

        Heading(t, "Services");
        if (model.Services.Count == 0)
        {
            t.Append("No service usage recorded this month.\n");
        }

        foreach (var s in model.Services)
        {
            t.Append(s.Name).Append('\n')
                .Append(CultureInfo.InvariantCulture, $"  segments {Display.Count(s.Segments)}, traces {Display.Count(s.Traces)}, kept {Display.Percent(s.KeptRatio.Total)}")
                .Append(CultureInfo.InvariantCulture, $" (head {Display.Percent(s.KeptRatio.Head)}, error {Display.Percent(s.KeptRatio.TailError)}, fault {Display.Percent(s.KeptRatio.TailFault)}, throttle {Display.Percent(s.KeptRatio.TailThrottle)}, slow {Display.Percent(s.KeptRatio.TailSlow)})\n")
                .Append(CultureInfo.InvariantCulture, $"  X-Ray share {Display.Percent(s.XRayCostShare)} ({Display.Money(s.XRayCostUsd)})\n");
        }

        if (model.ServicesOmitted > 0)
        {
            t.Append(CultureInfo.InvariantCulture, $"{model.ServicesOmitted} smaller service(s) not shown.\n");
        }

        if (model.TopTalkers.Count > 0)
        {
            Heading(t, "Top talkers");
            foreach (var talker in model.TopTalkers)
            {
                t.Append(Cols(talker.Name, Display.Count(talker.Segments) + " segments", Display.Percent(talker.SegmentShare)));
            }
        }

        if (model.GraphDiff is { } d)
        {
            Heading(t, "Service graph changes");
            if (d.From is not null || d.To is not null)
            {
                t.Append(d.From ?? "?").Append(" -> ").Append(d.To ?? "?").Append('\n');
            }

            if (d.IsEmpty)
            {
                t.Append("No changes.\n");
            }

            foreach (var line in ReportLines.GraphChanges(d))
            {
                t.Append("- ").Append(line).Append('\n');
            }
        }

        t.Append('\n');
        foreach (var note in model.Notes)
        {
            t.Append(note).Append('\n');
        }

        t.Append(ReportLines.PriceFootnote(model)).Append('\n');
        return t.ToString();
    }

    private static void Heading(StringBuilder t, string title) =>
        t.Append('\n').Append(title).Append('\n').Append(new string('-', title.Length)).Append('\n');

    private static string Cols(string label, string value, string? second = null)
    {
        var line = label.Length > LabelWidth ? label + "\n" + new string(' ', LabelWidth) : label.PadRight(LabelWidth);
        line += value.PadLeft(ValueWidth);
        if (second is not null)
        {
            line += second.PadLeft(ValueWidth);
        }

        return line.TrimEnd() + "\n";
    }
}
