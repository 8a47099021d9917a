using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using Pipeline.Core.Otlp;
using Pipeline.Core.Tests.Otlp.Oracle;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Otlp;

/// <summary>The hand-written OTLP protobuf codec against protoc-generated Google.Protobuf types (the oracle).</summary>
public sealed class OtlpProtobufCodecTests
{
    [Property(MaxTest = 300)]
    public bool Encode_RandomModel_IsByteIdenticalToTheOracle(int seed)
    {
        var model = OtlpModels.Random(seed);
        return OtlpProtobufEncoder.Encode(model).AsSpan().SequenceEqual(OtlpModels.ToOracle(model).ToByteArray());
    }

    [Property(MaxTest = 300)]
    public bool Decode_OracleBytes_RoundTripsToTheSameBytes(int seed)
    {
        var bytes = OtlpModels.ToOracle(OtlpModels.Random(seed)).ToByteArray();
        var decoded = OtlpProtobufDecoder.Decode(bytes);
        return decoded.IsOk && OtlpProtobufEncoder.Encode(decoded.Request!).AsSpan().SequenceEqual(bytes);
    }

    [Property(MaxTest = 300)]
    public bool DecodeJson_OracleJsonWithHexIds_MatchesTheProtobufDecoding(int seed)
    {
        var oracle = OtlpModels.ToOracle(OtlpModels.Random(seed));
        var json = OracleJson(oracle);
        var decoded = OtlpJsonDecoder.Decode(json);
        return decoded.IsOk && OtlpProtobufEncoder.Encode(decoded.Request!).AsSpan().SequenceEqual(oracle.ToByteArray());
    }

    [Property(MaxTest = 500)]
    public Property Decode_TruncatedOrCorruptedRequest_NeverThrows() =>
        Prop.ForAll(
            Gen.Choose(0, int.MaxValue).ToArbitrary(),
            Gen.Choose(0, 100_000).ToArbitrary(),
            Gen.Choose(0, 255).ToArbitrary(),
            (seed, position, value) =>
            {
                var bytes = OtlpModels.ToOracle(OtlpModels.Random(seed)).ToByteArray();
                if (bytes.Length == 0)
                {
                    return true;
                }

                var cut = bytes[..(position % bytes.Length)];
                var flipped = (byte[])bytes.Clone();
                flipped[position % bytes.Length] = (byte)value;
                var a = OtlpProtobufDecoder.Decode(cut);
                var b = OtlpProtobufDecoder.Decode(flipped);
                var c = OtlpJsonDecoder.Decode(flipped);
                return (a.IsOk || a.Error != OtlpDecodeError.None) && (b.IsOk || b.Error != OtlpDecodeError.None) && (c.IsOk || c.Error != OtlpDecodeError.None);
            });

