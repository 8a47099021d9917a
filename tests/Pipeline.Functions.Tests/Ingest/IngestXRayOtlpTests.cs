using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Archive;
using Pipeline.Core.Otlp;
using Pipeline.Core.Usage;
using Pipeline.Functions.XRayReplay;
using Pipeline.Runtime.Resilience;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest;

/// <summary>XRAY_FORWARD=otlp through the ingest handler: kept OTel spans go as received to X-Ray's OTLP endpoint.</summary>
public sealed class IngestXRayOtlpTests
{
    private static readonly string OtlpParkKey = ArchiveKeys.XRayRetryOtlp(IngestHarness.Shard, IngestHarness.Sequence(0), IngestHarness.FirstArrival);

    private static byte[] Record(OtlpTraceBuilder builder) => OtlpRecord.Create(builder.ToProtobuf());

    [Fact]
    public async Task Otlp_KeptOTelTraceWithARandomId_GoesToTheOtlpEndpointAsReceived_XRaySdkSegmentsToPutTraceSegments()
    {
        var endpoint = new FakeXRayOtlp();
        var harness = new IngestHarness(rate: 1.0, otlp: endpoint);
        var otel = OtlpTraceBuilder.Trace("service-c", seed: 31, randomTraceId: true);
        otel.TraceId[0] = 0x01; // no epoch X-Ray's PutTraceSegments could take
        var server = otel.Span("GET /items", OtlpSpanKind.Server).With("http.request.method", "GET");
        otel.Span("SELECT", OtlpSpanKind.Client, server).With("db.system", "postgresql");
        var sdk = SegmentBuilder.Segment("service-b", seed: 32).ToUtf8();

        var failures = await harness.RunAsync(IngestHarness.Batch([sdk, Record(otel)], 0, 2));

        failures.Should().BeEmpty();
        harness.ArchivedLines().Should().HaveCount(2, "the archive holds both whatever the mode");
        harness.SentToXRay().Should().ContainSingle().Which.Should().Contain("service-b");
        var sent = endpoint.Requests.Should().ContainSingle().Subject;
        var original = otel.Build();
        sent.ResourceSpans.Should().ContainSingle();
        sent.ResourceSpans[0].Resource.Attributes.Should().Equal(original.ResourceSpans[0].Resource.Attributes);
        sent.ResourceSpans[0].ScopeSpans.Should().ContainSingle().Which.Scope.Name.Should().Be("test-scope");
        var spans = sent.ResourceSpans[0].ScopeSpans[0].Spans;
        spans.Select(s => (s.Name, Convert.ToHexString(s.SpanId), Convert.ToHexString(s.ParentSpanId), s.StartTimeUnixNano, s.EndTimeUnixNano, s.Kind))
            .Should().Equal(original.ResourceSpans[0].ScopeSpans[0].Spans.Select(s => (s.Name, Convert.ToHexString(s.SpanId), Convert.ToHexString(s.ParentSpanId), s.StartTimeUnixNano, s.EndTimeUnixNano, s.Kind)));
        spans.Select(s => Convert.ToHexString(s.TraceId)).Should().AllBe(Convert.ToHexString(otel.TraceId));
        spans[0].Attributes.Should().Equal(original.ResourceSpans[0].ScopeSpans[0].Spans[0].Attributes);
        var emf = harness.LastEmf();
        emf.GetProperty("XRayNoEpochTraces").GetInt64().Should().Be(0, "the OTLP endpoint takes W3C random ids");
        emf.GetProperty("XRayOtlpRequests").GetInt64().Should().Be(1);
        emf.GetProperty("XRayOtlpSpansSent").GetInt64().Should().Be(2);
        Usage(harness).TracesKept.Should().Be(2);
    }

    [Fact]
    public async Task Otlp_OnlyKeptTracesAndOnlySpansThatPassedTheChecks_AreSent()
    {
        var endpoint = new FakeXRayOtlp();
        var harness = new IngestHarness(rate: 0.0, otlp: endpoint);
        var kept = OtlpTraceBuilder.Trace("service-c", seed: 41);
        kept.Span("GET /", OtlpSpanKind.Server).WithStatus(OtlpStatusCode.Error);
        kept.Span("broken", OtlpSpanKind.Server).SpanId = [1, 2, 3];
        var dropped = OtlpTraceBuilder.Trace("service-c", seed: 42);
        dropped.Span("GET /", OtlpSpanKind.Server);

        await harness.RunAsync(IngestHarness.Batch([Record(kept), Record(dropped)], 0, 2));

        endpoint.Accepted.Should().ContainSingle().Which.TraceId.Should().Equal(kept.TraceId);
        harness.Quarantined().Should().ContainSingle().Which.GetProperty("reason").GetString().Should().Be("otlp_invalid_span_id");
    }

    [Fact]
    public async Task Otlp_SpansAreRedactedByTheIngestsPolicyBeforeTheyLeave()
    {
        var endpoint = new FakeXRayOtlp();
        var harness = new IngestHarness(otlp: endpoint);
        var otel = OtlpTraceBuilder.Trace("service-c", seed: 51);
        otel.Span("GET /", OtlpSpanKind.Server)
            .With("http.request.header.authorization", OtlpValue.FromArray([OtlpValue.FromString("Bearer secret-1")]))
            .With("url.full", "https://api.example.com/items?id=7&token=secret-2")
            .With("db.statement", "SELECT * FROM users WHERE name = 'alice'")
            .With("app.api_key", "secret-3")
            .With("http.request.method", "GET");

        await harness.RunAsync(IngestHarness.Batch([Record(otel)], 0, 1));

        var attributes = endpoint.Accepted.Should().ContainSingle().Subject.Attributes.ToDictionary(a => a.Key, a => a.Value.ToScalarString());
        attributes["http.request.header.authorization"].Should().Be("REDACTED");
        attributes["url.full"].Should().Be("https://api.example.com/items?id=7&token=REDACTED");
        attributes["db.statement"].Should().Be("SELECT * FROM users WHERE name = ?");
        attributes["app.api_key"].Should().Be("REDACTED");
        attributes["http.request.method"].Should().Be("GET");
        harness.LastEmf().GetProperty("XRayOtlpRedactions").GetInt64().Should().Be(4);
    }

