using Pipeline.Core.Cost;
using Pipeline.Core.Usage;

namespace Pipeline.Core.Tests.Cost;

/// <summary>
/// The dimensions added for issue 16 item 7 and issue 17 item 5: DynamoDB, CloudWatch Logs,
/// alarms and dashboard, SQS, KMS and the Transaction Search alternative. Their default entries
/// carry no price, so they are listed as unpriced until an override sets one.
/// </summary>
public sealed class StackCostTests
{
    private static readonly DateOnly AsOf = new(2026, 11, 10);

    private static readonly string[] NewEntries =
    [
        "dynamoDbWriteRequestUnits", "dynamoDbReadRequestUnits", "cloudWatchLogsIngestedGb", "cloudWatchLogsStoredGbMonth",
        "cloudWatchAlarmMetricMonths", "cloudWatchDashboardMonths", "sqsRequests", "kmsRequests", "transactionSearchSpansGb",
    ];

    [Fact]
    public void DefaultTable_NewDimensions_HaveASourceAndNoPrice()
    {
        var prices = PriceTable.Default.Prices.All().ToDictionary(p => p.Name, p => p.Price);

        prices.Where(p => !p.Value.IsPriced).Select(p => char.ToLowerInvariant(p.Key[0]) + p.Key[1..])
            .Should().BeEquivalentTo(NewEntries);
        prices["KmsRequests"].FreePerMonth.Should().Be(20_000m);
        prices["CloudWatchAlarmMetricMonths"].FreePerMonth.Should().Be(10m);
        prices["CloudWatchDashboardMonths"].FreePerMonth.Should().Be(3m);
        prices["CloudWatchLogsIngestedGb"].FreePerMonth.Should().Be(5m);
    }

    [Fact]
    public void ForMonth_Unpriced_DimensionsAreListedWithQuantitiesAndAddNothing()
    {
        var cost = CostModel.ForMonth(PriceTable.Default, AsOf, [Day(10, reads: 1_000, writes: 40, invocations: 100, bytesIn: 1L << 30)], new PipelineSetup());

        cost.MonthToDate.Lines.Select(l => l.Group).Should().NotContain([CostGroup.DynamoDb, CostGroup.CloudWatch, CostGroup.Sqs, CostGroup.Kms]);
        var unpriced = cost.MonthToDate.Unpriced.ToDictionary(u => u.Component);
        unpriced[CostComponent.DynamoDbReads].Quantity.Should().Be(500m, "eventually consistent reads are half a unit each");
        unpriced[CostComponent.DynamoDbWrites].Quantity.Should().Be(40m);
        unpriced[CostComponent.DynamoDbWrites].PriceName.Should().Be("dynamoDbWriteRequestUnits");
        unpriced[CostComponent.KmsRequests].Quantity.Should().Be(10 * 24 * 12 * 2, "12 an hour for each of the two default credentials");
        unpriced[CostComponent.CloudWatchAlarms].Quantity.Should().Be(6m * 10 / 30);
        unpriced[CostComponent.SqsRequests].Quantity.Should().Be(0m);
        cost.TransactionSearchMonthToDate.Lines.Should().BeEmpty();
        cost.TransactionSearchMonthToDate.Unpriced.Single().Quantity.Should().Be(1m);
        var priced = CostModel.ForMonth(PriceTable.Default, AsOf, [Day(10)], new PipelineSetup());
        cost.MonthToDate.Total.Should().Be(priced.MonthToDate.Total, "unpriced lines are in no sum");
    }

    [Fact]
    public void ForMonth_UserSetsThePrices_TheLinesArePricedAndCountAsPipeline()
    {
        var table = PriceTable.Default.WithOverride("""
            { "prices": {
                "dynamoDbWriteRequestUnits": { "usd": 0.625 },
                "dynamoDbReadRequestUnits": { "usd": 0.125 },
                "kmsRequests": { "usd": 0.03 },
                "transactionSearchSpansGb": { "usd": 0.35 } } }
            """);
        var days = new[] { Day(10, reads: 4_000_000, writes: 2_000_000, bytesIn: 10L << 30) };

        var cost = CostModel.ForMonth(table, AsOf, days, new PipelineSetup { StreamCredentials = 10 });

        cost.MonthToDate.ByComponent(CostComponent.DynamoDbWrites).Should().Be(1.25m);
        cost.MonthToDate.ByComponent(CostComponent.DynamoDbReads).Should().Be(0.25m);
        // 10 days × 24 h × 12 × 10 credentials = 28,800 requests, 20,000 free: 8,800 × 0.03 / 10,000.
        cost.MonthToDate.ByComponent(CostComponent.KmsRequests).Should().Be(0.0264m);
        cost.MonthToDate.ByGroup(CostGroup.DynamoDb).Should().Be(1.5m);
        cost.MonthToDate.Pipeline.Should().Be(cost.MonthToDate.Total - cost.MonthToDate.XRay);
        cost.MonthToDate.Unpriced.Select(u => u.Component).Should().NotContain([CostComponent.DynamoDbReads, CostComponent.DynamoDbWrites, CostComponent.KmsRequests]);
        cost.TransactionSearchMonthToDate.Total.Should().Be(3.5m, "10 GB of spans at 0.35");
        cost.TransactionSearchMonthToDate.Unpriced.Should().BeEmpty();
    }