    [Fact]
    public void Decode_EveryField_IsRead()
    {
        var builder = OtlpTraceBuilder.Trace("service-c");
        var span = builder.Span("GET /items", OtlpSpanKind.Server)
            .With("http.request.method", "GET").With("http.response.status_code", 200L).With("ratio", 0.5).With("cached", true)
            .With("bytes", OtlpValue.FromBytes([1, 2, 3]))
            .With("list", OtlpValue.FromArray([OtlpValue.FromString("a"), OtlpValue.FromInt(-7)]))
            .With("map", OtlpValue.FromKeyValueList([new OtlpKeyValue("inner", OtlpValue.FromBool(false))]))
            .WithStatus(OtlpStatusCode.Error, "boom")
            .WithException("TypeError", "bad");
        span.TraceState = "k=v";
        span.Flags = 0x301;
        span.DroppedAttributesCount = 3;
        span.DroppedEventsCount = 4;
        span.DroppedLinksCount = 5;
        span.Links.Add(new OtlpLink { TraceId = builder.NewSpanId().Concat(builder.NewSpanId()).ToArray(), SpanId = builder.NewSpanId(), TraceState = "a=b", Flags = 1 });
        var bytes = OtlpModels.ToOracle(builder.Build()).ToByteArray();

        var decoded = OtlpProtobufDecoder.Decode(bytes);

        decoded.IsOk.Should().BeTrue();
        var resource = decoded.Request!.ResourceSpans.Single();
        resource.Resource.Attributes.GetString("service.name").Should().Be("service-c");
        resource.ScopeSpans.Single().Scope.Name.Should().Be("test-scope");
        var read = resource.ScopeSpans.Single().Spans.Single();
        read.TraceId.Should().Equal(span.TraceId);
        read.SpanId.Should().Equal(span.SpanId);
        read.ParentSpanId.Should().BeEmpty();
        read.Name.Should().Be("GET /items");
        read.KnownKind.Should().Be(OtlpSpanKind.Server);
        read.StartTimeUnixNano.Should().Be(span.StartTimeUnixNano);
        read.EndTimeUnixNano.Should().Be(span.EndTimeUnixNano);
        read.TraceState.Should().Be("k=v");
        read.Flags.Should().Be(0x301u);
        read.Status.Should().Be(new OtlpStatus(2, "boom"));
        (read.DroppedAttributesCount, read.DroppedEventsCount, read.DroppedLinksCount).Should().Be((3u, 4u, 5u));
        read.Attributes.Select(a => a.Key).Should().Equal("http.request.method", "http.response.status_code", "ratio", "cached", "bytes", "list", "map");
        read.Attributes.TryGet("http.response.status_code", out var status).Should().BeTrue();
        status.AsInt.Should().Be(200);
        read.Attributes.TryGet("ratio", out var ratio).Should().BeTrue();
        ratio.AsDouble.Should().Be(0.5);
        read.Attributes.TryGet("bytes", out var raw).Should().BeTrue();
        raw.AsBytes.Should().Equal(1, 2, 3);
        read.Attributes.TryGet("list", out var list).Should().BeTrue();
        list.AsArray.Should().Equal(OtlpValue.FromString("a"), OtlpValue.FromInt(-7));
        read.Attributes.TryGet("map", out var map).Should().BeTrue();
        map.AsKeyValueList.Single().Should().Be(new OtlpKeyValue("inner", OtlpValue.FromBool(false)));
        read.Events.Single().Attributes.GetString("exception.type").Should().Be("TypeError");
        read.Links.Single().TraceState.Should().Be("a=b");
    }

    [Fact]
    public void Decode_UnknownFieldsAndKnownFieldsOfAnotherWireType_AreSkipped()
    {
        var bytes = OtlpTraceBuilder.Trace().Also(b => b.Span("a", OtlpSpanKind.Server)).ToProtobuf();
        // Field 99 (varint) at the top level, and field 5 (resource_spans' neighbour) as fixed32.
        var extra = new byte[] { 0x98, 0x06, 0x2A, 0x2D, 1, 2, 3, 4 };

        var decoded = OtlpProtobufDecoder.Decode([.. bytes, .. extra]);

        decoded.IsOk.Should().BeTrue();
        decoded.Request!.SpanCount.Should().Be(1);
        var oracle = ExportRequest.Parser.ParseFrom([.. bytes, .. extra]);
        oracle.ResourceSpans.Sum(r => r.ScopeSpans.Sum(s => s.Spans.Count)).Should().Be(1);
    }

    [Fact]
    public void Decode_InvalidUtf8Name_IsRefusedWithItsReason()
    {
        var builder = OtlpTraceBuilder.Trace();
        builder.Span("ok", OtlpSpanKind.Server).Name = "\u00e9";
        var bytes = builder.ToProtobuf();
        var index = Array.IndexOf(bytes, (byte)0xC3);
        bytes[index + 1] = 0x28;

        OtlpProtobufDecoder.Decode(bytes).Error.Should().Be(OtlpDecodeError.InvalidUtf8);
    }

    [Fact]
    public void Decode_TooManySpans_RefusesTheRequest()
    {
        var builder = OtlpTraceBuilder.Trace();
        for (var i = 0; i < 11; i++)
        {
            builder.Span("s", OtlpSpanKind.Internal);
        }

        var limits = new OtlpLimits { MaxSpansPerRequest = 10 };

        OtlpProtobufDecoder.Decode(builder.ToProtobuf(), limits).Error.Should().Be(OtlpDecodeError.TooManySpans);
        OtlpJsonDecoder.Decode(OracleJson(OtlpModels.ToOracle(builder.Build())), limits).Error.Should().Be(OtlpDecodeError.TooManySpans);
    }

