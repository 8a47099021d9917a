using System.Text.Json.Nodes;
using Pipeline.Core.Otlp;
using Pipeline.Core.Segments;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Otlp;

public sealed class SpanConverterTests
{
    private static readonly DateTimeOffset Now = SegmentBuilder.DefaultStart.AddHours(1);

    internal static readonly ValidationOptions AnyEpoch = new() { RequirePlausibleTraceEpoch = false };

    private static OtlpConversion Convert(OtlpTraceBuilder builder, OtlpConversionOptions? options = null) => SpanConverter.Convert(builder.Build(), options);

    private static JsonObject Json(ConvertedDocument document) => JsonNode.Parse(document.Document)!.AsObject();

    private static JsonObject Only(OtlpConversion conversion)
    {
        conversion.Quarantined.Should().BeEmpty();
        var document = conversion.Documents.Should().ContainSingle().Subject;
        SegmentValidator.ParseAndValidate(document.Document, Now).IsOk.Should().BeTrue();
        return Json(document);
    }

    [Fact]
    public void Convert_ServerSpan_IsASegmentNamedByServiceWithIdsAndTimes()
    {
        var builder = OtlpTraceBuilder.Trace("service-c");
        var server = builder.RemoteChild("GET /items", OtlpSpanKind.Server, [0xab, 1, 2, 3, 4, 5, 6, 7], startMs: 1.5, durationMs: 20);

        var json = Only(Convert(builder));

        json["name"]!.GetValue<string>().Should().Be("service-c");
        json["id"]!.GetValue<string>().Should().Be(System.Convert.ToHexStringLower(server.SpanId));
        json["trace_id"]!.GetValue<string>().Should().Be(builder.XRayTraceId);
        json["parent_id"]!.GetValue<string>().Should().Be("ab01020304050607");
        json["start_time"]!.GetValue<double>().Should().BeApproximately(SegmentBuilder.DefaultStart.ToUnixTimeMilliseconds() / 1000.0 + 0.0015, 1e-6);
        json["end_time"]!.GetValue<double>().Should().BeApproximately(SegmentBuilder.DefaultStart.ToUnixTimeMilliseconds() / 1000.0 + 0.0215, 1e-6);
        json.ContainsKey("type").Should().BeFalse();
        json["aws"]!["xray"]!["sdk"]!.GetValue<string>().Should().Be("opentelemetry for nodejs");
        json["metadata"]!["otel"]!["kind"]!.GetValue<string>().Should().Be("SERVER");
        json["metadata"]!["otel"]!["name"]!.GetValue<string>().Should().Be("GET /items");
        json["metadata"]!["otel"]!["start_time_unix_nano"]!.GetValue<string>().Should().Be(server.StartTimeUnixNano.ToString(System.Globalization.CultureInfo.InvariantCulture));
        json["metadata"]!["otel"]!["resource"]!["attributes"]!["service.name"]!.GetValue<string>().Should().Be("service-c");
    }

    [Fact]
    public void Convert_ClientChildInTheSameRequest_IsNestedWithItsHttpBlockFromStableNames()
    {
        var builder = OtlpTraceBuilder.Trace("service-b");
        var server = builder.Span("GET /", OtlpSpanKind.Server);
        var client = builder.Span("GET", OtlpSpanKind.Client, server, 2, 5)
            .With("http.request.method", "GET").With("url.full", "http://service-c:8080/items?x=1").With("http.response.status_code", 200L).With("server.address", "service-c");
        builder.Span("render", OtlpSpanKind.Internal, client, 3, 1);

        var json = Only(Convert(builder));

        var sub = json["subsegments"]!.AsArray().Single()!.AsObject();
        sub["id"]!.GetValue<string>().Should().Be(System.Convert.ToHexStringLower(client.SpanId));
        sub["name"]!.GetValue<string>().Should().Be("service-c");
        sub["namespace"]!.GetValue<string>().Should().Be("remote");
        sub["http"]!["request"]!["method"]!.GetValue<string>().Should().Be("GET");
        sub["http"]!["request"]!["url"]!.GetValue<string>().Should().Be("http://service-c:8080/items?x=1");
        sub["http"]!["response"]!["status"]!.GetValue<int>().Should().Be(200);
        sub.ContainsKey("trace_id").Should().BeFalse();
        sub["metadata"]!["otel"]!["attributes"]!["server.address"]!.GetValue<string>().Should().Be("service-c");
        sub["metadata"]!["otel"]!.AsObject().ContainsKey("resource").Should().BeFalse();
        sub["metadata"]!["otel"]!["attributes"]!.AsObject().ContainsKey("url.full").Should().BeFalse();
        sub["subsegments"]!.AsArray().Single()!["name"]!.GetValue<string>().Should().Be("render");
        Convert(builder).Documents.Single().Spans.Should().Be(3);
    }

