using System.Text.Json;
using Pipeline.Core.Otlp;
using Pipeline.Core.Usage;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest;

/// <summary>OTLP records (docs/kinesis-records.md) through the ingest: converted, then validated, archived, sampled and forwarded like any segment.</summary>
public sealed class IngestOtlpTests
{
    private static byte[] Record(OtlpTraceBuilder builder) => OtlpRecord.Create(builder.ToProtobuf());

    private static UsageRecord Usage(IngestHarness harness) =>
        UsageJson.TryDeserialize(System.Text.Encoding.UTF8.GetBytes(harness.Store.Lines(IngestHarness.Bucket, "usage/").Single()))!;

    [Fact]
    public async Task Ingest_OtlpRecord_ArchivesTheConvertedDocumentsNextToXRaySdkSegments()
    {
        var harness = new IngestHarness(rate: 1.0);
        var otel = OtlpTraceBuilder.Trace("service-c", seed: 3);
        var server = otel.Span("GET /items", OtlpSpanKind.Server).With("http.request.method", "GET").With("http.response.status_code", 200L);
        otel.Span("SELECT", OtlpSpanKind.Client, server).With("db.system", "postgresql").With("db.statement", "SELECT * FROM t WHERE id = 42");
        var sdk = SegmentBuilder.Segment("service-b", seed: 4).ToUtf8();

        var failures = await harness.RunAsync(IngestHarness.Batch([sdk, Record(otel)], 0, 2));

        failures.Should().BeEmpty();
        var lines = harness.ArchivedLines().Select(l => JsonDocument.Parse(l).RootElement).ToList();
        lines.Should().HaveCount(2);
        var converted = lines.Single(l => l.GetProperty("name").GetString() == "service-c");
        converted.GetProperty("trace_id").GetString().Should().Be(otel.XRayTraceId);
        var sql = converted.GetProperty("subsegments")[0].GetProperty("sql");
        sql.GetProperty("sanitized_query").GetString().Should().Be("SELECT * FROM t WHERE id = ?", "converted documents are redacted like any other");
        harness.SentToXRay().Should().HaveCount(2);
        var byOrigin = Usage(harness).ByOrigin;
        byOrigin.Should().Be(new OriginUsage { XraySdkSegmentsIn = 1, XraySdkSegmentsValid = 1, OtelSpansIn = 2, OtelSpansValid = 2, OtelSegmentsValid = 1 });
        harness.LastEmf().GetProperty("OtlpSpansIn").GetInt64().Should().Be(2);
    }

    [Fact]
    public async Task Ingest_OtlpSpansWithBadIds_AreQuarantinedWithReasonAndOriginal_TheRestKept()
    {
        var harness = new IngestHarness();
        var otel = OtlpTraceBuilder.Trace("service-c");
        otel.Span("fine", OtlpSpanKind.Server);
        otel.Span("bad", OtlpSpanKind.Server).SpanId = [1, 2, 3];

        await harness.RunAsync(IngestHarness.Batch([Record(otel)], 0, 1));

        harness.ArchivedLines().Should().ContainSingle();
        var quarantined = harness.Quarantined().Should().ContainSingle().Subject;
        quarantined.GetProperty("reason").GetString().Should().Be("otlp_invalid_span_id");
        quarantined.GetProperty("reason_code").GetInt32().Should().Be(2002);
        var original = OtlpProtobufDecoder.Decode(quarantined.GetProperty("original_base64").GetBytesFromBase64());
        original.Request!.AllSpans().Single().Span.Name.Should().Be("bad");
        var byOrigin = Usage(harness).ByOrigin;
        (byOrigin.OtelSpansIn, byOrigin.OtelSpansValid, byOrigin.OtelSpansInvalid).Should().Be((2, 1, 1));
    }

