using Pipeline.Core.Graph;
using Pipeline.Core.Cost;
using Pipeline.Core.Usage;
using Pipeline.Functions.CostReport;

namespace Pipeline.Functions.Tests.CostReport;

public sealed class CostReportBuilderTests
{
    [Fact]
    public void Build_Services_AreByVolumeWithKeptRatiosAndXRayShares()
    {
        var model = ReportSamples.Model();

        model.Services.Select(s => s.Name).Should().Equal("payments", "checkout", "search <beta>");
        model.Services.Sum(s => s.XRayCostShare).Should().BeApproximately(1m, 0.0000001m);
        model.Services.Sum(s => s.XRayCostUsd).Should().BeApproximately(model.Costs.Single(c => c.Component == CostComponent.XRayTracesRecorded).UsdMonthToDate, 0.0000001m);
        var search = model.Services.Single(s => s.Name == "search <beta>");
        search.KeptRatio.Head.Should().Be(0.1m);
        search.KeptRatio.TailError.Should().Be(0m);
        model.TopTalkers[0].Name.Should().Be("payments");
        model.TopTalkers.Sum(t => t.SegmentShare).Should().Be(1m);
    }

    [Fact]
    public void Build_Headline_IsTheCostModelsFigures()
    {
        var usage = ReportSamples.Usage();
        var cost = CostModel.ForMonth(PriceTable.Default, ReportSamples.AsOf, usage.Days, ReportSamples.Setup);

        var model = CostReportBuilder.Build(PriceTable.Default, cost, usage, ReportSamples.GeneratedAt);

        model.MonthToDate.Should().Be(new CostSummary(cost.MonthToDate.XRay, cost.MonthToDate.Pipeline, cost.MonthToDate.Total, cost.CounterfactualMonthToDate.Total, cost.SavingsMonthToDate));
        model.Projected.Savings.Should().Be(cost.SavingsProjected);
        model.CostByGroup.Sum(g => g.UsdMonthToDate).Should().Be(cost.MonthToDate.Total);
        model.Daily.Should().HaveCount(25);
        model.Traffic.TracesSeen.Should().Be(usage.Days.Sum(d => d.TracesSeen));
    }

    [Fact]
    public void Build_ManyServicesAndChanges_AreBoundedWithNotes()
    {
        var aggregator = new UsageAggregator();
        aggregator.Add(new UsageRecord
        {
            Shard = "s",
            FirstSequence = "1",
            LastSequence = "1",
            ArrivedAt = new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero),
            Services = Enumerable.Range(0, CostReportBuilder.MaxServiceRows + 5).Select(i => new ServiceUsage { Name = $"svc{i:D2}", Segments = 100 - i }).ToArray(),
        });
        aggregator.Add("garbage"u8);
        var usage = aggregator.Fold();
        var cost = CostModel.ForMonth(PriceTable.Default, new DateOnly(2026, 11, 2), usage.Days, new PipelineSetup());
        var diff = new ServiceGraphDiff { AddedNodes = Enumerable.Range(0, CostReportBuilder.MaxGraphDiffItems + 3).Select(i => $"n{i}").ToArray() };

        var model = CostReportBuilder.Build(PriceTable.Default, cost, usage, ReportSamples.GeneratedAt, diff);

        model.Services.Should().HaveCount(CostReportBuilder.MaxServiceRows);
        model.ServicesOmitted.Should().Be(5);
        model.GraphDiff!.AddedNodes.Should().HaveCount(CostReportBuilder.MaxGraphDiffItems);
        model.Notes.Should().Contain("3 more service graph change(s) not shown.")
            .And.Contain("1 usage record(s) not counted: unreadable or not a usage record.");
    }

    [Fact]
    public void Build_IntakeByOrigin_IsTheMonthsSum()
    {
        var model = ReportSamples.Model();
        var days = ReportSamples.Usage().Days;

        var origin = model.Traffic.ByOrigin!;
        origin.OtelSpansIn.Should().Be(days.Sum(d => d.ByOrigin.OtelSpansIn)).And.BeGreaterThan(0);
        origin.XraySdkSegmentsInvalid.Should().Be(25 * 40);
        (origin.XraySdkSegmentsValid + origin.OtelSegmentsValid).Should().Be(model.Traffic.SegmentsValid);
        TextReportRenderer.Render(model).Should().Contain("OTel spans in / valid / invalid");
        HtmlReportRenderer.Render(model, "c").Should().Contain("X-Ray SDK segments in / valid / invalid");
    }

    [Fact]
    public void Build_NoUsageByOrigin_LeavesTheRowsOut()
    {
        var usage = new UsageAggregator().Fold();
        var cost = CostModel.ForMonth(PriceTable.Default, ReportSamples.AsOf, usage.Days, new PipelineSetup());

        var model = CostReportBuilder.Build(PriceTable.Default, cost, usage, ReportSamples.GeneratedAt);

        TextReportRenderer.Render(model).Should().NotContain("OTel spans");
    }

    [Fact]
    public void Build_UnpricedDimensions_AreListedNotCharted_UntilAPriceIsSet()
    {
        var model = ReportSamples.Model();

        model.Unpriced.Select(u => u.Component).Should().Contain([CostComponent.DynamoDbReads, CostComponent.LogsIngested, CostComponent.KmsRequests, CostComponent.SqsRequests]);
        model.Unpriced.Single(u => u.Component == CostComponent.DynamoDbWrites).QuantityMonthToDate
            .Should().Be(ReportSamples.Usage().Days.Sum(d => d.DecisionWrites));
        model.CostByGroup.Select(g => g.Group).Should().NotContain(CostGroup.DynamoDb);
        model.MonthToDate.AllToTransactionSearch.Should().BeNull();
        TextReportRenderer.Render(model).Should().Contain("price not set").And.Contain("dynamoDbReadRequestUnits");

        var prices = PriceTable.Default.WithOverride("""{ "prices": { "dynamoDbReadRequestUnits": { "usd": 0.125 }, "transactionSearchSpansGb": { "usd": 0.35 } } }""");
        var usage = ReportSamples.Usage();
        var priced = CostReportBuilder.Build(prices, CostModel.ForMonth(prices, ReportSamples.AsOf, usage.Days, ReportSamples.Setup), usage, ReportSamples.GeneratedAt);

        priced.Costs.Should().Contain(c => c.Component == CostComponent.DynamoDbReads && c.UsdMonthToDate > 0m);
        priced.CostByGroup.Should().Contain(g => g.Group == CostGroup.DynamoDb);
        priced.Unpriced.Select(u => u.Component).Should().NotContain(CostComponent.DynamoDbReads);
        priced.MonthToDate.AllToTransactionSearch.Should().BePositive();
        priced.MonthToDate.Pipeline.Should().BeGreaterThan(model.MonthToDate.Pipeline);
        HtmlReportRenderer.Render(priced, "c").Should().Contain(Display.Money(priced.MonthToDate.AllToTransactionSearch!.Value));
    }

    [Theory]
    [InlineData("0", "$0.00")]
    [InlineData("0.004", "<$0.01")]
    [InlineData("0.005", "$0.01")]
    [InlineData("1234.565", "$1,234.57")]
    [InlineData("-2.5", "-$2.50")]
    public void Money_RoundsOnlyForDisplay(string usd, string shown) =>
        Display.Money(decimal.Parse(usd, System.Globalization.CultureInfo.InvariantCulture)).Should().Be(shown);
}
