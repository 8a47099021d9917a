using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Pipeline.Aws;
using Pipeline.Core.Otlp;
using Pipeline.IntegrationTests.Aws;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>
/// OTLP/HTTP into the built relay binary and out on moto Kinesis: protobuf, JSON and gzip bodies
/// arrive span for span, keyed by the trace id in X-Ray form; a malformed body is a 400 and the
/// relay goes on serving OTLP and UDP.
/// </summary>
public sealed class RelayOtlpHttpTests(MotoFixture moto) : IDisposable
{
    private readonly AwsClients _aws = MotoAws.Clients(moto);
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false });
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _http.Dispose();
        _aws.Dispose();
    }

    private async Task<string> NewStreamAsync()
    {
        var stream = MotoFixture.UniqueName("otlp");
        await _aws.Kinesis.CreateStreamAsync(stream, 2, _ct);
        return stream;
    }

    private Task<HttpResponseMessage> PostAsync(RelayProcess relay, byte[] body, string contentType, string? contentEncoding = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (contentEncoding is not null)
        {
            content.Headers.ContentEncoding.Add(contentEncoding);
        }

        return _http.PostAsync(new Uri($"http://{relay.OtlpHttpEndpoint}/v1/traces"), content, _ct);
    }

    /// <summary>Every span on the stream: (partition key, trace id in X-Ray form, span id, name).</summary>
    private static async Task<List<(string Key, string TraceId, string SpanId, string Name)>> SpansOnStreamAsync(AwsClients aws, string stream, int expected)
    {
        var spans = new List<(string, string, string, string)>();
        await RelayData.WaitUntilAsync(async () =>
        {
            spans.Clear();
            foreach (var (_, record) in await RelayData.ReadAllAsync(aws.Kinesis, stream))
            {
                OtlpRecord.TryRead(record.Data, out var payload).Should().Be(OtlpRecordStatus.Ok);
                var decoded = OtlpProtobufDecoder.Decode(payload.Span);
                decoded.IsOk.Should().BeTrue();
                spans.AddRange(decoded.Request!.AllSpans().Select(s => (record.PartitionKey, OtlpIds.ToXRayTraceId(s.Span.TraceId), OtlpIds.ToEntityId(s.Span.SpanId), s.Span.Name)));
            }

            return spans.Count >= expected;
        }, TimeSpan.FromSeconds(60));
        return spans;
    }

    [Fact]
    public async Task Relay_OtlpProtobufJsonAndGzip_ArriveSpanForSpanKeyedByTraceId()
    {
        var stream = await NewStreamAsync();
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream));
        relay.OtlpHttpEndpoint.Should().NotBeNull();
        var protobuf = OtlpTraceBuilder.Trace("service-c", seed: 101);
        var root = protobuf.Span("GET /price", OtlpSpanKind.Server);
        protobuf.Span("price lookup", OtlpSpanKind.Internal, root);
        var zipped = OtlpTraceBuilder.Trace("service-d", seed: 102);
        zipped.Span("POST /order", OtlpSpanKind.Server);
        var json = OtlpTraceBuilder.Trace("service-e", seed: 103);
        json.Span("GET /stock", OtlpSpanKind.Server);

        using var first = await PostAsync(relay, protobuf.ToProtobuf(), "application/x-protobuf");
        using var second = await PostAsync(relay, TestGzip.Compress(zipped.ToProtobuf()), "application/x-protobuf", "gzip");
        using var third = await PostAsync(relay, TestGzip.Compress(Encoding.UTF8.GetBytes(json.ToJson("service-e"))), "application/json", "gzip");
        var spans = await SpansOnStreamAsync(_aws, stream, 4);

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        first.Content.Headers.ContentType!.MediaType.Should().Be("application/x-protobuf");
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        third.StatusCode.Should().Be(HttpStatusCode.OK);
        third.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var expected = new[] { protobuf, zipped, json }
            .SelectMany(t => t.Build().AllSpans().Select(s => (t.XRayTraceId, t.XRayTraceId, OtlpIds.ToEntityId(s.Span.SpanId), s.Span.Name)));
        spans.Should().BeEquivalentTo(expected, "every span once, keyed by its trace id in X-Ray form");
        (await relay.MetricAsync("xray_relay_otlp_spans_accepted_total")).Should().Be(4);
        (await relay.TerminateAsync(TimeSpan.FromSeconds(20))).Should().Be(0, relay.Stdout);
    }

    [Fact]
    public async Task Relay_MalformedOtlpBodies_Answer400AndTheRelayKeepsServingOtlpAndUdp()
    {
        var stream = await NewStreamAsync();
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream));

        using var badProtobuf = await PostAsync(relay, [0x0A, 0xFF, 0xFF], "application/x-protobuf");
        using var badJson = await PostAsync(relay, "{\"resourceSpans\":[{"u8.ToArray(), "application/json");
        using var badGzip = await PostAsync(relay, [0x1F, 0x8B, 0x08, 0x00, 0x01], "application/x-protobuf", "gzip");
        using var wrongType = await PostAsync(relay, [1, 2, 3], "text/plain");
        var good = OtlpTraceBuilder.Trace("service-c", seed: 104);
        good.Span("GET /after", OtlpSpanKind.Server);
        using var after = await PostAsync(relay, good.ToProtobuf(), "application/x-protobuf");
        relay.Send([RelayData.Datagram(1, 1)]);

        badProtobuf.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        badJson.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using (var status = JsonDocument.Parse(await badJson.Content.ReadAsStringAsync(_ct)))
        {
            status.RootElement.GetProperty("code").GetInt32().Should().Be(3, "google.rpc.Code INVALID_ARGUMENT");
            status.RootElement.GetProperty("message").GetString().Should().Contain("does not decode");
        }

        badGzip.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        wrongType.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        after.StatusCode.Should().Be(HttpStatusCode.OK);
        var records = await RelayData.WaitForRecordsAsync(_aws.Kinesis, stream, 2);
        records.Select(r => r.Record.PartitionKey).Should().BeEquivalentTo(good.XRayTraceId, RelayData.TraceId(1));
        (await relay.MetricAsync("xray_relay_accepted_segments_total")).Should().Be(1, "UDP still served");
        (await relay.MetricAsync("xray_relay_otlp_requests_refused_total{reason=\"otlp_malformed_protobuf\"}")).Should().BeGreaterThan(0);
    }

}
