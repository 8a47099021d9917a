using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Otlp;
using Pipeline.IntegrationTests.Otel;
using Pipeline.LocalAws.Stack;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.IntegrationTests.LocalMode;

/// <summary>
/// OpenTelemetry into `./pipeline up`: the real OpenTelemetry JS SDK (tests/otel-js, installed by
/// tests/setup) exporting over http/protobuf and http/json, plain and gzip, to the built relay
/// binary's OTLP/HTTP receiver, through moto Kinesis and the ingest into the archive, checked span
/// by span; `pipeline send --otlp`; spans with bad ids or times refused with their reasons
/// (partial_success) while the valid spans of the same request are archived.
/// </summary>
[Collection(LocalModeGroup.Name)]
public sealed class LocalModeOtlpTests
{
    private static readonly TimeSpan ArchiveTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task UpOtlp_RealJsSdkOverProtobufAndJson_PlainAndGzip_EverySpanArchivedOnceAndConverted()
    {
        await using var up = await PipelineUp.StartAsync([]);
        var endpoint = up.Stack!.Relay.OtlpEndpoint;
        endpoint.Should().StartWith("http://127.0.0.1:", "stack.json records OTEL_EXPORTER_OTLP_ENDPOINT\n" + up.Output);
        up.Stack.Relay.OtlpHttp.Should().Be(endpoint!["http://".Length..]);
        up.Output.Should().Contain("OTEL_EXPORTER_OTLP_ENDPOINT").And.Contain(endpoint);

        var runs = new List<(string Protocol, string Compression, List<ExportedSpan> Spans)>();
        foreach (var (protocol, compression) in new[] { ("http/protobuf", "none"), ("http/json", "none"), ("http/protobuf", "gzip"), ("http/json", "gzip") })
        {
            var spans = await OtelJs.ExportAsync(endpoint!, protocol, compression, "trace");
            spans.Should().HaveCount(5);
            runs.Add((protocol, compression, spans));
        }

        // OTLP/gRPC too: `up` records and prints the gRPC receiver, and the SDK's gRPC exporter
        // (tests/otel-js/export-grpc.js) delivers into the same archive.
        var grpc = StackRelay.GrpcEndpointOf(up.Stack.Relay.OtlpGrpc);
        grpc.Should().StartWith("http://127.0.0.1:", "stack.json records the OTLP/gRPC receiver\n" + up.Output);
        up.Output.Should().Contain("OTLP/gRPC").And.Contain(grpc);
        var grpcSpans = await ExportGrpcAsync(grpc!, traces: 10);
        grpcSpans.Should().HaveCount(20);

        var (sendCode, sendOut, sendError) = await PipelineUp.RunAsync(["send", "--otlp", "--traces", "30", "--segments", "3", "--print-trace-ids", "--state-dir", up.StateDir], TimeSpan.FromMinutes(2));
        sendCode.Should().Be(0, sendError);
        var sentTraces = sendOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        sentTraces.Should().HaveCount(30);

        var expectedIds = runs.SelectMany(r => r.Spans).Select(s => s.SpanId).Concat(grpcSpans).ToHashSet(StringComparer.Ordinal);
        var archived = await up.WaitForArchiveAsync(
            s => expectedIds.IsSubsetOf(ArchiveEntities.Of(s).Select(e => e.Id)) && sentTraces.IsSubsetOf(s.Select(ArchiveEntities.TraceId).OfType<string>()),
            ArchiveTimeout);
        var entities = ArchiveEntities.Of(archived);

        foreach (var spanId in grpcSpans)
        {
            entities.Count(e => e.Id == spanId).Should().Be(1, $"gRPC span {spanId} is archived exactly once\n{up.Output}");
        }

        foreach (var (protocol, compression, spans) in runs)
        {
            var because = $"{protocol} {compression}\n{up.Output}";
            foreach (var span in spans)
            {
                entities.Count(e => e.Id == span.SpanId).Should().Be(1, $"span {span.SpanId} ({span.Name}) is archived exactly once ({because})");
            }

            var root = spans.Single(s => s.ParentSpanId is null);
            var segment = entities.Single(e => e.Id == root.SpanId);
            segment.Parent.Should().BeNull();
            segment.TraceId.Should().Be(OtlpIds.ToXRayTraceId(Convert.FromHexString(root.TraceId)), "the W3C id in X-Ray form");
            segment.Element.GetProperty("name").GetString().Should().Be("otel-js-test", "a SERVER span is a segment named by service.name");
            var http = segment.Element.GetProperty("http");
            http.GetProperty("request").GetProperty("method").GetString().Should().Be("GET");
            http.GetProperty("request").GetProperty("url").GetString().Should().Be("http://shop:8080/items/42");
            http.GetProperty("request").GetProperty("client_ip").GetString().Should().Be("10.0.0.7");
            http.GetProperty("response").GetProperty("status").GetInt32().Should().Be(200);
            Flags(segment.Element).Should().Be((false, false, false));
            segment.Element.GetProperty("aws").GetProperty("xray").GetProperty("sdk").GetString().Should().Be("opentelemetry for nodejs");

            var children = spans.Where(s => s.ParentSpanId is not null).ToList();
            children.Should().OnlyContain(s => s.ParentSpanId == root.SpanId);
            foreach (var child in children)
            {
                var sub = entities.Single(e => e.Id == child.SpanId);
                sub.Parent.Should().Be(root.SpanId, "a child in the same request is nested in its parent's document");
                sub.TraceId.Should().Be(segment.TraceId);
            }

            var byName = children.ToDictionary(c => entities.Single(e => e.Id == c.SpanId).Element.GetProperty("name").GetString()!, c => entities.Single(e => e.Id == c.SpanId).Element);
            byName.Keys.Should().BeEquivalentTo(["inventory", "pricing", "payments", "render"], because);
            Flags(byName["inventory"]).Should().Be((true, false, false), "a CLIENT span with status ERROR and a 404 is an error, not a fault");
            Flags(byName["pricing"]).Should().Be((true, false, true), "429 is error + throttle");
            Flags(byName["payments"]).Should().Be((false, true, false), "503 is a fault");
            Flags(byName["render"]).Should().Be((false, true, false), "status ERROR without an HTTP status is a fault");
            byName["inventory"].GetProperty("namespace").GetString().Should().Be("remote");
            byName["inventory"].GetProperty("http").GetProperty("request").GetProperty("url").GetString().Should().Be("http://inventory:9000/stock/42");
            byName["inventory"].GetProperty("http").GetProperty("response").GetProperty("status").GetInt32().Should().Be(404);
            byName["payments"].GetProperty("http").GetProperty("request").GetProperty("method").GetString().Should().Be("POST");
            byName["render"].TryGetProperty("http", out _).Should().BeFalse();
        }

        // pipeline send --otlp: otel-svc-0 -> otel-svc-1 -> otel-svc-2 per trace, each a segment.
        foreach (var traceId in sentTraces)
        {
            archived.Where(s => ArchiveEntities.TraceId(s) == traceId).Select(s => s.GetProperty("name").GetString())
                .Should().BeEquivalentTo(["otel-svc-0", "otel-svc-1", "otel-svc-2"]);
        }

        var (statusCode, status, _) = await PipelineUp.RunAsync(["status", "--state-dir", up.StateDir], TimeSpan.FromMinutes(2));
        statusCode.Should().Be(0);
        status.Should().Contain("OTEL_EXPORTER_OTLP_ENDPOINT").And.Contain(endpoint);

        (await up.TerminateAsync(StopTimeout)).Should().Be(0, up.Output);
    }

