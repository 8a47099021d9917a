using Pipeline.Core.Cost;
using Pipeline.Core.Usage;
using static Pipeline.Core.Tests.Cost.UsageBuilder;

namespace Pipeline.Core.Tests.Cost;

public sealed class CostModelTests
{
    private static readonly PriceTable Prices = PriceTable.Default;
    private static readonly PipelineSetup NoInfrastructure = new() { ShardCount = 0 };

    [Theory]
    [InlineData(99_999, "0")]
    [InlineData(100_000, "0")]
    [InlineData(100_001, "0.000005")]
    [InlineData(1_100_000, "5.00")]
    public void XRayRecorded_AroundTheFreeTier_IsExact(long traces, string usd) =>
        Prices.Prices.XRayTracesRecorded.Cost(traces).Should().Be(decimal.Parse(usd, System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData(999_999, "0")]
    [InlineData(1_000_000, "0")]
    [InlineData(1_000_001, "0.0000005")]
    public void XRayRetrieved_AroundTheFreeTier_IsExact(long traces, string usd) =>
        Prices.Prices.XRayTracesRetrieved.Cost(traces).Should().Be(decimal.Parse(usd, System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData(99_999, "0")]
    [InlineData(100_000, "0")]
    [InlineData(100_001, "0.000005")]
    public void ForMonth_KeptTracesAroundTheFreeTier_PricesTheMonthNotTheDay(long kept, string usd)
    {
        // Split over two days so a per-day free tier would give a different answer.
        var days = new[] { Day(2026, 11, 1, kept, kept - 50_000), Day(2026, 11, 2, 0, 50_000) };

        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 30), days, NoInfrastructure);

        cost.MonthToDate.ByComponent(CostComponent.XRayTracesRecorded).Should().Be(decimal.Parse(usd, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void ForMonth_UsageOfOtherMonthsAndLaterDays_IsIgnored()
    {
        var days = new[]
        {
            Day(2026, 10, 31, 1_000_000, 1_000_000),
            Day(2026, 11, 1, 200_000, 200_000),
            Day(2026, 11, 11, 1_000_000, 1_000_000),
            Day(2026, 12, 1, 1_000_000, 1_000_000),
        };

        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 10), days, NoInfrastructure);

        cost.MonthToDateQuantities.TracesRecorded.Should().Be(200_000m);
        cost.MonthToDate.XRay.Should().Be(0.5m);
    }

    [Fact]
    public void ForMonth_FreeTierResetsOnTheFirst()
    {
        var days = new[] { Day(2026, 10, 31, 150_000, 150_000), Day(2026, 11, 1, 150_000, 150_000) };

        var october = CostModel.ForMonth(Prices, new DateOnly(2026, 10, 31), days, NoInfrastructure);
        var november = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 1), days, NoInfrastructure);