    [Fact]
    public void Convert_OldHttpNamesOnAServerSpan_ComposeTheUrl()
    {
        var builder = OtlpTraceBuilder.Trace();
        builder.Span("GET /a", OtlpSpanKind.Server)
            .With("http.method", "POST").With("http.scheme", "https").With("http.host", "api.example.com").With("http.target", "/a?b=c")
            .With("http.status_code", "201").With("http.client_ip", "10.1.2.3").With("http.user_agent", "curl");

        var http = Only(Convert(builder))["http"]!;

        http["request"]!["method"]!.GetValue<string>().Should().Be("POST");
        http["request"]!["url"]!.GetValue<string>().Should().Be("https://api.example.com/a?b=c");
        http["request"]!["client_ip"]!.GetValue<string>().Should().Be("10.1.2.3");
        http["request"]!["x_forwarded_for"]!.GetValue<bool>().Should().BeTrue();
        http["request"]!["user_agent"]!.GetValue<string>().Should().Be("curl");
        http["response"]!["status"]!.GetValue<int>().Should().Be(201);
    }

    [Theory]
    [InlineData(404L, OtlpStatusCode.Error, true, false, false)]
    [InlineData(429L, OtlpStatusCode.Error, true, true, false)]
    [InlineData(503L, OtlpStatusCode.Unset, false, false, true)]
    [InlineData(200L, OtlpStatusCode.Error, false, false, true)]
    [InlineData(null, OtlpStatusCode.Error, false, false, true)]
    [InlineData(null, OtlpStatusCode.Ok, false, false, false)]
    public void Convert_Flags_FollowTheHttpStatusFirst(long? status, OtlpStatusCode code, bool error, bool throttle, bool fault)
    {
        var builder = OtlpTraceBuilder.Trace();
        var server = builder.Span("GET /", OtlpSpanKind.Server);
        var client = builder.Span("GET", OtlpSpanKind.Client, server).WithStatus(code);
        if (status is { } s)
        {
            client.With("http.status_code", s).With("http.method", "GET");
        }

        var sub = Only(Convert(builder))["subsegments"]![0]!.AsObject();

        (sub["error"]?.GetValue<bool>() ?? false).Should().Be(error);
        (sub["throttle"]?.GetValue<bool>() ?? false).Should().Be(throttle);
        (sub["fault"]?.GetValue<bool>() ?? false).Should().Be(fault);
    }

    [Fact]
    public void Convert_ClientWhoseParentIsElsewhere_IsAnIndependentSubsegment()
    {
        var builder = OtlpTraceBuilder.Trace();
        var parent = builder.NewSpanId();
        builder.RemoteChild("GET", OtlpSpanKind.Client, parent).With("http.method", "GET").With("http.url", "http://x/");

        var json = Only(Convert(builder));

        json["type"]!.GetValue<string>().Should().Be("subsegment");
        json["parent_id"]!.GetValue<string>().Should().Be(System.Convert.ToHexStringLower(parent));
        json["trace_id"]!.GetValue<string>().Should().Be(builder.XRayTraceId);
        json["namespace"]!.GetValue<string>().Should().Be("remote");
        json["metadata"]!["otel"]!["resource"]!.Should().NotBeNull();
    }

    [Fact]
    public void Convert_ChildOfAnotherServiceInTheSameRequest_IsNotNestedAcrossServices()
    {
        var builder = OtlpTraceBuilder.Trace("service-a");
        var server = builder.Span("GET /", OtlpSpanKind.Server);
        builder.Service("service-b");
        builder.Span("work", OtlpSpanKind.Internal, server);

        var conversion = Convert(builder);

        conversion.Documents.Should().HaveCount(2);
        conversion.Documents.Select(Json).Should().ContainSingle(j => j["type"] != null && j["type"]!.GetValue<string>() == "subsegment");
    }

