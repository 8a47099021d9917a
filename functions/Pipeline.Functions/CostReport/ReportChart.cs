using System.Globalization;
using SkiaSharp;

namespace Pipeline.Functions.CostReport;

/// <summary>
/// The report's chart as PNG: daily traces seen vs. kept (left) and month-to-date cost by
/// component against all traces to X-Ray (right). Fixed size, no antialiasing and the bitmap
/// font, so the same model gives the same bytes.
/// </summary>
public static class ReportChart
{
    public const int Width = 960;
    public const int Height = 400;
    public const string ContentType = "image/png";

    private static readonly SKColor Background = new(0xFF, 0xFF, 0xFF);
    private static readonly SKColor Ink = new(0x1B, 0x1F, 0x24);
    private static readonly SKColor Muted = new(0x5A, 0x65, 0x73);
    private static readonly SKColor Grid = new(0xE3, 0xE7, 0xEC);
    private static readonly SKColor Seen = new(0x9F, 0xC5, 0xE8);
    private static readonly SKColor Kept = new(0x1F, 0x4E, 0x79);
    private static readonly SKColor Counterfactual = new(0xC6, 0x28, 0x28);
    private static readonly SKColor Saved = new(0x2E, 0x7D, 0x32);

    public static byte[] RenderPng(CostReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var info = new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(Background);
            DrawDailyTraces(canvas, model, new SKRectI(0, 0, 580, Height));
            DrawCostByComponent(canvas, model, new SKRectI(580, 0, Width, Height));
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private static void DrawDailyTraces(SKCanvas canvas, CostReportModel model, SKRectI area)
    {
        using var ink = Fill(Ink);
        using var muted = Fill(Muted);
        using var grid = Fill(Grid);
        using var seen = Fill(Seen);
        using var kept = Fill(Kept);

        PixelFont.Draw(canvas, "DAILY TRACES: SEEN VS KEPT", area.Left + 20, 16, 2, ink);

        var plot = new SKRectI(area.Left + 70, 56, area.Right - 20, area.Bottom - 70);
        var max = model.Daily.Count == 0 ? 0L : model.Daily.Max(d => Math.Max(d.TracesSeen, d.TracesKept));
        var top = NiceCeiling(max);
        const int Ticks = 4;
        for (var i = 0; i <= Ticks; i++)
        {
            var value = top * i / Ticks;
            var y = plot.Bottom - (int)(plot.Height * i / Ticks);
            canvas.DrawRect(plot.Left, y, plot.Width, 1, i == 0 ? muted : grid);
            var label = Display.Compact(value);
            PixelFont.Draw(canvas, label, plot.Left - 8 - PixelFont.Measure(label, 1), y - 3, 1, muted);
        }

        var days = model.DaysInMonth;
        var slot = plot.Width / (float)days;
        var barWidth = Math.Max(1, (int)(slot * 0.7f));
        foreach (var point in model.Daily)
        {
            var x = plot.Left + (int)((point.Day.Day - 1) * slot) + (int)((slot - barWidth) / 2);
            DrawBar(canvas, x, plot.Bottom, barWidth, BarHeight(point.TracesSeen, top, plot.Height), seen);
            DrawBar(canvas, x, plot.Bottom, barWidth, BarHeight(point.TracesKept, top, plot.Height), kept);
        }

        for (var day = 1; day <= days; day += day == 1 ? 4 : 5)
        {
            var label = day.ToString(CultureInfo.InvariantCulture);
            var center = plot.Left + (int)(((day - 1) * slot) + (slot / 2));
            PixelFont.Draw(canvas, label, center - (PixelFont.Measure(label, 1) / 2), plot.Bottom + 8, 1, muted);
        }

        var month = new DateOnly(model.Year, model.Month, 1).ToString("MMM yyyy", CultureInfo.InvariantCulture);
        PixelFont.Draw(canvas, "DAY OF " + month, plot.Left, plot.Bottom + 22, 1, muted);

        var legendY = area.Bottom - 28;
        canvas.DrawRect(plot.Left, legendY, 12, 12, seen);
        PixelFont.Draw(canvas, "SEEN (ARCHIVED)", plot.Left + 18, legendY + 2, 1, ink);
        canvas.DrawRect(plot.Left + 140, legendY, 12, 12, kept);
        PixelFont.Draw(canvas, "KEPT (SENT TO X-RAY)", plot.Left + 158, legendY + 2, 1, ink);
    }

    private static void DrawCostByComponent(SKCanvas canvas, CostReportModel model, SKRectI area)
    {
        using var ink = Fill(Ink);
        using var muted = Fill(Muted);
        using var grid = Fill(Grid);
        using var kept = Fill(Kept);
        using var counterfactual = Fill(Counterfactual);
        using var saved = Fill(Saved);

        canvas.DrawRect(area.Left, 16, 1, area.Height - 32, grid);
        PixelFont.Draw(canvas, "COST MONTH TO DATE", area.Left + 20, 16, 2, ink);

        var rows = model.CostByGroup
            .Select(g => (Label: g.Label.ToUpperInvariant(), Usd: g.UsdMonthToDate, Paint: kept))
            .Append((Label: "TOTAL", Usd: model.MonthToDate.Total, Paint: ink))
            .Append((Label: "ALL TO X-RAY", Usd: model.MonthToDate.AllToXRay, Paint: counterfactual))
            .ToArray();
        var max = rows.Max(r => r.Usd);
        const int LabelWidth = 84;
        var barLeft = area.Left + 20 + LabelWidth;
        var barMax = area.Right - 90 - barLeft;
        var y = 60;

        // Groups a user priced (DynamoDB, CloudWatch, SQS, KMS) add rows: keep them above the savings line.
        var step = Math.Min(30, (Height - 110) / rows.Length);
        foreach (var (label, usd, paint) in rows)
        {
            if (label == "TOTAL")
            {
                canvas.DrawRect(area.Left + 20, y - 6, area.Width - 40, 1, grid);
            }

            PixelFont.Draw(canvas, label, area.Left + 20, y + 3, 1, ink);
            var length = max <= 0m ? 0 : (int)Math.Round(usd / max * barMax, MidpointRounding.AwayFromZero);
            canvas.DrawRect(barLeft, y, Math.Max(length, usd > 0m ? 1 : 0), 13, paint);
            PixelFont.Draw(canvas, Display.Money(usd), barLeft + length + 6, y + 3, 1, muted);
            y += step;
        }

        var savings = "SAVED " + Display.Money(model.MonthToDate.Savings) + " (" + Display.Percent(model.MonthToDate.SavingsFraction).Replace(" ", "", StringComparison.Ordinal) + ")";
        PixelFont.Draw(canvas, savings, area.Left + 20, y + 8, 2, saved);
        PixelFont.Draw(canvas, "USD, " + model.PriceTable.Region.ToUpperInvariant(), area.Left + 20, area.Bottom - 26, 1, muted);
    }

    private static void DrawBar(SKCanvas canvas, int x, int bottom, int width, int height, SKPaint paint)
    {
        if (height > 0)
        {
            canvas.DrawRect(x, bottom - height, width, height, paint);
        }
    }

    private static int BarHeight(long value, decimal top, int plotHeight) =>
        top <= 0m ? 0 : (int)Math.Round(value / top * plotHeight, MidpointRounding.AwayFromZero);

    /// <summary>The smallest 1, 2, 2.5 or 5 × 10^n at or above <paramref name="max"/> (at least 4, so ticks are whole).</summary>
    internal static decimal NiceCeiling(long max)
    {
        if (max <= 4)
        {
            return 4m;
        }

        var magnitude = 1m;
        while (magnitude * 10m < max)
        {
            magnitude *= 10m;
        }

        foreach (var step in new[] { 1m, 2m, 2.5m, 5m, 10m })
        {
            if (step * magnitude >= max)
            {
                return step * magnitude;
            }
        }

        return 10m * magnitude;
    }

    private static SKPaint Fill(SKColor color) => new() { Color = color, IsAntialias = false, Style = SKPaintStyle.Fill };
}
