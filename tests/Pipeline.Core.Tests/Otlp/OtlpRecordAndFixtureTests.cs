using System.Text;
using Pipeline.Core.Kpl;
using Pipeline.Core.Otlp;
using Pipeline.Core.Wire;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Otlp;

public sealed class OtlpRecordAndFixtureTests
{
    private static string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "Pipeline.Core.Tests", "Otlp", "Fixtures", name);

    [Fact]
    public void Record_RoundTrip_ReturnsThePayload()
    {
        var payload = OtlpTraceBuilder.Trace().Also(b => b.Span("a", OtlpSpanKind.Server)).ToProtobuf();

        var status = OtlpRecord.TryRead(OtlpRecord.Create(payload), out var read);

        status.Should().Be(OtlpRecordStatus.Ok);
        read.ToArray().Should().Equal(payload);
    }

    [Fact]
    public void Record_IsDistinguishableFromDatagramsDocumentsAndKplAggregates()
    {
        var document = SegmentBuilder.Segment().ToUtf8();
        var datagram = Encoding.UTF8.GetBytes(SegmentBuilder.DaemonHeader + "\n").Concat(document).ToArray();
        var aggregator = new KplAggregator();
        aggregator.TryAdd("1-abc", null, document);
        var aggregate = aggregator.Build();

        foreach (var other in new[] { document, datagram, aggregate, " {}"u8.ToArray(), [] })
        {
            OtlpRecord.IsOtlpRecord(other).Should().BeFalse();
            OtlpRecord.TryRead(other, out _).Should().Be(OtlpRecordStatus.NotOtlp);
        }

        var record = OtlpRecord.Create([1, 2]);
        KplDeaggregator.IsAggregated(record).Should().BeFalse();
        Datagram.TrySplit(record, out _).Should().NotBe(DatagramReject.None);
        TraceIdSniffer.Find(record).IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Record_OfAnotherVersionOrTruncated_IsReportedNotRead()
    {
        var newer = OtlpRecord.Create([1]);
        newer[4] = 2;

        OtlpRecord.TryRead(newer, out _).Should().Be(OtlpRecordStatus.UnsupportedVersion);
        OtlpRecord.TryRead(OtlpRecord.Magic.ToArray(), out _).Should().Be(OtlpRecordStatus.Truncated);
    }

    [Fact]
    public void TraceId_InXRayForm_SplitsEpochAndRest()
    {
        var id = Convert.FromHexString("674a1e000123456789abcdef01234567");

        OtlpIds.ToXRayTraceId(id).Should().Be("1-674a1e00-0123456789abcdef01234567");
        OtlpIds.TraceEpochSeconds(id).Should().Be(0x674a1e00);
    }

    /// <summary>tests/otel-js/make-fixtures.js wrote these with the OTel JS SDK's own OTLP serializers.</summary>
    [Fact]
    public void JsExporterFixtures_ProtobufAndJson_DecodeToTheSameSpans()
    {
        var protobuf = OtlpProtobufDecoder.Decode(File.ReadAllBytes(Fixture("js-exporter.pb")));
        var json = OtlpJsonDecoder.Decode(File.ReadAllBytes(Fixture("js-exporter.json")));

        protobuf.IsOk.Should().BeTrue();
        json.IsOk.Should().BeTrue();
        OtlpProtobufEncoder.Encode(json.Request!).Should().Equal(OtlpProtobufEncoder.Encode(protobuf.Request!));
        var spans = protobuf.Request!.AllSpans().ToDictionary(s => s.Span.Name, s => s.Span);
        spans.Keys.Should().BeEquivalentTo("GET /items/:id", "GET", "SELECT items", "render");
        var server = spans["GET /items/:id"];
        Convert.ToHexStringLower(server.TraceId).Should().Be("674a1e000123456789abcdef01234567");
        Convert.ToHexStringLower(server.SpanId).Should().Be("0000000000000001");
        server.KnownKind.Should().Be(OtlpSpanKind.Server);
        server.StartTimeUnixNano.Should().Be(1_732_960_000_000_000_123UL);
        server.EndTimeUnixNano.Should().Be(1_732_960_000_050_000_123UL);
        server.Attributes.TryGet("http.response.status_code", out var status).Should().BeTrue();
        status.AsInt.Should().Be(200);
        server.Attributes.TryGet("tags", out var tags).Should().BeTrue();
        tags.AsArray.Should().Equal(OtlpValue.FromString("a"), OtlpValue.FromString("b"));
        server.Events.Single().Name.Should().Be("cache.miss");
        spans["GET"].ParentSpanId.Should().Equal(server.SpanId);
        spans["GET"].Status.Should().Be(new OtlpStatus(2, "Not Found"));
        spans["render"].Events.Single().Attributes.GetString("exception.type").Should().Be("TypeError");
        spans["render"].Links.Single().Attributes.GetString("link.kind").Should().Be("follows");
        protobuf.Request.ResourceSpans.Single().ScopeSpans.Single().Scope.Version.Should().Be("0.1.0");
    }
}