    [Fact]
    public async Task UpOtlp_BadIdsAndTimes_RefusedWithReasons_ValidSpansOfTheSameRequestArchived()
    {
        await using var up = await PipelineUp.StartAsync([]);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var traces = new Uri($"{up.Stack!.Relay.OtlpEndpoint}/v1/traces");
        var now = DateTimeOffset.UtcNow;

        var protobuf = OtlpTraceBuilder.Trace("otlp-mixed-proto", seed: 1701, start: now);
        var root = protobuf.Span("GET /mixed", OtlpSpanKind.Server);
        var kept = protobuf.Span("SELECT", OtlpSpanKind.Client, root).With("db.system.name", "postgresql").With("db.query.text", "SELECT 1");
        protobuf.Span("zero trace id", OtlpSpanKind.Internal, root).TraceId = new byte[16];
        protobuf.Span("short span id", OtlpSpanKind.Internal, root).SpanId = [1, 2, 3, 4];
        var backwards = protobuf.Span("ends before it starts", OtlpSpanKind.Internal, root);
        (backwards.StartTimeUnixNano, backwards.EndTimeUnixNano) = (backwards.EndTimeUnixNano, backwards.StartTimeUnixNano);

        var protoAnswer = await PostAsync(http, traces, protobuf.ToProtobuf(), "application/x-protobuf");
        protoAnswer.Status.Should().Be(200, protoAnswer.Text);
        OtlpResponse.Read(protoAnswer.Body, out var rejected, out var message).Should().BeTrue();
        rejected.Should().Be(3);
        message.Should().Contain("otlp_invalid_trace_id").And.Contain("otlp_invalid_span_id").And.Contain("otlp_end_before_start");

        var json = OtlpTraceBuilder.Trace("otlp-mixed-json", seed: 1702, start: now);
        var jsonRoot = json.Span("GET /mixed-json", OtlpSpanKind.Server);
        json.Span("no start time", OtlpSpanKind.Internal, jsonRoot).StartTimeUnixNano = 0;
        var jsonAnswer = await PostAsync(http, traces, TestGzip.Compress(Encoding.UTF8.GetBytes(json.ToJson("otlp-mixed-json"))), "application/json", "gzip");
        jsonAnswer.Status.Should().Be(200, jsonAnswer.Text);
        using (var doc = JsonDocument.Parse(jsonAnswer.Text))
        {
            var partial = doc.RootElement.GetProperty("partialSuccess");
            partial.GetProperty("rejectedSpans").GetString().Should().Be("1");
            partial.GetProperty("errorMessage").GetString().Should().Contain("otlp_missing_start_time");
        }

        var wanted = new[] { OtlpIds.ToEntityId(root.SpanId), OtlpIds.ToEntityId(kept.SpanId), OtlpIds.ToEntityId(jsonRoot.SpanId) };
        var archived = await up.WaitForArchiveAsync(s => wanted.All(ArchiveEntities.Of(s).Select(e => e.Id).Contains), ArchiveTimeout);
        var entities = ArchiveEntities.Of(archived);
        entities.Select(e => e.Id).Should().Contain(wanted, "the valid spans of a request with refused ones are kept\n" + up.Output);
        var sql = entities.Single(e => e.Id == OtlpIds.ToEntityId(kept.SpanId));
        sql.Parent.Should().Be(OtlpIds.ToEntityId(root.SpanId));
        sql.Element.GetProperty("sql").GetProperty("database_type").GetString().Should().NotBeNullOrEmpty();
        entities.Where(e => e.TraceId == protobuf.XRayTraceId).Should().HaveCount(2, "the refused spans of the trace are not archived");
        entities.Where(e => e.TraceId == json.XRayTraceId).Should().ContainSingle();

        var metrics = await http.GetStringAsync(new Uri(up.Stack.MetricsUrl), TestContext.Current.CancellationToken);
        foreach (var reason in new[] { "otlp_invalid_trace_id", "otlp_invalid_span_id", "otlp_end_before_start", "otlp_missing_start_time" })
        {
            metrics.Should().Contain($"xray_relay_otlp_spans_refused_total{{reason=\"{reason}\"}} 1", "each refusal is counted by reason");
        }

        // The receiver still serves after refusing spans and undecodable bodies.
        (await PostAsync(http, traces, [0x0A, 0xFF, 0xFF], "application/x-protobuf")).Status.Should().Be(400);
        (await PostAsync(http, traces, "{}"u8.ToArray(), "text/plain")).Status.Should().Be(415);
        var after = OtlpTraceBuilder.Trace("otlp-after", seed: 1703, start: now);
        var afterRoot = after.Span("GET /after", OtlpSpanKind.Server);
        (await PostAsync(http, traces, after.ToProtobuf(), "application/x-protobuf")).Status.Should().Be(200);
        var afterId = OtlpIds.ToEntityId(afterRoot.SpanId);
        (await up.WaitForArchiveAsync(s => ArchiveEntities.Of(s).Any(e => e.Id == afterId), ArchiveTimeout))
            .Should().Contain(s => ArchiveEntities.TraceId(s) == after.XRayTraceId);

        (await up.TerminateAsync(StopTimeout)).Should().Be(0, up.Output);
    }

