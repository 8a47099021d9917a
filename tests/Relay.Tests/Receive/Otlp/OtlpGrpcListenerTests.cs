using System.Net;
using System.Net.Http;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Pipeline.Core.Otlp;
using Pipeline.Testing.Builders;
using Relay.Http.Http2;
using Relay.Receive.Otlp;
using Relay.Tests.Support;

namespace Relay.Tests.Receive.Otlp;

/// <summary>
/// OTLP/gRPC served by the relay host, called by a real gRPC client (Grpc.Net.Client over h2c) and by
/// raw frames: what an exporter sees, end to the fake Kinesis, and that hostile HTTP/2 leaves the
/// relay serving UDP.
/// </summary>
public sealed class OtlpGrpcListenerTests
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    /// <summary>TraceService/Export with the messages as bytes: the OTLP codec under test is ours, not generated code.</summary>
    private static readonly Method<byte[], byte[]> Export = new(MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", Bytes, Bytes);

    private readonly FakeKinesis _kinesis = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private static Relay.Config.RelayOptions Options() => TestRelay.Options() with
    {
        Otlp = TestRelay.Options().Otlp with { GrpcEndpoint = new IPEndPoint(IPAddress.Loopback, 0) },
    };

    private static GrpcChannel Channel(IPEndPoint endpoint) =>
        GrpcChannel.ForAddress($"http://{endpoint}", new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { UseProxy = false } });

    [Fact]
    public async Task Export_FromAGrpcClient_IsPutOnTheStreamKeyedByTheXRayTraceId()
    {
        await using var host = await TestRelay.StartAsync(Options(), _kinesis);
        var trace = OtlpTraceBuilder.Trace("service-c", seed: 21);
        var server = trace.Span("GET /price", OtlpSpanKind.Server);
        trace.Span("price lookup", OtlpSpanKind.Internal, server);
        using var channel = Channel(host.OtlpGrpcEndpoint!);

        var response = await channel.CreateCallInvoker().AsyncUnaryCall(Export, null, new CallOptions(cancellationToken: _ct), trace.ToProtobuf());
        await TestRelay.WaitUntilAsync(() => host.Metrics.ForwardedRecords >= 1);

        response.Should().BeEmpty("an ExportTraceServiceResponse without partial_success");
        var record = _kinesis.Stored.Should().ContainSingle().Subject;
        record.PartitionKey.Should().Be(trace.XRayTraceId);
        OtlpRecordReader.Read(record.Data).Spans.Should().Be(2);
        host.Metrics.Otlp.SpansAccepted.Should().Be(2);
        host.Metrics.Otlp.GrpcStatus(OtlpGrpcReceiver.StatusOk).Should().Be(1);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var metrics = await http.GetStringAsync(new Uri($"http://{host.MetricsEndpoint}/metrics"), _ct);
        metrics.Should().Contain("xray_relay_otlp_grpc_responses_total{code=\"0\"} 1")
            .And.Contain("xray_relay_otlp_grpc_http2_streams_total 1")
            .And.Contain($"xray_relay_http_requests_total{{listener=\"{OtlpGrpcListener.Name}\"}} 1");
    }

    [Fact]
    public async Task Export_GzipCompressed_IsDecompressedAndBuffered()
    {
        await using var host = await TestRelay.StartAsync(Options(), _kinesis);
        var trace = OtlpTraceBuilder.Trace(seed: 22);
        trace.Span("compressed", OtlpSpanKind.Server).With("payload", new string('z', 20_000));
        using var channel = Channel(host.OtlpGrpcEndpoint!);
        var headers = new Metadata { { "grpc-internal-encoding-request", "gzip" } };

        await channel.CreateCallInvoker().AsyncUnaryCall(Export, null, new CallOptions(headers, cancellationToken: _ct), trace.ToProtobuf());
        await TestRelay.WaitUntilAsync(() => host.Metrics.ForwardedRecords >= 1);

        _kinesis.Stored.Should().ContainSingle().Which.PartitionKey.Should().Be(trace.XRayTraceId);
    }

    [Fact]
    public async Task Export_WithSpansThatCannotBeKeyed_AnswersPartialSuccessAndKeepsTheRest()
    {
        await using var host = await TestRelay.StartAsync(Options(), _kinesis);
        var trace = OtlpTraceBuilder.Trace(seed: 23);
        trace.Span("good", OtlpSpanKind.Server);
        trace.Span("bad id", OtlpSpanKind.Internal).SpanId = new byte[8];
        using var channel = Channel(host.OtlpGrpcEndpoint!);

        var response = await channel.CreateCallInvoker().AsyncUnaryCall(Export, null, new CallOptions(cancellationToken: _ct), trace.ToProtobuf());

        // ExportTraceServiceResponse.partial_success (1) { rejected_spans (1) = 1, error_message (2) }.
        var partial = ReadField(response, 1);
        partial.Should().NotBeNull();
        ReadVarint(partial!, 1).Should().Be(1);
        host.Metrics.Otlp.SpansAccepted.Should().Be(1);
    }

    [Fact]
    public async Task Export_Undecodable_IsInvalidArgument()
    {
        await using var host = await TestRelay.StartAsync(Options(), _kinesis);
        using var channel = Channel(host.OtlpGrpcEndpoint!);

        var act = () => channel.CreateCallInvoker().AsyncUnaryCall(Export, null, new CallOptions(cancellationToken: _ct), [0x0a, 0xff, 0xff]).ResponseAsync;

        (await act.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Call_ToAnotherMethod_IsUnimplemented()
    {
        await using var host = await TestRelay.StartAsync(Options(), _kinesis);
        using var channel = Channel(host.OtlpGrpcEndpoint!);
        var other = new Method<byte[], byte[]>(MethodType.Unary, "opentelemetry.proto.collector.metrics.v1.MetricsService", "Export", Bytes, Bytes);

        var act = () => channel.CreateCallInvoker().AsyncUnaryCall(other, null, new CallOptions(cancellationToken: _ct), []).ResponseAsync;

        (await act.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unimplemented);
    }

    [Fact]
    public async Task Export_WhenTheBufferIsFull_IsUnavailableWithRetryInfo()
    {
        // Kinesis hangs, so the first request's record stays charged to the 1 MB buffer.
        _kinesis.Hang = _ => true;
        await using var host = await TestRelay.StartAsync(Options() with { BufferMemoryMb = 1 }, _kinesis);
        using var channel = Channel(host.OtlpGrpcEndpoint!);
        RpcException? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            var trace = OtlpTraceBuilder.Trace(seed: 30 + i);
            trace.Span("big", OtlpSpanKind.Server).With("payload", new string('x', 300_000));
            try
            {
                await channel.CreateCallInvoker().AsyncUnaryCall(Export, null, new CallOptions(cancellationToken: _ct), trace.ToProtobuf());
            }
            catch (RpcException e)
            {
                refused = e;
            }
        }

        refused.Should().NotBeNull("a full buffer refuses the export");
        refused!.StatusCode.Should().Be(StatusCode.Unavailable);
        var details = refused.Trailers.GetValueBytes("grpc-status-details-bin");
        details.Should().NotBeNull();
        // google.rpc.Status { code (1) = 14, details (3) = Any { type_url (1), value (2) = RetryInfo { retry_delay (1) = Duration { seconds (1) = 1 } } } }.
        ReadVarint(details!, 1).Should().Be(14);
        var any = ReadField(details!, 3)!;
        System.Text.Encoding.UTF8.GetString(ReadField(any, 1)!).Should().Be(OtlpGrpcReceiver.RetryInfoTypeUrl);
        var retryDelay = ReadField(ReadField(any, 2)!, 1)!;
        ReadVarint(retryDelay, 1).Should().Be(1);
        host.Metrics.Otlp.RequestsRefused("buffer_full").Should().Be(1);
        host.Metrics.Otlp.GrpcStatus(OtlpGrpcReceiver.StatusUnavailable).Should().Be(1);
    }

    [Fact]
    public async Task HostileFrames_OnTheGrpcPort_LeaveTheRelayServingUdpAndGrpc()
    {
        await using var host = await TestRelay.StartAsync(Options(), _kinesis);
        await using (var hostile = await Http2TestClient.ConnectAsync(host.OtlpGrpcEndpoint!))
        {
            await hostile.SendAsync(Http2FrameType.Headers, 0, 1, Http2TestClient.RequestBlock(OtlpGrpcReceiver.ExportPath));
            for (var i = 0; i < 100; i++)
            {
                await hostile.SendAsync(Http2FrameType.Continuation, 0, 1, []);
            }

            (await hostile.ReadGoAwayAsync())!.ErrorCode.Should().Be(Http2ErrorCode.EnhanceYourCalm);
        }

        TestRelay.Send(host.UdpEndpoint, [Segments.Datagram(Segments.TraceId(77), 1)]);
        var trace = OtlpTraceBuilder.Trace(seed: 24);
        trace.Span("after", OtlpSpanKind.Server);
        using var channel = Channel(host.OtlpGrpcEndpoint!);
        await channel.CreateCallInvoker().AsyncUnaryCall(Export, null, new CallOptions(cancellationToken: _ct), trace.ToProtobuf());
        await TestRelay.WaitUntilAsync(() => host.Metrics.ForwardedRecords >= 2);

        host.Metrics.Otlp.Grpc.Refused(Http2Refusal.HeaderBlockTooLarge).Should().Be(1);
        host.Metrics.Otlp.Grpc.GoAways(Http2ErrorCode.EnhanceYourCalm).Should().Be(1);
        _kinesis.Stored.Select(r => r.PartitionKey).Should().Contain(trace.XRayTraceId).And.Contain(Segments.TraceId(77));
    }

    [Fact]
    public async Task Http1Request_OnTheGrpcPort_IsAnswered426()
    {
        await using var host = await TestRelay.StartAsync(Options(), _kinesis);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });

        using var response = await http.PostAsync(new Uri($"http://{host.OtlpGrpcEndpoint}/v1/traces"), new ByteArrayContent([]), _ct);

        ((int)response.StatusCode).Should().Be(426);
    }

    [Fact]
    public async Task Relay_WithOtlpGrpcOff_BindsNoGrpcListener()
    {
        await using var host = await TestRelay.StartAsync(TestRelay.Options() with { Otlp = OtlpReceiverOptions.Off }, _kinesis);

        host.OtlpGrpcEndpoint.Should().BeNull();
    }

    /// <summary>The first length-delimited field <paramref name="number"/> of a protobuf message, or null.</summary>
    private static byte[]? ReadField(byte[] message, int number)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                return input.ReadBytes().ToByteArray();
            }

            input.SkipLastField();
        }

        return null;
    }

    private static long? ReadVarint(byte[] message, int number)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint)
            {
                return input.ReadInt64();
            }

            input.SkipLastField();
        }

        return null;
    }
}
