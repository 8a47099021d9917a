using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Pipeline.Core.Archive;
using Pipeline.Core.Cost;
using Pipeline.Core.Usage;
using Pipeline.Functions.CostReport;
using Pipeline.Lambda;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Functions.Tests.CostReport;

public sealed class CostReportHandlerTests
{
    private const string Bucket = "archive";
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 7, 0, 3, TimeSpan.Zero);

    private readonly InMemoryObjectStore _store = new();
    private readonly FakeTimeProvider _time = new(Now);

    private static CostReportSettings Settings => CostReportSettings.FromEnvironment(new DictionaryEnvironment
    {
        ["ARCHIVE_BUCKET"] = Bucket,
        ["REPORT_SENDER"] = "reports@example.com",
        ["REPORT_RECIPIENTS"] = "ops@example.com",
    });

    [Fact]
    public async Task HandleAsync_ScheduledEvent_StoresTheReportOfYesterdayAndSendsIt()
    {
        await SeedUsageAsync(new DateOnly(2026, 11, 1), 25);
        var ses = new FakeSes();

        var result = await InvokeAsync(Handler(ses), Scheduled("2026-11-26T07:00:00Z"));

        result.AsOf.Should().Be(new DateOnly(2026, 11, 25));
        result.UsageFiles.Should().Be(25);
        result.HtmlKey.Should().Be("reports/dt=2026-11-25/report.html");
        _store.Objects[(Bucket, result.HtmlKey)].ContentType.Should().StartWith("text/html");
        _store.Objects[(Bucket, result.JsonKey)].ContentType.Should().Be("application/json");
        var png = _store.Objects[(Bucket, result.PngKey)].Content;
        png.Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
        ses.Sent.Should().ContainSingle();
        using var mime = new MemoryStream(ses.Sent[0].Mime.ToArray());
        var message = await MimeMessage.LoadAsync(mime, TestContext.Current.CancellationToken);
        // The mail shows its chart by Content-ID; the stored copy, opened on its own, has it inline.
        var stored = Encoding.UTF8.GetString(_store.Objects[(Bucket, result.HtmlKey)].Content);
        stored.Should().Contain("<img src=\"data:image/png;base64," + Convert.ToBase64String(png) + "\"").And.NotContain("cid:");
        message.HtmlBody.Should().Contain("<img src=\"cid:").And.Be(stored.Replace("data:image/png;base64," + Convert.ToBase64String(png), "cid:" + message.BodyParts.OfType<MimePart>().Single(p => p.ContentType.MimeType == "image/png").ContentId, StringComparison.Ordinal));
        message.To.Mailboxes.Single().Address.Should().Be("ops@example.com");
        result.MessageId.Should().Be("message-1");
    }

    [Fact]
    public async Task HandleAsync_OnTheFirst_ReportsTheWholePreviousMonthOnly()
    {
        await SeedUsageAsync(new DateOnly(2026, 10, 30), 4); // 30, 31 Oct and 1, 2 Nov

        var result = await InvokeAsync(Handler(new FakeSes()), Scheduled("2026-11-01T07:00:00Z"));

        result.AsOf.Should().Be(new DateOnly(2026, 10, 31));
        result.UsageFiles.Should().Be(2);
        _store.Gets.Should().NotContain(k => k.StartsWith("usage/dt=2026-11", StringComparison.Ordinal));
        _store.Gets.Should().Contain("reports/dt=2026-09-30/report.json");
    }

    [Fact]
    public async Task HandleAsync_SettledDays_AreRolledUpAndReadFromTheRollupNextTime()
    {
        await SeedUsageAsync(new DateOnly(2026, 11, 1), 25);
        var handler = Handler(new FakeSes());

        var first = await InvokeAsync(handler, Scheduled("2026-11-26T07:00:00Z"));
        var firstModel = ReportJson.Deserialize(_store.Objects[(Bucket, first.JsonKey)].Content)!;
        _store.Gets.Clear();
        var second = await InvokeAsync(handler, Scheduled("2026-11-26T07:00:00Z"));
        var secondModel = ReportJson.Deserialize(_store.Objects[(Bucket, second.JsonKey)].Content)!;

        // Days 1..23 are settled on the 25th: rolled up; the 24th and 25th may still change.
        _store.Objects.Keys.Where(k => k.Key.StartsWith("reports/usage-daily/", StringComparison.Ordinal))
            .Should().HaveCount(23).And.Contain((Bucket, "reports/usage-daily/dt=2026-11-23.json"));
        first.UsageFiles.Should().Be(25);
        second.UsageFiles.Should().Be(2);
        _store.Gets.Should().NotContain(k => k.StartsWith("usage/dt=2026-11-23", StringComparison.Ordinal))
            .And.Contain(k => k.StartsWith("usage/dt=2026-11-24", StringComparison.Ordinal));
        secondModel.Traffic.Should().Be(firstModel.Traffic);
        secondModel.MonthToDate.Should().Be(firstModel.MonthToDate);
    }

    [Fact]
    public async Task HandleAsync_NoReadRightsOnReports_StillReportsAndNamesThePermission()
    {
        var store = new InMemoryObjectStore { ForbiddenPrefix = "reports/" };
        var handler = new CostReportHandler(Settings, PriceTable.Default, store, new FakeSes(), _time);

        using var input = new MemoryStream(Encoding.UTF8.GetBytes(Scheduled("2026-11-26T07:00:00Z")));
        await using var output = await handler.HandleAsync(input, Invocations.Context(_time));

        var model = ReportJson.Deserialize(store.Objects[(Bucket, "reports/dt=2026-11-25/report.json")].Content)!;
        model.Notes.Should().ContainSingle(n => n.Contains("s3:GetObject on reports/*", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HandleAsync_DetailAsOf_PicksTheDay()
    {
        await SeedUsageAsync(new DateOnly(2026, 11, 26), 1);

        var result = await InvokeAsync(Handler(new FakeSes()), Scheduled("2026-11-26T10:00:00Z", """{"asOf":"2026-11-26"}"""));

        result.AsOf.Should().Be(new DateOnly(2026, 11, 26));
        result.UsageFiles.Should().Be(1);
    }

    [Fact]
    public async Task HandleAsync_NotAScheduledEvent_ReportsThroughYesterdayByTheClock()
    {
        var result = await InvokeAsync(Handler(new FakeSes()), "{}");

        result.AsOf.Should().Be(new DateOnly(2026, 11, 25));
    }

    [Fact]
    public async Task HandleAsync_UnverifiedSender_FailsSayingSoAfterKeepingTheReport()
    {
        var handler = Handler(new FakeSes { RejectUnverified = true });

        var act = () => InvokeAsync(handler, Scheduled("2026-11-26T07:00:00Z"));

        (await act.Should().ThrowAsync<InvalidOperationException>())
            .WithMessage("*sender 'reports@example.com'*not a verified identity*REPORT_SENDER*");
        _store.Objects.Keys.Should().Contain((Bucket, "reports/dt=2026-11-25/report.html"));
    }

    [Fact]
    public async Task HandleAsync_LatestGraph_IsNamedInTheReport()
    {
        await _store.PutAsync(Bucket, "graphs/dt=2026-11-25/2026-11-25T05.json", "{}"u8.ToArray(), "application/json", TestContext.Current.CancellationToken);
        await _store.PutAsync(Bucket, "graphs/dt=2026-11-25/2026-11-25T06.json", "{}"u8.ToArray(), "application/json", TestContext.Current.CancellationToken);
        await _store.PutAsync(Bucket, "graphs/dt=2026-11-25/2026-11-25T06.svg", "<svg/>"u8.ToArray(), "image/svg+xml", TestContext.Current.CancellationToken);

        var result = await InvokeAsync(Handler(new FakeSes()), Scheduled("2026-11-26T07:00:00Z"));

        var model = ReportJson.Deserialize(_store.Objects[(Bucket, result.JsonKey)].Content)!;
        model.Notes.Should().Contain("Latest service graph: graphs/dt=2026-11-25/2026-11-25T06.json.");
    }

    [Fact]
    public async Task HandleAsync_DryRun_StoresTheReportButSendsNothing()
    {
        await SeedUsageAsync(new DateOnly(2026, 11, 20), 5);
        var ses = new FakeSes();

        var result = await InvokeAsync(Handler(ses), Scheduled("2026-11-26T07:00:00Z", """{"dryRun":true}"""));

        ses.Sent.Should().BeEmpty();
        (result.Sent, result.MessageId).Should().Be((false, (string?)null));
        _store.Objects.Keys.Should().Contain([(Bucket, result.HtmlKey), (Bucket, result.JsonKey), (Bucket, result.PngKey)]);
    }

    [Theory]
    [InlineData("""{"dryRun":false}""")]
    [InlineData("""{"asOf":"2026-11-25","dryRun":false}""")]
    [InlineData("{}")]
    public async Task HandleAsync_DryRunFalseOrAbsent_Sends(string detail)
    {
        var ses = new FakeSes();

        var result = await InvokeAsync(Handler(ses), Scheduled("2026-11-26T07:00:00Z", detail));

        result.Sent.Should().BeTrue();
        ses.Sent.Should().ContainSingle();
        result.MessageId.Should().NotBeNull();
    }

    [Fact]
    public async Task HandleAsync_DryRunNotABoolean_IsRefusedByName()
    {
        var act = () => InvokeAsync(Handler(new FakeSes()), Scheduled("2026-11-26T07:00:00Z", """{"dryRun":"yes"}"""));

        (await act.Should().ThrowAsync<ArgumentException>()).WithMessage("*detail.dryRun*");
    }

    [Fact]
    public async Task ResolvePricesAsync_S3Override_IsApplied()
    {
        await _store.PutAsync(Bucket, "config/prices.json", """{"prices":{"xrayTracesRecorded":{"usd":4}}}"""u8.ToArray(), "application/json", TestContext.Current.CancellationToken);
        var settings = Settings with { PriceTableSource = PriceTableSourceKind.S3, PriceTableValue = "s3://archive/config/prices.json" };

        var prices = await CostReportHandler.ResolvePricesAsync(settings, _store, TestContext.Current.CancellationToken);

        prices.Prices.XRayTracesRecorded.Usd.Should().Be(4m);
    }

    [Fact]
    public async Task ResolvePricesAsync_MissingOverride_FailsInit()
    {
        var settings = Settings with { PriceTableSource = PriceTableSourceKind.S3, PriceTableValue = "s3://archive/config/none.json" };

        var act = () => CostReportHandler.ResolvePricesAsync(settings, _store, TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<LambdaInitException>()).WithMessage("*does not exist*");
    }

    [Fact]
    public async Task ResolvePricesAsync_FileOverride_IsApplied()
    {
        var path = Path.Combine(Path.GetTempPath(), $"prices-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """{"prices":{"sesEmails":{"usd":1}}}""", TestContext.Current.CancellationToken);
        try
        {
            var settings = Settings with { PriceTableSource = PriceTableSourceKind.File, PriceTableValue = path };

            var prices = await CostReportHandler.ResolvePricesAsync(settings, _store, TestContext.Current.CancellationToken);

            prices.Prices.SesEmails.Usd.Should().Be(1m);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private CostReportHandler Handler(FakeSes ses) => new(Settings, PriceTable.Default, _store, ses, _time);

    private async Task<CostReportResult> InvokeAsync(CostReportHandler handler, string json)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(json));
        await using var output = await handler.HandleAsync(input, Invocations.Context(_time));
        return (await JsonSerializer.DeserializeAsync(output, CostReportResultJsonContext.Default.CostReportResult, TestContext.Current.CancellationToken))!;
    }

    private static string Scheduled(string time, string detail = "{}") => $$"""
        {"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",
         "time":"{{time}}","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/cost"],"detail":{{detail}}}
        """;

    private async Task SeedUsageAsync(DateOnly first, int days)
    {
        for (var i = 0; i < days; i++)
        {
            var day = first.AddDays(i);
            var record = new UsageRecord
            {
                Shard = "shardId-000000000000",
                FirstSequence = ((i * 100) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                LastSequence = ((i * 100) + 100).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ArrivedAt = new DateTimeOffset(day, new TimeOnly(12, 0), TimeSpan.Zero),
                TracesSeen = 200_000,
                TracesKept = 20_000,
                KeptByReason = new KeptByReason { Head = 20_000 },
                Services = [new ServiceUsage { Name = "web", Segments = 400_000, Traces = 200_000, Kept = new KeptByReason { Head = 20_000 } }],
            };
            await _store.PutAsync(Bucket, ArchiveKeys.Usage(record.Shard, record.FirstSequence, record.ArrivedAt), UsageJson.Serialize(record), "application/json", TestContext.Current.CancellationToken);
        }
    }
}