    [Fact]
    public async Task Ingest_OtlpRecordThatDoesNotDecodeOrOfANewerVersion_IsQuarantinedWhole()
    {
        var harness = new IngestHarness();
        var garbage = OtlpRecord.Create([0x0A, 0x7F, 0x01]);
        var trace = OtlpTraceBuilder.Trace();
        trace.Span("a", OtlpSpanKind.Server);
        var newer = Record(trace);
        newer[4] = 9;

        var failures = await harness.RunAsync(IngestHarness.Batch([garbage, newer], 0, 2));

        failures.Should().BeEmpty();
        harness.Quarantined().Select(q => q.GetProperty("reason").GetString()).Should().Equal("otlp_malformed_protobuf", "otlp_unsupported_version");
        harness.Quarantined()[1].GetProperty("original_base64").GetBytesFromBase64().Should().Equal(newer);
    }

    [Fact]
    public async Task Ingest_KeptTraceWithoutAnXRayEpoch_IsArchivedAndCountedNotParked()
    {
        var harness = new IngestHarness(rate: 1.0);
        var random = OtlpTraceBuilder.Trace("service-c", seed: 11, randomTraceId: true);
        random.TraceId[0] = 0x01; // epoch 0x01…: 1970, which X-Ray can never take
        random.Span("GET /", OtlpSpanKind.Server);

        var epoch = OtlpTraceBuilder.Trace("service-c", seed: 12);
        epoch.Span("GET /", OtlpSpanKind.Server);

        await harness.RunAsync(IngestHarness.Batch([Record(random), Record(epoch)], 0, 2));

        harness.ArchivedLines().Should().HaveCount(2);
        harness.SentToXRay().Should().ContainSingle().Which.Should().Contain(epoch.XRayTraceId);
        harness.Parked().Should().BeEmpty();
        var emf = harness.LastEmf();
        emf.GetProperty("XRayNoEpochTraces").GetInt64().Should().Be(1);
        emf.GetProperty("XRayNoEpochSegments").GetInt64().Should().Be(1);
        Usage(harness).TracesKept.Should().Be(1);
    }

    [Fact]
    public async Task Ingest_KeptTraceWithoutAnEpochInSeveralDocuments_CountedOnceAsATraceAndPerDocument()
    {
        var harness = new IngestHarness(rate: 1.0);
        var random = OtlpTraceBuilder.Trace("service-c", seed: 13, randomTraceId: true);
        random.TraceId[0] = 0x02;
        random.Span("GET /a", OtlpSpanKind.Server);
        random.Span("GET /b", OtlpSpanKind.Server);
        var epoch = OtlpTraceBuilder.Trace("service-c", seed: 14);
        epoch.Span("GET /c", OtlpSpanKind.Server);

        await harness.RunAsync(IngestHarness.Batch([Record(random), Record(epoch)], 0, 2));

        harness.ArchivedLines().Should().HaveCount(3);
        harness.SentToXRay().Should().ContainSingle().Which.Should().Contain(epoch.XRayTraceId);
        harness.Parked().Should().BeEmpty();
        var emf = harness.LastEmf();
        emf.GetProperty("XRayNoEpochTraces").GetInt64().Should().Be(1);
        emf.GetProperty("XRayNoEpochSegments").GetInt64().Should().Be(2);
        Usage(harness).TracesKept.Should().Be(1);
    }

    [Fact]
    public async Task Ingest_TailDecisionAcrossAMixedTrace_KeepsTheXRaySdkSegmentsToo()
    {
        var harness = new IngestHarness(rate: 0.0);
        var otel = OtlpTraceBuilder.Trace("service-c", seed: 21);
        otel.Span("GET /", OtlpSpanKind.Server).WithStatus(OtlpStatusCode.Error);
        var sdk = SegmentBuilder.Segment("service-b", seed: 22).Set("trace_id", otel.XRayTraceId).ToUtf8();

        await harness.RunAsync(IngestHarness.Batch([sdk, Record(otel)], 0, 2));

        harness.SentToXRay().Should().HaveCount(2, "a fault in the OTel half of the trace keeps the X-Ray SDK half as well");
    }
}