    [Fact]
    public void ForMonth_Logs_IngestedPerInvocationPlusScheduled_AndStoredForTheRetention()
    {
        var setup = new PipelineSetup { LogBytesPerIngestInvocation = 1024, DailyScheduledLogBytes = 0, LogRetentionDays = 2 };
        var days = Enumerable.Range(1, 4).Select(d => Day(d, invocations: 1024 * 1024)).ToArray(); // 1 GiB of logs a day

        var cost = CostModel.ForMonth(PriceTable.Default, new DateOnly(2026, 11, 4), days, setup, rateWindowDays: 1);

        cost.MonthToDateQuantities.LogsIngestedGb.Should().Be(4m);
        // Stored each day: 1, 2, 2, 2 GB (two days retained) = 7 GB-days over a 30-day month.
        cost.MonthToDateQuantities.LogsStoredGbMonths.Should().Be(7m / 30);
        cost.ProjectedQuantities.LogsIngestedGb.Should().Be(30m);
    }

    [Fact]
    public void ForMonth_ScheduledFunctionsLogEvenOnDaysWithoutTraffic()
    {
        var cost = CostModel.ForMonth(PriceTable.Default, AsOf, [], new PipelineSetup());

        cost.MonthToDateQuantities.LogsIngestedGb.Should().Be(10 * StackFootprint.DailyScheduledLogBytes / CostModel.BytesPerGb);
    }

    [Fact]
    public void WithOverride_UnpricedEntryGetsOnlyAPrice_KeepsItsUnitAndFreeTier()
    {
        var table = PriceTable.Default.WithOverride("""{ "prices": { "kmsRequests": { "usd": 0.03 } } }""");

        table.Prices.KmsRequests.Should().BeEquivalentTo(new { Usd = 0.03m, Per = 10_000m, FreePerMonth = 20_000m, Source = "user override" });
    }

    [Fact]
    public void Cost_OfAnUnpricedEntry_ThrowsNamingTheUnit()
    {
        var act = () => PriceTable.Default.Prices.SqsRequests.Cost(1);

        act.Should().Throw<InvalidOperationException>().WithMessage("*requests*not set*");
    }

    [Fact]
    public void UsageFold_SumsDecisionCountsAndIntakeByOrigin()
    {
        var aggregator = new UsageAggregator();
        aggregator.Add(UsageBuilder.Record("shardId-0", 1, 10) with { DecisionReads = 7, DecisionWrites = 2, ByOrigin = new OriginUsage { XraySdkSegmentsIn = 5, XraySdkSegmentsValid = 4, XraySdkSegmentsInvalid = 1, OtelSpansIn = 9, OtelSpansValid = 8, OtelSpansInvalid = 1, OtelSegmentsValid = 3 } });
        aggregator.Add(UsageBuilder.Record("shardId-1", 1, 10) with { DecisionReads = 3, DecisionWrites = 1, ByOrigin = new OriginUsage { XraySdkSegmentsIn = 1, XraySdkSegmentsValid = 1, OtelSpansIn = 1, OtelSpansValid = 1, OtelSegmentsValid = 1 } });

        var day = aggregator.Fold().Days.Single();

        (day.DecisionReads, day.DecisionWrites).Should().Be((10, 3));
        day.ByOrigin.Should().Be(new OriginUsage { XraySdkSegmentsIn = 6, XraySdkSegmentsValid = 5, XraySdkSegmentsInvalid = 1, OtelSpansIn = 10, OtelSpansValid = 9, OtelSpansInvalid = 1, OtelSegmentsValid = 4 });
    }

    [Fact]
    public void UsageJson_RecordWithoutTheNewFields_ReadsAsZero()
    {
        var record = UsageBuilder.Record("shardId-0", 1, 2);
        var json = System.Text.Encoding.UTF8.GetString(UsageJson.Serialize(record))
            .Replace("\"decision_reads\":0,", "", StringComparison.Ordinal)
            .Replace("\"decision_writes\":0,", "", StringComparison.Ordinal);

        json.Should().NotContain("decision_");
        UsageJson.TryDeserialize(System.Text.Encoding.UTF8.GetBytes(json))!.DecisionReads.Should().Be(0);
    }

    [Fact]
    public void DailyRollup_OfTheFormerVersion_IsFoldedAgain()
    {
        var rollup = DailyRollup.Fold(new DateOnly(2026, 11, 3), []);

        DailyRollup.TryDeserialize(DailyRollup.Serialize(rollup with { Version = 1 })).Should().BeNull();
        DailyRollup.TryDeserialize(DailyRollup.Serialize(rollup)).Should().NotBeNull();
    }

    private static DailyUsage Day(int day, long reads = 0, long writes = 0, long invocations = 0, long bytesIn = 0) => new()
    {
        Day = new DateOnly(2026, 11, day),
        DecisionReads = reads,
        DecisionWrites = writes,
        Invocations = invocations,
        BytesIn = bytesIn,
    };
}