        october.MonthToDate.XRay.Should().Be(0.25m);
        november.MonthToDate.XRay.Should().Be(0.25m);
    }

    [Fact]
    public void ForMonth_PartialMonth_ProjectsFromTheLastSevenDays()
    {
        // November has 30 days. Days 1-3 are quiet, 4-10 carry 70,000 traces (7,000 kept) each.
        var days = Enumerable.Range(4, 7).Select(d => Day(2026, 11, d, 70_000, 7_000)).ToList();
        days.Add(Day(2026, 11, 1, 0));

        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 10), days, NoInfrastructure);

        cost.DaysElapsed.Should().Be(10);
        cost.DaysInMonth.Should().Be(30);
        cost.RateWindowDays.Should().Be(7);
        cost.MonthToDateQuantities.TracesSeen.Should().Be(490_000m);
        cost.ProjectedQuantities.TracesSeen.Should().Be(490_000m + (20 * 70_000m));
        cost.ProjectedQuantities.TracesRecorded.Should().Be(189_000m);
        cost.MonthToDate.XRay.Should().Be(0m);
        cost.Projected.XRay.Should().Be(0.445m);
        cost.CounterfactualMonthToDate.Total.Should().Be(1.95m);
        cost.CounterfactualProjected.Total.Should().Be(8.95m);
        cost.SavingsProjected.Should().Be(8.505m);
    }

    [Fact]
    public void ForMonth_EarlyInTheMonth_AveragesOnlyTheDaysElapsed()
    {
        var days = new[] { Day(2026, 2, 1, 100_000), Day(2026, 2, 2, 200_000), Day(2026, 2, 3, 300_000) };

        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 2, 3), days, NoInfrastructure);

        cost.RateWindowDays.Should().Be(3);
        cost.DaysInMonth.Should().Be(28);
        cost.ProjectedQuantities.TracesSeen.Should().Be(600_000m + (25 * 200_000m));
    }

    [Fact]
    public void ForMonth_LastDayOfALeapFebruary_ProjectionIsTheMonthToDate()
    {
        var days = new[] { Day(2028, 2, 29, 300_000, 300_000) };

        var cost = CostModel.ForMonth(Prices, new DateOnly(2028, 2, 29), days, NoInfrastructure);

        cost.DaysInMonth.Should().Be(29);
        cost.Projected.Should().BeEquivalentTo(cost.MonthToDate);
        cost.MonthToDate.XRay.Should().Be(1.00m);
    }

    [Fact]
    public void ForMonth_ProvisionedShards_BillEveryHourOfTheElapsedDaysAndTheWholeMonth()
    {
        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 10), [], new PipelineSetup { ShardCount = 2 });

        cost.MonthToDateQuantities.ShardHours.Should().Be(480m);
        cost.MonthToDate.ByComponent(CostComponent.KinesisShardHours).Should().Be(7.2m);
        cost.Projected.ByComponent(CostComponent.KinesisShardHours).Should().Be(21.6m);
    }

    [Fact]
    public void ForMonth_OnDemandStream_BillsStreamHoursAndData()
    {
        var day = new DailyUsage { Day = new DateOnly(2026, 11, 1), KinesisBilledKb = 1024 * 1024, BytesIn = 1L << 30 };

        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 1), [day], new PipelineSetup { StreamMode = StreamMode.OnDemand });

        cost.MonthToDate.ByComponent(CostComponent.KinesisStreamHours).Should().Be(0.96m);
        cost.MonthToDate.ByComponent(CostComponent.KinesisDataIn).Should().Be(0.08m);
        cost.MonthToDate.ByComponent(CostComponent.KinesisDataOut).Should().Be(0.04m);
        cost.MonthToDate.ByComponent(CostComponent.KinesisShardHours).Should().Be(0m);
    }

    [Fact]
    public void ForMonth_LambdaFreeTier_AppliesToTheMonthsGbSeconds()
    {
        var day = new DailyUsage { Day = new DateOnly(2026, 11, 1), LambdaGbSeconds = 400_001m, Invocations = 1_000_002 };

        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 1), [day], NoInfrastructure);

        cost.MonthToDate.ByComponent(CostComponent.LambdaCompute).Should().Be(0.0000133334m);
        cost.MonthToDate.ByComponent(CostComponent.LambdaRequests).Should().Be(0.0000004m);
    }

    [Fact]
    public void ForMonth_WithoutFreeTiers_BillsEveryUnit()
    {
        var cost = CostModel.ForMonth(
            Prices, new DateOnly(2026, 11, 1), [Day(2026, 11, 1, 10, 10)], NoInfrastructure with { FreeTiersAvailable = false });

        cost.MonthToDate.XRay.Should().Be(0.00005m);
    }

    [Fact]
    public void ForMonth_Storage_IsTheAverageStoredOverTheMonth()
    {
        const long tenGb = 10L << 30;
        var setup = NoInfrastructure with { ArchiveBytesAtMonthStart = 3 * tenGb };
        // 30 GB all month, plus 30 GB more archived on the 16th of 30 days: 15 of 30 days at 60 GB.
        var days = new[] { new DailyUsage { Day = new DateOnly(2026, 11, 16), BytesArchived = 3 * tenGb } };

        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 30), days, setup);

        cost.MonthToDateQuantities.S3GbMonths.Should().Be(45m);
        cost.MonthToDate.ByComponent(CostComponent.S3Storage).Should().Be(1.035m);
    }

    [Fact]
    public void ForMonth_ArchiveSizeAtAsOf_CarriesIntoNextMonth()
    {
        var days = new[] { new DailyUsage { Day = new DateOnly(2026, 11, 2), BytesArchived = 500 }, new DailyUsage { Day = new DateOnly(2026, 11, 20), BytesArchived = 700 } };

        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 10), days, NoInfrastructure with { ArchiveBytesAtMonthStart = 1000 });

        cost.ArchiveBytesAtAsOf.Should().Be(1500);
    }

    [Theory]
    [InlineData("2026-11-26T07:00:00Z", "2026-11-25")]
    [InlineData("2026-12-01T07:00:00Z", "2026-11-30")]
    [InlineData("2028-03-01T00:30:00+02:00", "2028-02-28")]
    public void ReportDayFor_IsTheLastCompleteUtcDay(string scheduled, string day) =>
        CostModel.ReportDayFor(DateTimeOffset.Parse(scheduled, System.Globalization.CultureInfo.InvariantCulture))
            .Should().Be(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void MonthThrough_ListsTheMonthUpToTheDay() =>
        CostModel.MonthThrough(new DateOnly(2026, 12, 3)).Should().Equal(new DateOnly(2026, 12, 1), new DateOnly(2026, 12, 2), new DateOnly(2026, 12, 3));

    [Fact]
    public void ForMonth_Savings_AreCounterfactualMinusActual()
    {
        var days = new[] { new DailyUsage { Day = new DateOnly(2026, 11, 1), TracesSeen = 2_100_000, TracesKept = 300_000, S3Puts = 1000 } };

        var cost = CostModel.ForMonth(Prices, new DateOnly(2026, 11, 1), days, NoInfrastructure);

        cost.CounterfactualMonthToDate.Total.Should().Be(10.00m);
        cost.MonthToDate.XRay.Should().Be(1.00m);
        cost.MonthToDate.Pipeline.Should().Be(0.005m);
        cost.SavingsMonthToDate.Should().Be(8.995m);
    }
}
