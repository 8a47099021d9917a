using MimeKit;
using Pipeline.Core.Cost;
using Pipeline.Core.Usage;
using Pipeline.Functions.CostReport;

namespace Pipeline.Functions.Tests.CostReport;

public sealed class CostReportJobTests
{
    private static readonly ReportMailSettings Mail = new() { From = "reports@example.com", To = ["ops@example.com"] };

    [Fact]
    public void Run_FromUsageFiles_PricesTheMonthAndRendersEveryPart()
    {
        var outputs = CostReportJob.Run(Inputs(UsageFiles()));

        outputs.Model.Traffic.TracesSeen.Should().Be(3 * 1_000_000);
        outputs.Model.MonthToDate.AllToXRay.Should().Be(14.50m);
        outputs.Html.Should().Contain("cid:" + ReportMessage.ChartContentId(outputs.Model));
        ReportJson.Deserialize(outputs.Json)!.AsOf.Should().Be(new DateOnly(2026, 11, 3));
        using var stream = new MemoryStream(outputs.RawMessage);
        MimeMessage.Load(stream, TestContext.Current.CancellationToken).HtmlBody.Should().Be(outputs.Html);
    }

    [Fact]
    public void Run_StoredHtml_CarriesItsChartInlineInsteadOfTheMailsContentId()
    {
        var outputs = CostReportJob.Run(Inputs(UsageFiles()));

        outputs.StoredHtml.Should().NotContain("cid:");
        var src = System.Text.RegularExpressions.Regex.Match(outputs.StoredHtml, "<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").Groups[1].Value;
        Convert.FromBase64String(src).Should().Equal(outputs.Png);
        outputs.StoredHtml.Replace("data:image/png;base64," + src, "cid:" + ReportMessage.ChartContentId(outputs.Model), StringComparison.Ordinal)
            .Should().Be(outputs.Html, "the stored copy is the e-mail's page with only the image source changed");
    }

    [Fact]
    public void Run_ShardsSeenInUsage_AreTheShardHoursBilled()
    {
        var outputs = CostReportJob.Run(Inputs(UsageFiles()));

        // Two shards delivered records; three days elapsed.
        outputs.Model.Costs.Single(c => c.Component == CostComponent.KinesisShardHours).QuantityMonthToDate.Should().Be(2 * 24 * 3);
    }

    [Fact]
    public void Run_PreviousMonthReport_GivesTheArchiveSizeAtMonthStart()
    {
        var october = CostReportJob.Run(Inputs(UsageFiles(month: 10, days: 31)) with { AsOf = new DateOnly(2026, 10, 31) });

        var november = CostReportJob.Run(Inputs(UsageFiles()) with { PreviousMonthReport = october.Json });

        november.Model.ArchiveBytesAtAsOf.Should().Be(october.Model.ArchiveBytesAtAsOf + (3 * 2 * 1000));
        november.Model.Notes.Should().NotContain(n => n.Contains("last month", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Run_NoPreviousReport_SaysSoInTheReport()
    {
        var outputs = CostReportJob.Run(Inputs(UsageFiles()) with { Notes = ["graphs/ had no graph yet."] });

        outputs.Model.Notes.Should().StartWith("graphs/ had no graph yet.")
            .And.Contain(n => n.StartsWith("No report for the end of last month", StringComparison.Ordinal));
        outputs.Text.Should().Contain("No report for the end of last month");
    }

    [Fact]
    public void ReportKeys_ArePartitionedByDay() =>
        new[] { ReportKeys.Html(new DateOnly(2026, 11, 3)), ReportKeys.Json(new DateOnly(2026, 11, 3)), ReportKeys.Png(new DateOnly(2026, 11, 3)) }
            .Should().Equal("reports/dt=2026-11-03/report.html", "reports/dt=2026-11-03/report.json", "reports/dt=2026-11-03/report.png");

    private static CostReportInputs Inputs(IReadOnlyList<ReadOnlyMemory<byte>> usage) => new()
    {
        AsOf = new DateOnly(2026, 11, 3),
        GeneratedAt = new DateTimeOffset(2026, 11, 4, 7, 0, 0, TimeSpan.Zero),
        Prices = PriceTable.Default,
        Mail = Mail,
        Usage = Fold(usage),
    };

    private static UsageFold Fold(IReadOnlyList<ReadOnlyMemory<byte>> files)
    {
        var aggregator = new UsageAggregator();
        foreach (var file in files)
        {
            aggregator.Add(file.Span);
        }

        return aggregator.Fold();
    }

    /// <summary>Per day, two shards each deliver 500,000 traces and archive 1,000 bytes.</summary>
    private static List<ReadOnlyMemory<byte>> UsageFiles(int month = 11, int days = 3)
    {
        var files = new List<ReadOnlyMemory<byte>>();
        for (var day = 1; day <= days; day++)
        {
            foreach (var shard in new[] { "shardId-000000000000", "shardId-000000000001" })
            {
                files.Add(UsageJson.Serialize(new UsageRecord
                {
                    Shard = shard,
                    FirstSequence = (day * 10).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    LastSequence = ((day * 10) + 9).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ArrivedAt = new DateTimeOffset(2026, month, day, 8, 0, 0, TimeSpan.Zero),
                    TracesSeen = 500_000,
                    TracesKept = 50_000,
                    KeptByReason = new KeptByReason { Head = 50_000 },
                    BytesArchived = 1000,
                }));
            }
        }

        return files;
    }
}