    [Fact]
    public async Task Otlp_EndpointDown_SpansParkedAsAnOtlpRecord_ThenReplayResendsAndDeletesIt()
    {
        var endpoint = new FakeXRayOtlp().ThenFail(HttpStatusCode.ServiceUnavailable, "ServiceUnavailable");
        var harness = new IngestHarness(otlp: endpoint);
        var otel = OtlpTraceBuilder.Trace("service-c", seed: 61, randomTraceId: true);
        var server = otel.Span("GET /", OtlpSpanKind.Server);
        otel.Span("call", OtlpSpanKind.Client, server);

        var failures = await harness.RunAsync(IngestHarness.Batch([Record(otel)], 0, 1));

        failures.Should().BeEmpty("parking took what X-Ray did not");
        harness.LastEmf().GetProperty("XRayOtlpSpansParked").GetInt64().Should().Be(2);
        OtlpRecord.TryRead(harness.Store.Get(IngestHarness.Bucket, OtlpParkKey), out var payload).Should().Be(OtlpRecordStatus.Ok);
        var parked = OtlpProtobufDecoder.Decode(payload.Span).Request!;
        parked.ResourceSpans[0].Resource.Attributes.Should().Equal(otel.Build().ResourceSpans[0].Resource.Attributes);
        parked.SpanCount.Should().Be(2);

        var replayEndpoint = new FakeXRayOtlp();
        var replay = new XRayReplayHandler(
            new XRayReplayOptions { ArchiveBucket = IngestHarness.Bucket, XRayResend = new BackoffOptions { MaxAttempts = 2, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero } },
            harness.Store, harness.Store, harness.XRay, harness.Time, replayEndpoint);
        var result = await replay.RunAsync(() => true, NullLogger.Instance, TestContext.Current.CancellationToken);

        replayEndpoint.Accepted.Select(s => s.Name).Should().Equal("GET /", "call");
        result.Resent.Should().Be(2);
        result.Deleted.Should().Be(1);
        harness.Store.Keys.Should().NotContain(OtlpParkKey);
    }

    [Fact]
    public async Task Otlp_EndpointDownAndParkingFails_BatchReportedFromItsFirstRecord()
    {
        var endpoint = new FakeXRayOtlp().ThenFail(HttpStatusCode.InternalServerError);
        var harness = new IngestHarness(otlp: endpoint);
        harness.Store.FailingPrefixes.Add(ArchiveKeys.XRayRetryPrefix);
        var otel = OtlpTraceBuilder.Trace("service-c", seed: 71);
        otel.Span("GET /", OtlpSpanKind.Server);

        var failures = await harness.RunAsync(IngestHarness.Batch([Record(otel)], 0, 1));

        failures.Should().Equal(IngestHarness.Sequence(0));
    }

    [Fact]
    public async Task Replay_OtlpObjectStillRefused_StaysForTheNextRun_AndAnUnreadableOneIsDeleted()
    {
        var harness = new IngestHarness();
        var otel = OtlpTraceBuilder.Trace("service-c", seed: 81);
        otel.Span("GET /", OtlpSpanKind.Server);
        // Listed in key order: the unreadable one first, since an outage ends the run.
        const string bad = "xray-retry/dt=2026-11-25/a.otlp";
        const string good = "xray-retry/dt=2026-11-25/b.otlp";
        await harness.Store.PutAsync(IngestHarness.Bucket, good, OtlpRecord.Create(otel.ToProtobuf()), ArchiveObjects.OtlpContentType, TestContext.Current.CancellationToken);
        await harness.Store.PutAsync(IngestHarness.Bucket, bad, OtlpRecord.Create([0x0A, 0x7F]), ArchiveObjects.OtlpContentType, TestContext.Current.CancellationToken);
        var down = new FakeXRayOtlp().ThenFail(HttpStatusCode.ServiceUnavailable);
        var replay = new XRayReplayHandler(new XRayReplayOptions { ArchiveBucket = IngestHarness.Bucket }, harness.Store, harness.Store, harness.XRay, harness.Time, down);

        var result = await replay.RunAsync(() => true, NullLogger.Instance, TestContext.Current.CancellationToken);

        harness.Store.Keys.Should().Contain(good).And.NotContain(bad);
        result.Unreadable.Should().Be(1);
        result.Remaining.Should().Be(1);
    }

    [Fact]
    public void Handler_OtlpModeWithoutTheOtlpClient_FailsAtConstruction()
    {
        var options = new Functions.Ingest.IngestOptions { ArchiveBucket = "b", XRayForward = Functions.Ingest.XRayForwardMode.Otlp };

        var act = () => new Functions.Ingest.IngestHandler(options, new InMemoryObjectStore(TestInvocation.Clock()), new FakeXRay(), new Pipeline.Core.Sampling.InMemoryTraceDecisionStore(TestInvocation.Clock()), TestInvocation.Clock(), new Pipeline.Testing.Telemetry.RecordingMetricsSink());

        act.Should().Throw<ArgumentException>().WithMessage("*otlp*");
    }

    private static UsageRecord Usage(IngestHarness harness) =>
        UsageJson.TryDeserialize(System.Text.Encoding.UTF8.GetBytes(harness.Store.Lines(IngestHarness.Bucket, "usage/").Single()))!;
}
