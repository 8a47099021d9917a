using System.Net.Http;
using System.Net.Http.Headers;
using Pipeline.Core.Otlp;
using Pipeline.Testing.Builders;
using Relay.Receive.Otlp;
using Relay.Tests.Support;

namespace Relay.Tests.Receive.Otlp;

/// <summary>OTLP/HTTP served by the relay host's own listener: what an exporter sees, end to the fake Kinesis.</summary>
public sealed class OtlpHttpListenerTests
{
    private readonly FakeKinesis _kinesis = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private static HttpClient Client() => new(new SocketsHttpHandler { UseProxy = false });

    private static ByteArrayContent Protobuf(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }

    [Fact]
    public async Task Post_Protobuf_IsPutOnTheStreamKeyedByTheXRayTraceId()
    {
        await using var host = await TestRelay.StartAsync(TestRelay.Options(), _kinesis);
        var trace = OtlpTraceBuilder.Trace("service-c", seed: 3);
        var server = trace.Span("GET /price", OtlpSpanKind.Server);
        trace.Span("price lookup", OtlpSpanKind.Internal, server);
        using var http = Client();

        using var response = await http.PostAsync(new Uri($"http://{host.OtlpHttpEndpoint}/v1/traces"), Protobuf(trace.ToProtobuf()), _ct);
        await TestRelay.WaitUntilAsync(() => host.Metrics.ForwardedRecords >= 1);

        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        var record = _kinesis.Stored.Should().ContainSingle().Subject;
        record.PartitionKey.Should().Be(trace.XRayTraceId);
        OtlpRecordReader.Read(record.Data).Spans.Should().Be(2);
        host.Metrics.Otlp.SpansAccepted.Should().Be(2);
        var metrics = await http.GetStringAsync(new Uri($"http://{host.MetricsEndpoint}/metrics"), _ct);
        metrics.Should().Contain("xray_relay_otlp_spans_accepted_total 2")
            .And.Contain($"xray_relay_http_requests_total{{listener=\"{OtlpHttpListener.Name}\"}} 1");
    }

    [Fact]
    public async Task Post_WhenTheBufferIsFull_Answers503WithRetryAfter()
    {
        // Kinesis hangs, so the first request's record stays charged to the 1 MB buffer.
        _kinesis.Hang = _ => true;
        var options = TestRelay.Options() with { BufferMemoryMb = 1 };
        await using var host = await TestRelay.StartAsync(options, _kinesis);
        using var http = Client();
        var statuses = new List<System.Net.HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            var trace = OtlpTraceBuilder.Trace(seed: 10 + i);
            trace.Span("big", OtlpSpanKind.Server).With("payload", new string('x', 300_000));
            var response = await http.PostAsync(new Uri($"http://{host.OtlpHttpEndpoint}/v1/traces"), Protobuf(trace.ToProtobuf()), _ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
            {
                refused = response;
            }
            else
            {
                response.Dispose();
            }
        }

        refused.Should().NotBeNull($"a full buffer refuses the export (statuses: {string.Join(",", statuses)})");
        refused!.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        host.Metrics.Otlp.RequestsRefused("buffer_full").Should().Be(1);
        refused.Dispose();
    }

    [Fact]
    public async Task Relay_WithOtlpHttpOff_BindsNoOtlpListener()
    {
        var options = TestRelay.Options() with { Otlp = OtlpReceiverOptions.Off };
        await using var host = await TestRelay.StartAsync(options, _kinesis);

        host.OtlpHttpEndpoint.Should().BeNull();
    }
}
