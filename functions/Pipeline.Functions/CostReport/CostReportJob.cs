using Pipeline.Core.Graph;
using System.Globalization;
using System.Text;
using Pipeline.Core.Cost;
using Pipeline.Core.Usage;

namespace Pipeline.Functions.CostReport;

/// <summary>Keys of a day's report in the archive bucket.</summary>
public static class ReportKeys
{
    public const string Prefix = "reports/";

    public static string Html(DateOnly day) => Key(day, "report.html");

    public static string Json(DateOnly day) => Key(day, "report.json");

    public static string Png(DateOnly day) => Key(day, "report.png");

    private static string Key(DateOnly day, string name) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}dt={day:yyyy-MM-dd}/{name}");
}

/// <summary>What one run read (already fetched; the job does no I/O).</summary>
public sealed record CostReportInputs
{
    /// <summary>The last day the report counts (see <see cref="CostModel.ReportDayFor"/>).</summary>
    public required DateOnly AsOf { get; init; }

    public required DateTimeOffset GeneratedAt { get; init; }
    public required PriceTable Prices { get; init; }
    public required ReportMailSettings Mail { get; init; }

    /// <summary>The month's usage up to <see cref="AsOf"/>, folded per day (see <see cref="DailyRollup"/>).</summary>
    public required UsageFold Usage { get; init; }

    /// <summary>The last report of the previous month (its archive size is this month's start), if any.</summary>
    public ReadOnlyMemory<byte>? PreviousMonthReport { get; init; }

    public ServiceGraphDiff? GraphDiff { get; init; }

    /// <summary>Problems met while reading the inputs, shown in the report.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>Everything a run writes and sends.</summary>
/// <param name="Html">The e-mail's HTML (chart by Content-ID).</param>
/// <param name="StoredHtml">The copy for reports/: the chart inline, so it shows when opened on its own.</param>
public sealed record CostReportOutputs(
    CostReportModel Model,
    string Html,
    string StoredHtml,
    string Text,
    byte[] Json,
    byte[] Png,
    byte[] RawMessage);

/// <summary>
/// The cost report computed from fetched inputs: fold usage, price the month, render every
/// part and the email. The handler only fetches and stores around it.
/// </summary>
public static class CostReportJob
{
    public static CostReportOutputs Run(CostReportInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var usage = inputs.Usage;
        var notes = new List<string>(inputs.Notes);
        var setup = new PipelineSetup
        {
            // The stream's shard count is not configuration of this function: the usage shows
            // which shards delivered records, which is the open shard count of a busy stream.
            ShardCount = Math.Max(1, usage.Days.Where(d => InMonth(d.Day, inputs.AsOf)).Select(d => d.Shards).DefaultIfEmpty(0).Max()),
            ArchiveBytesAtMonthStart = ArchiveBytesAtMonthStart(inputs, notes),
            DailyEmails = 1,
        };
        var cost = CostModel.ForMonth(inputs.Prices, inputs.AsOf, usage.Days, setup);
        var model = CostReportBuilder.Build(inputs.Prices, cost, usage, inputs.GeneratedAt, inputs.GraphDiff);
        model = model with { Notes = [.. notes, .. model.Notes] };

        var contentId = ReportMessage.ChartContentId(model);
        var html = HtmlReportRenderer.Render(model, contentId);
        var text = TextReportRenderer.Render(model);
        var png = ReportChart.RenderPng(model);
        var message = ReportMessage.Build(model, inputs.Mail, html, text, png);
        return new CostReportOutputs(model, html, HtmlReportRenderer.RenderStored(model, png), text, ReportJson.Serialize(model), png, ReportMessage.ToBytes(message));
    }

    /// <summary>The previous month's last day, whose report holds this month's starting archive size.</summary>
    public static DateOnly PreviousMonthEnd(DateOnly asOf) => new DateOnly(asOf.Year, asOf.Month, 1).AddDays(-1);

    private static bool InMonth(DateOnly day, DateOnly asOf) => day.Year == asOf.Year && day.Month == asOf.Month && day <= asOf;

    private static long ArchiveBytesAtMonthStart(CostReportInputs inputs, List<string> notes)
    {
        if (inputs.PreviousMonthReport is not { } bytes)
        {
            notes.Add("No report for the end of last month: S3 storage counts only what was archived this month.");
            return 0;
        }

        try
        {
            var previous = ReportJson.Deserialize(bytes.Span);
            if (previous is not null && previous.AsOf == PreviousMonthEnd(inputs.AsOf))
            {
                return previous.ArchiveBytesAtAsOf;
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Reported below like a missing report.
        }

        notes.Add("Last month's report is unreadable: S3 storage counts only what was archived this month.");
        return 0;
    }

    /// <summary>UTF-8 without BOM, as the stored html/json objects are written.</summary>
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