    [Fact]
    public void Decode_SpanOverAttributeEventOrLinkLimit_MarksOnlyThatSpan()
    {
        var builder = OtlpTraceBuilder.Trace();
        var attributes = builder.Span("attributes", OtlpSpanKind.Internal);
        var events = builder.Span("events", OtlpSpanKind.Internal);
        var links = builder.Span("links", OtlpSpanKind.Internal);
        builder.Span("fine", OtlpSpanKind.Internal).With("a", 1L);
        for (var i = 0; i < 4; i++)
        {
            attributes.With("k" + i, i);
            events.Events.Add(new OtlpEvent { Name = "e" });
            links.Links.Add(new OtlpLink { TraceId = builder.TraceId, SpanId = builder.NewSpanId() });
        }

        var limits = new OtlpLimits { MaxAttributesPerSpan = 3, MaxEventsPerSpan = 3, MaxLinksPerSpan = 3 };
        foreach (var decoded in new[] { OtlpProtobufDecoder.Decode(builder.ToProtobuf(), limits), OtlpJsonDecoder.Decode(OracleJson(OtlpModels.ToOracle(builder.Build())), limits) })
        {
            var spans = decoded.Request!.AllSpans().Select(s => s.Span).ToList();
            spans.Select(s => s.DecodeProblem).Should().Equal(OtlpSpanProblem.TooManyAttributes, OtlpSpanProblem.TooManyEvents, OtlpSpanProblem.TooManyLinks, OtlpSpanProblem.None);
            spans[0].Attributes.Should().HaveCount(3);
        }
    }

    [Fact]
    public void Decode_ValuesNestedPastTheLimit_RefusesTheRequest()
    {
        var value = OtlpValue.FromString("leaf");
        for (var i = 0; i < 20; i++)
        {
            value = OtlpValue.FromArray([value]);
        }

        var builder = OtlpTraceBuilder.Trace();
        builder.Span("deep", OtlpSpanKind.Internal).With("deep", value);

        OtlpProtobufDecoder.Decode(builder.ToProtobuf()).Error.Should().Be(OtlpDecodeError.TooComplex);
        OtlpJsonDecoder.Decode(OracleJson(OtlpModels.ToOracle(builder.Build()))).Error.Should().Be(OtlpDecodeError.TooComplex);
    }

    [Fact]
    public void EncodeResponse_PartialSuccess_IsReadByTheOracle()
    {
        var response = ExportResponse.Parser.ParseFrom(OtlpProtobufEncoder.EncodeResponse(3, "3 spans refused: otlp_invalid_trace_id"));

        response.PartialSuccess.RejectedSpans.Should().Be(3);
        response.PartialSuccess.ErrorMessage.Should().Be("3 spans refused: otlp_invalid_trace_id");
        OtlpProtobufEncoder.EncodeResponse(0, null).Should().BeEmpty();
    }

    /// <summary>The oracle's protobuf JSON with ids turned from base64 into hex, as OTLP/JSON requires.</summary>
    internal static byte[] OracleJson(ExportRequest request)
    {
        var node = JsonNode.Parse(JsonFormatter.Default.Format(request), null, new System.Text.Json.JsonDocumentOptions { MaxDepth = 256 })!;
        HexIds(node);
        return System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private static void HexIds(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in new[] { "traceId", "spanId", "parentSpanId" })
                {
                    if (obj[name] is JsonValue value && value.TryGetValue<string>(out var base64))
                    {
                        obj[name] = Convert.ToHexStringLower(Convert.FromBase64String(base64));
                    }
                }

                foreach (var (_, child) in obj.ToList())
                {
                    HexIds(child);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    HexIds(child);
                }

                break;
        }
    }
}

internal static class BuilderExtensions
{
    public static OtlpTraceBuilder Also(this OtlpTraceBuilder builder, Action<OtlpTraceBuilder> action)
    {
        action(builder);
        return builder;
    }
}
