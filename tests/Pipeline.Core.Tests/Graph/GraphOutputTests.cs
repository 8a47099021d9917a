using System.Text;
using System.Xml.Linq;
using Pipeline.Core.Graph;

namespace Pipeline.Core.Tests.Graph;

public sealed class GraphOutputTests
{
    private static GraphDocument Document(Action<GraphTraces>? more = null, int callMillis = 50, int faults = 0, int calls = 20)
    {
        var t = new GraphTraces();
        for (var i = 0; i < calls; i++)
        {
            var trace = t.NewTrace();
            var call = t.HttpCall("b", status: i < faults ? 500 : 200, millis: callMillis);
            t.Add(t.Segment("a", trace, null).WithSubsegment(call));
            t.Add(t.Segment("b", trace, call.Id));
        }

        more?.Invoke(t);
        return ServiceGraphJson.ToDocument(t.Build());
    }

    [Fact]
    public void Json_RoundTrips_WithXRayFieldNames()
    {
        var doc = Document(faults: 3);

        var bytes = ServiceGraphJson.Serialize(doc);
        var back = ServiceGraphJson.TryDeserialize(bytes)!;

        var text = Encoding.UTF8.GetString(bytes);
        text.Should().Contain("\"ReferenceId\"").And.Contain("\"SummaryStatistics\"").And.Contain("\"ResponseTimeHistogram\"")
            .And.Contain("\"FaultStatistics\"").And.Contain("\"ThrottleCount\"").And.Contain("\"TotalResponseTime\"");
        ServiceGraphJson.Serialize(back).Should().Equal(bytes);
        var a = back.Services.Single(s => s.Name == "a");
        var edge = a.Edges.Single();
        edge.SummaryStatistics.FaultStatistics.TotalCount.Should().Be(3);
        edge.SummaryStatistics.OkCount.Should().Be(17);
        edge.ResponseTimeHistogram.Sum(h => h.Count).Should().Be(20);
        edge.Percentiles.P99.Should().BeApproximately(0.05, 0.0005);
        edge.SummaryStatistics.TotalResponseTime.Should().BeApproximately(1.0, 1e-5);
    }

    [Fact]
    public void TryDeserialize_NotAGraph_IsNull()
    {
        ServiceGraphJson.TryDeserialize("{\"x\":1"u8).Should().BeNull();
        ServiceGraphJson.TryDeserialize("{\"SchemaVersion\":99,\"StartTime\":\"a\",\"EndTime\":\"b\",\"Engine\":\"stream\",\"Services\":[]}"u8).Should().BeNull();
    }

    [Fact]
    public void Key_IsDtOfStartAndBothTimes()
    {
        ServiceGraphJson.KeyStem(new DateTimeOffset(2026, 11, 25, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero))
            .Should().Be("graphs/dt=2026-11-25/20261125T2300Z-20261126T0000Z");
    }

    [Fact]
    public void Diff_AddedRemovedAndRegressions()
    {
        var before = Document(t => t.Add(t.Segment("old", t.NewTrace(), null)), callMillis: 50);
        var after = Document(t => t.Add(t.Segment("a", t.NewTrace(), null).WithSubsegment(t.DynamoCall("orders"))), callMillis: 200, faults: 4);

        var diff = GraphDiff.Compare(before, after, "graphs/prev.json");

        diff.PreviousKey.Should().Be("graphs/prev.json");
        diff.AddedNodes.Should().Equal(new NodeRefDocument("orders", "AWS::DynamoDB::Table"));
        diff.RemovedNodes.Should().Equal(new NodeRefDocument("old", "service"));
        diff.AddedEdges.Should().Equal(new EdgeRefDocument("a", "orders"));
        diff.RemovedEdges.Should().Equal(new EdgeRefDocument("client", "old"));
        diff.Regressions.Select(r => (r.From, r.To, r.Metric)).Should().BeEquivalentTo([("a", "b", GraphDiff.FailureRateMetric), ("a", "b", GraphDiff.P99Metric)]);
        diff.Regressions.Single(r => r.Metric == GraphDiff.P99Metric).After.Should().BeApproximately(0.2, 0.002);
    }