    private static (bool Error, bool Fault, bool Throttle) Flags(JsonElement e) => (Flag(e, "error"), Flag(e, "fault"), Flag(e, "throttle"));

    private static bool Flag(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static async Task<(int Status, byte[] Body, string Text)> PostAsync(HttpClient http, Uri url, byte[] body, string contentType, string? encoding = null)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        using var response = await http.PostAsync(url, content, TestContext.Current.CancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, bytes, Encoding.UTF8.GetString(bytes));
    }

    /// <summary>Runs tests/otel-js/export-grpc.js (the real SDK's gRPC exporter) against <paramref name="endpoint"/>; the span ids it exported (in X-Ray entity form).</summary>
    private static async Task<List<string>> ExportGrpcAsync(string endpoint, int traces)
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "otel-js");
        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, ArgumentList = { "export-grpc.js", traces.ToString(CultureInfo.InvariantCulture) } };
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint;
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = node.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        await node.WaitForExitAsync(timeout.Token);
        var output = await stdout;
        node.ExitCode.Should().Be(0, $"every gRPC export succeeds\n{output}\n{await stderr}");
        var ids = new List<string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.TryGetProperty("span", out var span))
            {
                ids.Add(span.GetProperty("spanId").GetString()!);
            }
        }

        return ids;
    }
}