    [Fact]
    public void Convert_SqlSpans_GetASqlBlockFromOldAndStableNames()
    {
        var builder = OtlpTraceBuilder.Trace();
        var server = builder.Span("GET /", OtlpSpanKind.Server);
        builder.Span("q1", OtlpSpanKind.Client, server).With("db.system", "mysql").With("db.name", "shop").With("db.statement", "SELECT 1").With("db.user", "app").With("net.peer.name", "db1");
        builder.Span("q2", OtlpSpanKind.Client, server).With("db.system.name", "postgresql").With("db.namespace", "orders").With("db.query.text", "SELECT 2").With("server.address", "db2").With("server.port", 5432L);
        builder.Span("cache", OtlpSpanKind.Client, server).With("db.system", "redis");

        var subs = Only(Convert(builder))["subsegments"]!.AsArray();

        subs[0]!["name"]!.GetValue<string>().Should().Be("shop@db1");
        subs[0]!["sql"]!["database_type"]!.GetValue<string>().Should().Be("mysql");
        subs[0]!["sql"]!["url"]!.GetValue<string>().Should().Be("db1/shop");
        subs[0]!["sql"]!["user"]!.GetValue<string>().Should().Be("app");
        subs[0]!["sql"]!["sanitized_query"]!.GetValue<string>().Should().Be("SELECT 1");
        subs[1]!["name"]!.GetValue<string>().Should().Be("orders@db2");
        subs[1]!["sql"]!["url"]!.GetValue<string>().Should().Be("db2:5432/orders");
        subs[1]!["sql"]!["sanitized_query"]!.GetValue<string>().Should().Be("SELECT 2");
        subs[2]!.AsObject().ContainsKey("sql").Should().BeFalse();
    }

    [Fact]
    public void Convert_AwsSdkSpan_GetsAnAwsBlockAndTheAwsNamespace()
    {
        var builder = OtlpTraceBuilder.Trace();
        var server = builder.Span("GET /", OtlpSpanKind.Server);
        builder.Span("DynamoDB.GetItem", OtlpSpanKind.Client, server)
            .With("rpc.system", "aws-api").With("rpc.service", "DynamoDB").With("rpc.method", "GetItem").With("aws.region", "eu-west-1")
            .With("aws.request_id", "REQ1").With("aws.dynamodb.table_names", OtlpValue.FromArray([OtlpValue.FromString("orders")]));

        var sub = Only(Convert(builder))["subsegments"]![0]!;

        sub["name"]!.GetValue<string>().Should().Be("DynamoDB");
        sub["namespace"]!.GetValue<string>().Should().Be("aws");
        sub["aws"]!["operation"]!.GetValue<string>().Should().Be("GetItem");
        sub["aws"]!["region"]!.GetValue<string>().Should().Be("eu-west-1");
        sub["aws"]!["request_id"]!.GetValue<string>().Should().Be("REQ1");
        sub["aws"]!["table_name"]!.GetValue<string>().Should().Be("orders");
    }

    [Fact]
    public void Convert_ExceptionEvent_BecomesTheCauseWithItsStack()
    {
        var builder = OtlpTraceBuilder.Trace();
        builder.Span("GET /", OtlpSpanKind.Server).WithStatus(OtlpStatusCode.Error)
            .WithException("TypeError", "bad template", "TypeError: bad template\n    at render (/app/view.js:12:5)\n    at /app/index.js:40:3");

        var json = Only(Convert(builder));

        json["fault"]!.GetValue<bool>().Should().BeTrue();
        var exception = json["cause"]!["exceptions"]![0]!;
        exception["type"]!.GetValue<string>().Should().Be("TypeError");
        exception["message"]!.GetValue<string>().Should().Be("bad template");
        exception["id"]!.GetValue<string>().Should().MatchRegex("^[0-9a-f]{16}$");
        exception["stack"]![0]!["label"]!.GetValue<string>().Should().Be("render");
        exception["stack"]![0]!["path"]!.GetValue<string>().Should().Be("/app/view.js");
        exception["stack"]![0]!["line"]!.GetValue<int>().Should().Be(12);
        exception["stack"]![1]!["path"]!.GetValue<string>().Should().Be("/app/index.js");
        json["metadata"]!["otel"]!["events"]![0]!["attributes"]!["exception.stacktrace"]!.GetValue<string>().Should().StartWith("TypeError");
    }

    [Fact]
    public void Convert_Annotations_FromTheSpansListAndTheConfiguredKeys_WithSanitizedKeys()
    {
        var builder = OtlpTraceBuilder.Trace();
        builder.Span("GET /", OtlpSpanKind.Server)
            .With("aws.xray.annotations", OtlpValue.FromArray([OtlpValue.FromString("customer.tier")]))
            .With("customer.tier", "gold").With("order-count", 3L).With("other", "kept");

        var json = Only(Convert(builder, new OtlpConversionOptions { AnnotationKeys = ["order-count", "missing"] }));

        json["annotations"]!["customer_tier"]!.GetValue<string>().Should().Be("gold");
        json["annotations"]!["order_count"]!.GetValue<long>().Should().Be(3);
        var attributes = json["metadata"]!["otel"]!["attributes"]!.AsObject();
        attributes.Select(p => p.Key).Should().BeEquivalentTo("other");
    }

