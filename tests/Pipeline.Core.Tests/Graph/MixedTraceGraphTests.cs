using Pipeline.Core.Graph;
using Pipeline.Core.Otlp;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Graph;

/// <summary>
/// Issue 17 item 5: a trace that crosses SDK generations is one trace in the graph. service-a
/// (X-Ray SDK) calls service-b (OpenTelemetry, joined through the X-Ray propagator: its server
/// span's parent is service-a's HTTP subsegment), which calls service-c (X-Ray SDK, whose segment's
/// parent is service-b's client span). The OTel spans go through the same conversion as in the
/// ingest (SpanConverter), so the graph sees what the archive holds.
/// </summary>
public sealed class MixedTraceGraphTests
{
    private const int Traces = 4;

    private static string[] EdgeNames(ServiceGraph g) =>
        [.. g.Edges.Select(e => $"{g.Nodes[e.From].Name}->{g.Nodes[e.To].Name}")];

    [Fact]
    public void Build_XRaySdkToOtelToXRaySdk_DrawsEachEdgeWithCountsAndLatencies()
    {
        var graph = Mixed(faultInOtelService: false).Build();

        EdgeNames(graph).Should().BeEquivalentTo("client->service-a", "service-a->service-b", "service-b->service-c");
        graph.Edges.Should().OnlyContain(e => e.Statistics.TotalCount == Traces && e.Statistics.OkCount == Traces);
        var aToB = Edge(graph, "service-a", "service-b");
        var bToC = Edge(graph, "service-b", "service-c");
        // An edge's latency and outcome are the caller's view of the call: service-a's HTTP
        // subsegment (200 ms), and for the OTel caller its client span converted to a subsegment (100 ms).
        (aToB.Statistics.TotalResponseTime / Traces).Should().BeApproximately(0.200, 0.001);
        (bToC.Statistics.TotalResponseTime / Traces).Should().BeApproximately(0.100, 0.001);
        graph.Find("service-b")!.Depth.Should().Be(2);
        graph.Find("service-c")!.Depth.Should().Be(3);
        graph.Counters.NonZero().Should().BeEmpty("every segment joined its caller");
    }

    [Fact]
    public void Build_OtelClientSpanGot5xx_CountedAsFaultsOnTheEdgeOutOfTheOtelService()
    {
        var graph = Mixed(faultInOtelService: true).Build();

        Edge(graph, "service-b", "service-c").Statistics.FaultCount.Should().Be(Traces);
        Edge(graph, "service-a", "service-b").Statistics.OkCount.Should().Be(Traces);
    }

    private static GraphEdge Edge(ServiceGraph g, string from, string to) =>
        g.Edges.Single(e => g.Nodes[e.From].Name == from && g.Nodes[e.To].Name == to);

    private static GraphTraces Mixed(bool faultInOtelService)
    {
        var t = new GraphTraces();
        var start = GraphTraces.WindowStart.AddMinutes(5);
        for (var i = 0; i < Traces; i++)
        {
            var otel = OtlpTraceBuilder.Trace("service-b", seed: 900 + i, start: start);
            var callB = t.HttpCall("service-b", millis: 200);
            t.Add(t.Segment("service-a", otel.XRayTraceId, null, millis: 300).WithSubsegment(callB));

            var server = otel.RemoteChild("GET /b", OtlpSpanKind.Server, Convert.FromHexString(callB.Id), startMs: 10, durationMs: 150)
                .With("http.request.method", "GET")
                .With("url.path", "/b")
                .With("http.response.status_code", 200L);
            var client = otel.Span("GET", OtlpSpanKind.Client, server, startMs: 20, durationMs: 100)
                .With("http.request.method", "GET")
                .With("url.full", "http://service-c/api")
                .With("server.address", "service-c")
                .With("http.response.status_code", faultInOtelService ? 503L : 200L);
            var conversion = SpanConverter.Convert(otel.Build());
            conversion.Documents.Should().ContainSingle("the client span nests in its server span's document");
            t.AddJson(System.Text.Encoding.UTF8.GetString(conversion.Documents[0].Document));

            t.Add(t.Segment("service-c", otel.XRayTraceId, Convert.ToHexStringLower(client.SpanId), millis: 80));
        }

        return t;
    }
}
