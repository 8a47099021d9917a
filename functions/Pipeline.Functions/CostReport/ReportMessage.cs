using System.Globalization;
using MimeKit;

namespace Pipeline.Functions.CostReport;

/// <summary>Sender and recipients of the report email, checked before anything is rendered.</summary>
public sealed record ReportMailSettings
{
    public required string From { get; init; }
    public required IReadOnlyList<string> To { get; init; }

    /// <summary>Put in front of the subject, e.g. "[prod] ".</summary>
    public string SubjectPrefix { get; init; } = "";

    /// <summary>Parsed addresses; throws <see cref="FormatException"/> naming the bad setting.</summary>
    public (MailboxAddress From, IReadOnlyList<MailboxAddress> To) Parse()
    {
        if (string.IsNullOrWhiteSpace(From))
        {
            throw new FormatException("The report sender address is not set.");
        }

        if (To.Count == 0 || To.All(string.IsNullOrWhiteSpace))
        {
            throw new FormatException("No report recipients are configured.");
        }

        return (ParseOne(From, "sender"), To.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => ParseOne(t, "recipient")).ToArray());
    }

    private static MailboxAddress ParseOne(string text, string role) =>
        MailboxAddress.TryParse(text.Trim(), out var address) && address.Address.Contains('@', StringComparison.Ordinal)
            ? address
            : throw new FormatException($"The report {role} '{text}' is not an email address.");
}

/// <summary>
/// The report email as raw MIME: multipart/alternative of the text part and a
/// multipart/related holding the HTML and the chart, which the HTML shows by Content-ID.
/// </summary>
public static class ReportMessage
{
    public const string ChartFileName = "cost-chart.png";

    /// <summary>A stable Content-ID per report day, so the same report builds the same HTML.</summary>
    public static string ChartContentId(CostReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return string.Create(CultureInfo.InvariantCulture, $"cost-chart-{model.AsOf:yyyyMMdd}@xray-pipeline");
    }

    public static string Subject(CostReportModel model, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(model);
        var month = new DateOnly(model.Year, model.Month, 1).ToString("MMMM yyyy", CultureInfo.InvariantCulture);
        return $"{prefix}X-Ray pipeline cost {month}: {Display.Money(model.MonthToDate.Total)} to date, {Display.Money(model.Projected.Total)} projected, {Display.Money(model.Projected.Savings)} saved";
    }

    /// <summary>Renders every part from <paramref name="model"/> and assembles the message.</summary>
    public static MimeMessage Build(CostReportModel model, ReportMailSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        var contentId = ChartContentId(model);
        return Build(
            model,
            settings,
            HtmlReportRenderer.Render(model, contentId),
            TextReportRenderer.Render(model),
            ReportChart.RenderPng(model));
    }

    /// <summary>Assembles already rendered parts (the handler also stores them in reports/).</summary>
    public static MimeMessage Build(CostReportModel model, ReportMailSettings settings, string html, string text, byte[] png)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        var (from, to) = settings.Parse();

        var chart = new MimePart("image", "png")
        {
            Content = new MimeContent(new MemoryStream(png, writable: false)),
            ContentId = ChartContentId(model),
            ContentDisposition = new ContentDisposition(ContentDisposition.Inline) { FileName = ChartFileName },
            ContentTransferEncoding = ContentEncoding.Base64,
        };
        var htmlPart = new TextPart("html") { Text = html, ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        var related = new MultipartRelated { htmlPart, chart };
        related.Root = htmlPart;
        var textPart = new TextPart("plain") { Text = text, ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        var alternative = new MultipartAlternative { textPart, related };

        var message = new MimeMessage
        {
            Subject = Subject(model, settings.SubjectPrefix),
            Date = model.GeneratedAt,
            Body = alternative,
        };
        message.From.Add(from);
        message.To.AddRange(to);
        return message;
    }

    /// <summary>The bytes SES v2 takes as <c>Content.Raw.Data</c>.</summary>
    public static byte[] ToBytes(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var stream = new MemoryStream();
        message.WriteTo(FormatOptions.Default, stream);
        return stream.ToArray();
    }
}