    [Fact]
    public void Convert_EverythingWithoutAnXRayField_IsKeptUnderMetadata()
    {
        var builder = OtlpTraceBuilder.Trace();
        var span = builder.Span("GET /", OtlpSpanKind.Server)
            .With("bytes", OtlpValue.FromBytes([1, 2])).With("nan", double.NaN).With("dup", "one").With("dup", "two")
            .With("map", OtlpValue.FromKeyValueList([new OtlpKeyValue("x", OtlpValue.FromInt(1))]));
        span.TraceState = "vendor=1";
        span.DroppedAttributesCount = 2;
        span.Events.Add(new OtlpEvent { Name = "note", TimeUnixNano = 5 });
        span.Links.Add(new OtlpLink { TraceId = builder.TraceId, SpanId = builder.NewSpanId(), TraceState = "l=1" });

        var otel = Only(Convert(builder))["metadata"]!["otel"]!;

        otel["trace_state"]!.GetValue<string>().Should().Be("vendor=1");
        otel["dropped_attributes_count"]!.GetValue<int>().Should().Be(2);
        otel["flags"]!.GetValue<int>().Should().Be(1);
        otel["attributes"]!["bytes"]!.GetValue<string>().Should().Be("AQI=");
        otel["attributes"]!["nan"]!.GetValue<string>().Should().Be("NaN");
        otel["attributes"]!["dup"]!.GetValue<string>().Should().Be("one");
        otel["attributes"]!["dup#2"]!.GetValue<string>().Should().Be("two");
        otel["attributes"]!["map"]!["x"]!.GetValue<int>().Should().Be(1);
        otel["events"]![0]!["name"]!.GetValue<string>().Should().Be("note");
        otel["events"]![0]!["time_unix_nano"]!.GetValue<string>().Should().Be("5");
        otel["links"]![0]!["trace_state"]!.GetValue<string>().Should().Be("l=1");
        otel["scope"]!["name"]!.GetValue<string>().Should().Be("test-scope");
    }

    [Theory]
    [InlineData("trace", OtlpSpanProblem.InvalidTraceId)]
    [InlineData("zero-trace", OtlpSpanProblem.InvalidTraceId)]
    [InlineData("span", OtlpSpanProblem.InvalidSpanId)]
    [InlineData("parent", OtlpSpanProblem.InvalidParentSpanId)]
    [InlineData("start", OtlpSpanProblem.MissingStartTime)]
    [InlineData("end", OtlpSpanProblem.EndBeforeStart)]
    public void Convert_BadIdsOrTimes_QuarantineTheSpanWithItsOriginal_AndKeepTheOthers(string broken, OtlpSpanProblem expected)
    {
        var builder = OtlpTraceBuilder.Trace();
        builder.Span("fine", OtlpSpanKind.Server);
        var bad = builder.Span("bad", OtlpSpanKind.Server);
        switch (broken)
        {
            case "trace": bad.TraceId = [1, 2, 3]; break;
            case "zero-trace": bad.TraceId = new byte[16]; break;
            case "span": bad.SpanId = []; break;
            case "parent": bad.ParentSpanId = [1, 2]; break;
            case "start": bad.StartTimeUnixNano = 0; break;
            default: bad.EndTimeUnixNano = bad.StartTimeUnixNano - 1; break;
        }

        var conversion = Convert(builder);

        conversion.Documents.Should().ContainSingle();
        var quarantined = conversion.Quarantined.Should().ContainSingle().Subject;
        quarantined.Problem.Should().Be(expected);
        var original = OtlpProtobufDecoder.Decode(quarantined.Original);
        original.Request!.AllSpans().Single().Span.Name.Should().Be("bad");
        original.Request.ResourceSpans.Single().Resource.Attributes.GetString("service.name").Should().Be("service-c");
    }

    [Fact]
    public void Convert_UnendedSpan_IsInProgress()
    {
        var builder = OtlpTraceBuilder.Trace();
        builder.Span("GET /", OtlpSpanKind.Server).EndTimeUnixNano = 0;

        var json = Only(Convert(builder));

        json["in_progress"]!.GetValue<bool>().Should().BeTrue();
        json.ContainsKey("end_time").Should().BeFalse();
    }

