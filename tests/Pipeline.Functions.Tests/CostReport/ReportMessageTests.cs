using MimeKit;
using Pipeline.Functions.CostReport;

namespace Pipeline.Functions.Tests.CostReport;

public sealed class ReportMessageTests
{
    private static readonly ReportMailSettings Mail = new()
    {
        From = "Trace pipeline <reports@example.com>",
        To = ["ops@example.com", "finance@example.com"],
        SubjectPrefix = "[test] ",
    };

    [Fact]
    public void Build_HtmlReferencesTheInlineChartByContentId()
    {
        var message = Parse(ReportMessage.Build(ReportSamples.Model(), Mail));

        var alternative = message.Body.Should().BeOfType<MultipartAlternative>().Subject;
        alternative.Should().HaveCount(2);
        alternative[0].ContentType.MimeType.Should().Be("text/plain");
        var related = alternative[1].Should().BeOfType<MultipartRelated>().Subject;
        var html = related.Root.Should().BeOfType<TextPart>().Subject;
        html.ContentType.MimeType.Should().Be("text/html");
        var image = related.OfType<MimePart>().Single(p => p.ContentType.MimeType == "image/png");
        image.ContentDisposition!.Disposition.Should().Be(ContentDisposition.Inline);
        html.Text.Should().Contain($"src=\"cid:{image.ContentId}\"");
        related.Contains(new Uri($"cid:{image.ContentId}")).Should().BeTrue();
    }

    [Fact]
    public void Build_InlineImageIsTheRenderedChart()
    {
        var model = ReportSamples.Model();
        var message = Parse(ReportMessage.Build(model, Mail));

        var image = message.BodyParts.OfType<MimePart>().Single(p => p.ContentType.MimeType == "image/png");
        using var decoded = new MemoryStream();
        image.Content!.DecodeTo(decoded, TestContext.Current.CancellationToken);

        decoded.ToArray().Should().Equal(ReportChart.RenderPng(model));
    }

    [Fact]
    public void Build_AddressesAndSubjectComeFromTheSettings()
    {
        var model = ReportSamples.Model();
        var message = Parse(ReportMessage.Build(model, Mail));

        message.From.Mailboxes.Single().Address.Should().Be("reports@example.com");
        message.To.Mailboxes.Select(m => m.Address).Should().Equal("ops@example.com", "finance@example.com");
        message.Subject.Should().StartWith("[test] X-Ray pipeline cost November 2026: ").And.Contain(Display.Money(model.MonthToDate.Total));
        message.Date.Should().Be(ReportSamples.GeneratedAt);
        message.TextBody.Should().Contain("All traces to X-Ray, no pipeline");
    }

    [Theory]
    [InlineData("reports@example.com", new string[0], "No report recipients")]
    [InlineData("reports@example.com", new[] { " " }, "No report recipients")]
    [InlineData("", new[] { "ops@example.com" }, "sender address is not set")]
    [InlineData("not an address", new[] { "ops@example.com" }, "sender 'not an address'")]
    [InlineData("reports@example.com", new[] { "ops" }, "recipient 'ops'")]
    public void Build_MissingOrBadAddresses_FailWithAClearMessage(string from, string[] to, string message)
    {
        var act = () => ReportMessage.Build(ReportSamples.Model(), new ReportMailSettings { From = from, To = to });

        act.Should().Throw<FormatException>().WithMessage($"*{message}*");
    }

    private static MimeMessage Parse(MimeMessage message)
    {
        using var stream = new MemoryStream(ReportMessage.ToBytes(message));
        return MimeMessage.Load(stream, TestContext.Current.CancellationToken);
    }
}