/// <summary>Every entity (segment or subsegment, nested or independent) of archived documents, with its parent.</summary>
internal static class ArchiveEntities
{
    public sealed record Entity(string Id, string? Parent, string? TraceId, JsonElement Element);

    public static List<Entity> Of(IEnumerable<JsonElement> documents)
    {
        var entities = new List<Entity>();
        foreach (var document in documents)
        {
            var traceId = TraceId(document);
            Walk(document, document.TryGetProperty("parent_id", out var p) ? p.GetString() : null, traceId, entities);
        }

        return entities;
    }

    public static string? TraceId(JsonElement s) => s.TryGetProperty("trace_id", out var t) ? t.GetString() : null;

    private static void Walk(JsonElement entity, string? parent, string? traceId, List<Entity> into)
    {
        var id = entity.TryGetProperty("id", out var i) ? i.GetString() : null;
        if (id is null)
        {
            return;
        }

        into.Add(new Entity(id, parent, traceId, entity));
        if (entity.TryGetProperty("subsegments", out var subs) && subs.ValueKind == JsonValueKind.Array)
        {
            foreach (var sub in subs.EnumerateArray())
            {
                Walk(sub, id, traceId, into);
            }
        }
    }
}

/// <summary>Reads ExportTraceServiceResponse.partial_success (field 1: rejected_spans = 1, error_message = 2).</summary>
internal static class OtlpResponse
{
    public static bool Read(ReadOnlySpan<byte> body, out long rejected, out string message)
    {
        rejected = 0;
        message = "";
        if (body.IsEmpty)
        {
            return true;
        }

        // One partial_success message: tag 0x0A, a length, then its fields.
        if (body[0] != 0x0A || !Varint(ref body, skip: 1, out var length) || (int)length != body.Length)
        {
            return false;
        }

        while (!body.IsEmpty)
        {
            var tag = body[0];
            if (tag == 0x08 && Varint(ref body, skip: 1, out var n))
            {
                rejected = (long)n;
            }
            else if (tag == 0x12 && Varint(ref body, skip: 1, out var len) && (int)len <= body.Length)
            {
                message = Encoding.UTF8.GetString(body[..(int)len]);
                body = body[(int)len..];
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    private static bool Varint(ref ReadOnlySpan<byte> body, int skip, out ulong value)
    {
        body = body[skip..];
        value = 0;
        for (var shift = 0; shift < 64 && !body.IsEmpty; shift += 7)
        {
            var b = body[0];
            body = body[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }
}