    [Fact]
    public void Convert_TraceLargerThanOneDocument_SplitsIntoValidDocumentsWithEverySpan()
    {
        var builder = OtlpTraceBuilder.Trace();
        var server = builder.Span("GET /", OtlpSpanKind.Server);
        for (var i = 0; i < 300; i++)
        {
            builder.Span("call " + i, OtlpSpanKind.Client, server).With("payload", new string('x', 400));
        }

        var conversion = Convert(builder);

        conversion.Quarantined.Should().BeEmpty();
        conversion.ConvertedSpans.Should().Be(301);
        conversion.Documents.Should().HaveCountGreaterThan(1);
        conversion.Documents.Should().OnlyContain(d => d.Document.Length <= SegmentLimits.XRayMaxDocumentBytes && SegmentValidator.ParseAndValidate(d.Document, Now, null, null).IsOk);
    }

    [Fact]
    public void Convert_DeepChainPastTheNestingLimit_DetachesTheRestAsIndependentSubsegments()
    {
        var builder = OtlpTraceBuilder.Trace();
        var parent = builder.Span("root", OtlpSpanKind.Server);
        for (var i = 0; i < 60; i++)
        {
            parent = builder.Span("level " + i, OtlpSpanKind.Internal, parent);
        }

        var conversion = Convert(builder);

        conversion.ConvertedSpans.Should().Be(61);
        conversion.Documents.Should().OnlyContain(d => SegmentValidator.ParseAndValidate(d.Document, Now, null, null).IsOk);
    }

    [Fact]
    public void Convert_SpanTooLargeForAnyDocument_IsQuarantinedAndItsChildrenKept()
    {
        var builder = OtlpTraceBuilder.Trace();
        var server = builder.Span("GET /", OtlpSpanKind.Server).With("huge", new string('x', 70_000));
        builder.Span("child", OtlpSpanKind.Internal, server);

        var conversion = Convert(builder);

        conversion.Quarantined.Should().ContainSingle().Which.Problem.Should().Be(OtlpSpanProblem.DocumentTooLarge);
        Json(conversion.Documents.Should().ContainSingle().Subject)["type"]!.GetValue<string>().Should().Be("subsegment");
    }

    [Fact]
    public void Convert_ParentCycle_StillAccountsForEverySpan()
    {
        var builder = OtlpTraceBuilder.Trace();
        var a = builder.RemoteChild("a", OtlpSpanKind.Internal, [1, 1, 1, 1, 1, 1, 1, 1]);
        var b = builder.Span("b", OtlpSpanKind.Internal, a);
        a.ParentSpanId = (byte[])b.SpanId.Clone();

        var conversion = Convert(builder);

        conversion.ConvertedSpans.Should().Be(2);
    }

    [Fact]
    public void Convert_JsExporterFixture_ConvertsEverySpanToOneValidDocument()
    {
        var request = OtlpProtobufDecoder.Decode(File.ReadAllBytes(Path.Combine(Pipeline.Testing.RepoPaths.Root, "tests", "Pipeline.Core.Tests", "Otlp", "Fixtures", "js-exporter.pb"))).Request!;

        var conversion = SpanConverter.Convert(request);

        var json = Json(conversion.Documents.Should().ContainSingle().Subject);
        SegmentValidator.ParseAndValidate(conversion.Documents[0].Document, DateTimeOffset.FromUnixTimeSeconds(1_732_960_100)).IsOk.Should().BeTrue();
        json["name"]!.GetValue<string>().Should().Be("service-c");
        json["origin"]!.GetValue<string>().Should().Be("AWS::EKS::Container");
        json["trace_id"]!.GetValue<string>().Should().Be("1-674a1e00-0123456789abcdef01234567");
        json["http"]!["request"]!["url"]!.GetValue<string>().Should().Be("http://service-c:8080/items/42?q=1");
        json["annotations"]!["customer_tier"]!.GetValue<string>().Should().Be("gold");
        var subs = json["subsegments"]!.AsArray();
        subs.Select(s => s!["name"]!.GetValue<string>()).Should().Equal("inventory", "shop@db.internal", "render");
        subs[0]!["error"]!.GetValue<bool>().Should().BeTrue();
        subs[0]!.AsObject().ContainsKey("fault").Should().BeFalse();
        subs[2]!["fault"]!.GetValue<bool>().Should().BeTrue();
        subs[2]!["cause"]!["exceptions"]![0]!["type"]!.GetValue<string>().Should().Be("TypeError");
    }
}
