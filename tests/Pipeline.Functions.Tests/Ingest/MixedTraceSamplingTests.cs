using System.Text.Json;
using Pipeline.Core.Otlp;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest;

/// <summary>
/// Issue 17 item 5, tail sampling on mixed traces: service-a (X-Ray SDK) → service-b
/// (OpenTelemetry) → service-c (X-Ray SDK), head rate 0, so only a tail decision keeps anything.
/// An error anywhere in the trace — either SDK generation, either end — keeps every document of
/// it, in the same batch and in a later one (the remembered decision).
/// </summary>
public sealed class MixedTraceSamplingTests
{
    public enum ErrorAt
    {
        XRaySdkCaller,
        OtelClientSpan,
        XRaySdkCallee,
    }

    [Theory]
    [InlineData(ErrorAt.XRaySdkCaller)]
    [InlineData(ErrorAt.OtelClientSpan)]
    [InlineData(ErrorAt.XRaySdkCallee)]
    public async Task Ingest_ErrorAnywhereInAMixedTrace_KeepsTheWholeTrace(ErrorAt at)
    {
        var harness = new IngestHarness(rate: 0.0);
        var (records, traceId) = MixedTrace(seed: 31, at);
        var (quiet, quietTraceId) = MixedTrace(seed: 41, errorAt: null);

        (await harness.RunAsync(IngestHarness.Batch([.. records, .. quiet], 0, records.Count + quiet.Count))).Should().BeEmpty();

        var sent = harness.SentToXRay().Select(d => JsonDocument.Parse(d).RootElement).ToList();
        sent.Select(d => d.GetProperty("name").GetString()).Should().BeEquivalentTo(["service-a", "service-b", "service-c"]);
        sent.Should().OnlyContain(d => d.GetProperty("trace_id").GetString() == traceId);
        sent.Select(d => d.GetProperty("trace_id").GetString()).Should().NotContain(quietTraceId, "the trace without an error is dropped at rate 0");
        harness.ArchivedLines().Should().HaveCount(6, "the archive keeps both traces whole");
    }

    [Fact]
    public async Task Ingest_ErrorInTheOtelHalf_LateXRaySdkSegmentInTheNextBatch_FollowsTheDecision()
    {
        var harness = new IngestHarness(rate: 0.0);
        var (records, _) = MixedTrace(seed: 51, ErrorAt.OtelClientSpan);

        (await harness.RunAsync(IngestHarness.Batch(records, 0, 2))).Should().BeEmpty();
        (await harness.RunAsync(IngestHarness.Batch(records, 2, 3))).Should().BeEmpty();

        harness.SentToXRay().Select(d => JsonDocument.Parse(d).RootElement.GetProperty("name").GetString())
            .Should().BeEquivalentTo(["service-a", "service-b", "service-c"], "service-c's segment arrives one invocation later and follows the remembered keep");
    }

    /// <summary>
    /// One trace: service-a's X-Ray SDK segment with an HTTP call, service-b's OTLP record (server
    /// span whose parent is that call, client span to service-c), service-c's segment under the client span.
    /// </summary>
    private static (List<byte[]> Records, string TraceId) MixedTrace(int seed, ErrorAt? errorAt)
    {
        var start = SegmentBuilder.DefaultStart;
        var otel = OtlpTraceBuilder.Trace("service-b", seed: seed, start: start);
        var call = SegmentBuilder.Embedded("service-b", seed + 1, start).WithNamespace("remote").WithHttp("GET", "http://service-b/b", 200);
        var a = SegmentBuilder.Segment("service-a", seed + 2, start).WithTraceId(otel.XRayTraceId).WithSubsegment(call);
        a = errorAt == ErrorAt.XRaySdkCaller ? a.WithError() : a;

        var server = otel.RemoteChild("GET /b", OtlpSpanKind.Server, Convert.FromHexString(call.Id), startMs: 5, durationMs: 50)
            .With("http.request.method", "GET").With("http.response.status_code", 200L);
        var client = otel.Span("GET", OtlpSpanKind.Client, server, startMs: 10, durationMs: 20)
            .With("http.request.method", "GET").With("url.full", "http://service-c/c").With("server.address", "service-c");
        client = errorAt == ErrorAt.OtelClientSpan ? client.WithStatus(OtlpStatusCode.Error, "connection reset") : client.With("http.response.status_code", 200L);

        var c = SegmentBuilder.Segment("service-c", seed + 3, start).WithTraceId(otel.XRayTraceId).WithParentId(Convert.ToHexStringLower(client.SpanId));
        c = errorAt == ErrorAt.XRaySdkCallee ? c.WithFault() : c;
        return ([a.ToUtf8(), OtlpRecord.Create(otel.ToProtobuf()), c.ToUtf8()], otel.XRayTraceId);
    }
}
