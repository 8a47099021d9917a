using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Pipeline.Aws;
using Pipeline.Core.Otlp;
using Pipeline.IntegrationTests.Aws;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>
/// OTLP/gRPC into the built relay binary from a real gRPC client (Grpc.Net.Client, h2c) and out on
/// moto Kinesis: identity and gzip exports arrive span for span keyed by the trace id in X-Ray form;
/// hostile HTTP/2 and an undecodable message are refused and the relay keeps serving gRPC and UDP.
/// </summary>
public sealed class RelayOtlpGrpcTests(MotoFixture moto) : IDisposable
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);
    private static readonly Method<byte[], byte[]> Export = new(MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", Bytes, Bytes);

    private readonly AwsClients _aws = MotoAws.Clients(moto);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => _aws.Dispose();

    private async Task<string> NewStreamAsync()
    {
        var stream = MotoFixture.UniqueName("otlpgrpc");
        await _aws.Kinesis.CreateStreamAsync(stream, 2, _ct);
        return stream;
    }

    private static GrpcChannel Channel(RelayProcess relay) =>
        GrpcChannel.ForAddress($"http://{relay.OtlpGrpcEndpoint}", new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { UseProxy = false } });

    private async Task<List<(string Key, string TraceId, string SpanId, string Name)>> SpansOnStreamAsync(string stream, int expected)
    {
        var spans = new List<(string, string, string, string)>();
        await RelayData.WaitUntilAsync(async () =>
        {
            spans.Clear();
            foreach (var (_, record) in await RelayData.ReadAllAsync(_aws.Kinesis, stream))
            {
                if (OtlpRecord.TryRead(record.Data, out var payload) != OtlpRecordStatus.Ok)
                {
                    continue;
                }

                var decoded = OtlpProtobufDecoder.Decode(payload.Span);
                decoded.IsOk.Should().BeTrue();
                spans.AddRange(decoded.Request!.AllSpans().Select(s => (record.PartitionKey, OtlpIds.ToXRayTraceId(s.Span.TraceId), OtlpIds.ToEntityId(s.Span.SpanId), s.Span.Name)));
            }

            return spans.Count >= expected;
        }, TimeSpan.FromSeconds(60));
        return spans;
    }

    [Fact]
    public async Task Relay_GrpcExportsIdentityAndGzip_ArriveSpanForSpanKeyedByTraceId()
    {
        var stream = await NewStreamAsync();
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream));
        relay.OtlpGrpcEndpoint.Should().NotBeNull();
        var plain = OtlpTraceBuilder.Trace("service-c", seed: 201);
        var root = plain.Span("GET /price", OtlpSpanKind.Server);
        plain.Span("price lookup", OtlpSpanKind.Client, root);
        var zipped = OtlpTraceBuilder.Trace("service-d", seed: 202);
        zipped.Span("POST /order", OtlpSpanKind.Server).With("payload", new string('p', 5000));
        using var channel = Channel(relay);
        var invoker = channel.CreateCallInvoker();

        await invoker.AsyncUnaryCall(Export, null, new CallOptions(cancellationToken: _ct), plain.ToProtobuf());
        await invoker.AsyncUnaryCall(Export, null, new CallOptions(new Metadata { { "grpc-internal-encoding-request", "gzip" } }, cancellationToken: _ct), zipped.ToProtobuf());
        var spans = await SpansOnStreamAsync(stream, 3);

        var expected = new[] { plain, zipped }
            .SelectMany(t => t.Build().AllSpans().Select(s => (t.XRayTraceId, t.XRayTraceId, OtlpIds.ToEntityId(s.Span.SpanId), s.Span.Name)));
        spans.Should().BeEquivalentTo(expected, "every span once, keyed by its trace id in X-Ray form");
        (await relay.MetricAsync("xray_relay_otlp_spans_accepted_total")).Should().Be(3);
        (await relay.MetricAsync("xray_relay_otlp_grpc_responses_total{code=\"0\"}")).Should().Be(2);
        (await relay.TerminateAsync(TimeSpan.FromSeconds(20))).Should().Be(0, relay.Stdout);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("gzip")]
    public async Task Relay_OtelJsGrpcExporter_DeliversEverySpanOnceKeyedByTraceId(string? compression)
    {
        var stream = await NewStreamAsync();
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream));

        var (exit, spans, exports) = await RunOtelJsAsync(relay, traces: 150, compression);
        var onStream = await SpansOnStreamAsync(stream, spans.Count);

        exit.Should().Be(0, string.Join('\n', exports));
        spans.Should().HaveCount(300);
        onStream.Should().BeEquivalentTo(
            spans.Select(s => (XRay(s.TraceId), XRay(s.TraceId), s.SpanId, s.Name)),
            "every span the SDK made is on the stream once, keyed by its trace id in X-Ray form");
        (await relay.MetricAsync("xray_relay_otlp_spans_accepted_total")).Should().Be(300);
        (await relay.MetricAsync("xray_relay_otlp_grpc_http2_connections_total")).Should().BeGreaterThan(0);

        static string XRay(string hex) => $"1-{hex[..8]}-{hex[8..]}";
    }

    /// <summary>Runs tests/otel-js/export-grpc.js (the real SDK and its gRPC exporter) against the relay: its exit code, the spans it made, its export outcomes.</summary>
    private async Task<(int Exit, List<(string TraceId, string SpanId, string Name)> Spans, List<string> Exports)> RunOtelJsAsync(RelayProcess relay, int traces, string? compression)
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "otel-js");
        Directory.Exists(Path.Combine(dir, "node_modules", "@opentelemetry", "exporter-trace-otlp-grpc"))
            .Should().BeTrue("tests/setup installs tests/otel-js (npm ci) with the OTLP gRPC exporter");
        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, ArgumentList = { "export-grpc.js", traces.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://{relay.OtlpGrpcEndpoint}";
        if (compression is not null)
        {
            start.Environment["OTEL_EXPORTER_OTLP_COMPRESSION"] = compression;
        }

        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync(_ct);
        var stderr = node.StandardError.ReadToEndAsync(_ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        await node.WaitForExitAsync(timeout.Token);
        var spans = new List<(string, string, string)>();
        var exports = new List<string> { await stderr };
        foreach (var line in (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.TryGetProperty("span", out var span))
            {
                spans.Add((span.GetProperty("traceId").GetString()!, span.GetProperty("spanId").GetString()!, span.GetProperty("name").GetString()!));
            }
            else
            {
                exports.Add(line);
            }
        }

        return (node.ExitCode, spans, exports);
    }

    [Fact]
    public async Task Relay_HostileHttp2AndBadMessages_AreRefusedAndTheRelayKeepsServingGrpcAndUdp()
    {
        var stream = await NewStreamAsync();
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream));

        // A CONTINUATION flood, a frame over 16 KiB and a garbage preface, each on its own connection.
        await SendRawAsync(relay, [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, .. Frame(4, 0, 0, []), .. Frame(1, 0, 1, [0x83, 0x86]), .. Enumerable.Range(0, 200).SelectMany(_ => Frame(9, 0, 1, []))]);
        await SendRawAsync(relay, [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, .. Frame(4, 0, 0, []), .. Frame(0, 0, 1, new byte[20_000])]);
        await SendRawAsync(relay, [.. "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"u8]);
        using var channel = Channel(relay);
        var invoker = channel.CreateCallInvoker();
        var malformed = () => invoker.AsyncUnaryCall(Export, null, new CallOptions(cancellationToken: _ct), [0x0A, 0xFF, 0xFF]).ResponseAsync;
        (await malformed.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.InvalidArgument);
        var good = OtlpTraceBuilder.Trace("service-c", seed: 203);
        good.Span("GET /after", OtlpSpanKind.Server);
        await invoker.AsyncUnaryCall(Export, null, new CallOptions(cancellationToken: _ct), good.ToProtobuf());
        relay.Send([RelayData.Datagram(1, 1)]);

        var records = await RelayData.WaitForRecordsAsync(_aws.Kinesis, stream, 2);
        records.Select(r => r.Record.PartitionKey).Should().BeEquivalentTo(good.XRayTraceId, RelayData.TraceId(1));
        (await relay.MetricAsync("xray_relay_otlp_grpc_http2_refused_total{reason=\"header_block_too_large\"}")).Should().Be(1);
        (await relay.MetricAsync("xray_relay_otlp_grpc_http2_refused_total{reason=\"frame_size\"}")).Should().Be(1);
        (await relay.MetricAsync("xray_relay_otlp_grpc_http2_refused_total{reason=\"bad_preface\"}")).Should().Be(1);
        (await relay.MetricAsync("xray_relay_otlp_grpc_responses_total{code=\"3\"}")).Should().Be(1);
        (await relay.MetricAsync("xray_relay_accepted_segments_total")).Should().Be(1, "UDP still served");
    }

    private static byte[] Frame(byte type, byte flags, int stream, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream);
        payload.CopyTo(frame, 9);
        return frame;
    }

    /// <summary>Writes the bytes and reads until the relay closes the connection (bounded by a timeout).</summary>
    private async Task SendRawAsync(RelayProcess relay, byte[] bytes)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(relay.OtlpGrpcEndpoint!, _ct);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(bytes, _ct);
        }
        catch (IOException)
        {
            // The relay closed mid-flood; what it answered is still readable.
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // Reset after the GOAWAY: closed all the same.
        }
    }
}
