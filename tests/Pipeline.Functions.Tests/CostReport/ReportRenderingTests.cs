using Pipeline.Functions.CostReport;

namespace Pipeline.Functions.Tests.CostReport;

public sealed class ReportRenderingTests
{
    [Fact]
    public void Html_MatchesTheApprovedSnapshot()
    {
        var model = ReportSamples.Model();

        Approvals.AssertMatches(HtmlReportRenderer.Render(model, ReportMessage.ChartContentId(model)), "report", "html");
    }

    [Fact]
    public void Text_MatchesTheApprovedSnapshot() =>
        Approvals.AssertMatches(TextReportRenderer.Render(ReportSamples.Model()), "report", "txt");

    [Fact]
    public void Html_IsMailSafe_NoScriptsNoStyleBlocks_AndEscapesNames()
    {
        var html = HtmlReportRenderer.Render(ReportSamples.Model(), "chart@x");

        html.Should().NotContainEquivalentOf("<script").And.NotContainEquivalentOf("<style").And.NotContain("class=\"");
        html.Should().Contain("search &lt;beta&gt;").And.NotContain("search <beta>");
        html.Should().Contain("src=\"cid:chart@x\"");
    }

    [Fact]
    public void Html_ShowsXRayCostPipelineCostSavingsAndTheGraphChanges()
    {
        var model = ReportSamples.Model();
        var html = HtmlReportRenderer.Render(model, "c");

        html.Should().Contain(Display.Money(model.MonthToDate.XRay))
            .And.Contain(Display.Money(model.MonthToDate.Pipeline))
            .And.Contain(Display.Money(model.MonthToDate.Savings))
            .And.Contain("New call: checkout -&gt; recommendations")
            .And.Contain("p99 latency 120 ms -&gt; 480 ms");
    }

    [Fact]
    public void Text_WithoutGraphDiff_LeavesTheSectionOut()
    {
        var model = ReportSamples.Model() with { GraphDiff = null };

        TextReportRenderer.Render(model).Should().NotContain("Service graph changes");
    }

    [Fact]
    public void Json_RoundTripsWithExactAmountsAndEnumNames()
    {
        var model = ReportSamples.Model();

        var json = ReportJson.Serialize(model);
        var back = ReportJson.Deserialize(json);

        back.Should().BeEquivalentTo(model);
        System.Text.Encoding.UTF8.GetString(json).Should().Contain("\"group\": \"XRay\"");
    }
}