    [Fact]
    public void Diff_BelowThresholdsOrTooFewRequests_NoRegression()
    {
        var before = Document(callMillis: 50);
        var slightlySlower = Document(callMillis: 70, faults: 0);
        var fewCalls = Document(callMillis: 500, faults: 5, calls: 5);

        GraphDiff.Compare(before, slightlySlower, null).Regressions.Should().BeEmpty();
        GraphDiff.Compare(before, fewCalls, null).Regressions.Should().BeEmpty();
        GraphDiff.Compare(before, slightlySlower, null, new GraphDiffOptions(P99Ratio: 1.2, P99MinIncreaseSeconds: 0.01)).Regressions.Should().ContainSingle();
    }

    [Fact]
    public void Diff_NoPrevious_EverythingIsNew()
    {
        var diff = GraphDiff.Compare(null, Document(), null);

        diff.AddedNodes.Select(n => n.Name).Should().BeEquivalentTo("client", "a", "b");
        diff.RemovedNodes.Should().BeEmpty();
        diff.Regressions.Should().BeEmpty();
    }

    [Fact]
    public void Svg_HostileNames_AreEscapedAndTheDocumentIsWellFormedXml()
    {
        var doc = Document(t => t.Add(t.Segment("<script>alert(\"x\")</script> & co", t.NewTrace(), null)));

        var svg = GraphSvg.Render(doc with { Diff = GraphDiff.Compare(Document(), doc, "prev") });

        var xml = XDocument.Parse(svg);
        xml.Root!.Name.LocalName.Should().Be("svg");
        svg.Should().NotContain("<script>");
        xml.Descendants().Where(e => e.Name.LocalName == "title").Select(e => e.Value)
            .Should().Contain("<script>alert(\"x\")</script> & co (service)");
        xml.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value)
            .Should().Contain(v => v.StartsWith("<script>alert(", StringComparison.Ordinal) && v.EndsWith('…'), "long names are shortened, with the full name in the title");
        xml.Descendants().Count(e => e.Name.LocalName == "g" && (string?)e.Attribute("class") == "node").Should().Be(doc.Services.Count);
    }

    [Fact]
    public void Svg_NodesAreLaidOutLeftToRightByDepth()
    {
        var doc = Document();

        var xml = XDocument.Parse(GraphSvg.Render(doc));

        double X(string name) => (double)xml.Descendants().Single(e => (string?)e.Attribute("data-name") == name)
            .Elements().Single(e => e.Name.LocalName == "rect").Attribute("x")!;
        X("client").Should().BeLessThan(X("a"));
        X("a").Should().BeLessThan(X("b"));
    }

    [Fact]
    public void Dot_HasEveryNodeAndEdgeWithLabels()
    {
        var doc = Document(t => t.Add(t.Segment("quote\"d", t.NewTrace(), null)));

        var dot = GraphText.Dot(doc);

        dot.Should().StartWith("digraph service_graph {").And.Contain("rankdir=LR").And.EndWith("}\n");
        dot.Should().Contain("label=\"quote\\\"d\\nservice\"");
        dot.Split('\n').Count(l => l.Contains(" -> ", StringComparison.Ordinal)).Should().Be(3);
        dot.Should().Contain("20 req\\np99 50 ms");
    }

    [Fact]
    public void Summary_OneLinePerEdgeAndTheDiff()
    {
        var doc = Document(faults: 2);
        doc = doc with { Diff = GraphDiff.Compare(null, doc, null) };

        var text = GraphText.Summary(doc);

        text.Should().MatchRegex(@"a -> b\s+20\s+18\s+0\s+0\s+2 ");
        text.Should().Contain("client -> a").And.Contain("+3/-0 nodes");
    }
}
