using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Pipeline.Aws;
using Pipeline.Core.Otlp;
using Pipeline.IntegrationTests.Aws;
using Pipeline.IntegrationTests.Otel;
using Pipeline.Testing;
using Pipeline.Testing.Builders;
using Pipeline.Testing.Faults;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>
/// Back-pressure that UDP cannot give: the built relay with a 1 MB buffer, Kinesis answering
/// slowly (fault proxy) and UDP filler keeping the buffer full, answers OTLP exports 503 with
/// Retry-After; the real OpenTelemetry JS SDK's exporter retries and, once the buffer drains, every
/// span it made is on the stream exactly once (a refused request is buffered none of it).
/// </summary>
public sealed class RelayOtlpBackPressureTests(MotoFixture moto) : IDisposable
{
    /// <summary>Datagrams of filler at most (~40 MB): the loop is bounded even if the buffer never fills.</summary>
    private const int MaxFillerDatagrams = 20_000;

    private readonly AwsClients _aws = MotoAws.Clients(moto);
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false });
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _http.Dispose();
        _aws.Dispose();
    }

    [Fact]
    public async Task Relay_BufferFull_Answers503WithRetryAfter_AndTheJsSdkRetryDeliversEverySpanExactlyOnce()
    {
        var stream = MotoFixture.UniqueName("otlp-bp");
        await _aws.Kinesis.CreateStreamAsync(stream, 2, _ct);
        await using var proxy = await FaultProxy.StartAsync(moto.Endpoint, cancellationToken: _ct);
        proxy.Add(new FaultRule(FaultAction.Delay(TimeSpan.FromMilliseconds(500))) { Service = "kinesis", Operation = "PutRecords" });
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(proxy.Endpoint, stream, "-m", "1"));
        var traces = new Uri($"http://{relay.OtlpHttpEndpoint}/v1/traces");

        // Keep the buffer full with ~2 KB datagrams until told to stop (bounded).
        using var stopFiller = new CancellationTokenSource();
        var filler = Task.Run(() =>
        {
            var pad = new string('x', 2000);
            for (var i = 0; i < MaxFillerDatagrams && !stopFiller.IsCancellationRequested; i += 50)
            {
                relay.Send(Enumerable.Range(i, 50).Select(n => Encoding.UTF8.GetBytes("{\"format\":\"json\",\"version\":1}\n" + RelayData.Document(n, n)[..^1] + ",\"pad\":\"" + pad + "\"}")), pauseEvery: 50);
                Thread.Sleep(5);
            }
        }, _ct);
        await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_dropped_segments_total{reason=\"buffer_full\"}") > 0, TimeSpan.FromSeconds(30));

        // A full buffer answers an export 503 with Retry-After, and buffers none of it.
        var probe = OtlpTraceBuilder.Trace("back-pressure-probe", seed: 1751, start: DateTimeOffset.UtcNow);
        probe.Span("GET /probe", OtlpSpanKind.Server);
        HttpResponseMessage? refused = null;
        var probeAccepted = 0;
        for (var attempt = 0; attempt < 50 && refused is null; attempt++)
        {
            using var content = new ByteArrayContent(probe.ToProtobuf());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            var response = await _http.PostAsync(traces, content, _ct);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                refused = response;
            }
            else
            {
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                probeAccepted++;
                response.Dispose();
                await Task.Delay(20, _ct);
            }
        }

        refused.Should().NotBeNull("the relay refuses exports while its buffer is full\n" + relay.Stdout);
        refused!.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        refused.Dispose();
        var refusedBefore = await relay.MetricAsync("xray_relay_otlp_requests_refused_total{reason=\"buffer_full\"}");

        // The SDK exports into the full buffer; the filler stops once the SDK has been refused too.
        var sdk = OtelJs.RunAsync($"http://{relay.OtlpHttpEndpoint}", "http/protobuf", "none", TimeSpan.FromSeconds(120), "many", "300");
        try
        {
            await RelayData.WaitUntilAsync(
                async () => sdk.IsCompleted || await relay.MetricAsync("xray_relay_otlp_requests_refused_total{reason=\"buffer_full\"}") > refusedBefore,
                TimeSpan.FromSeconds(60));
        }
        finally
        {
            await stopFiller.CancelAsync();
            await filler;
        }

        var (code, stdout, stderr) = await sdk;
        code.Should().Be(0, $"the SDK's retries deliver every export\n{stdout}\n{stderr}");
        (await relay.MetricAsync("xray_relay_otlp_requests_refused_total{reason=\"buffer_full\"}")).Should().BeGreaterThan(refusedBefore, "the SDK met the full buffer and retried");
        (await relay.MetricAsync("xray_relay_otlp_spans_retry_total")).Should().BeGreaterThan(1, "the SDK's refused spans are counted as retried, not refused");
        var exports = OtelJs.Exports(stdout);
        exports.Should().OnlyContain(e => e.Code == 0);
        exports.Sum(e => e.Spans).Should().Be(600);
        var made = OtelJs.Spans(stdout);
        made.Should().HaveCount(600);

        var expected = made.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        var onStream = new List<string>();
        await RelayData.WaitUntilAsync(async () =>
        {
            onStream.Clear();
            foreach (var (_, record) in await RelayData.ReadAllAsync(_aws.Kinesis, stream))
            {
                if (OtlpRecord.TryRead(record.Data, out var payload) != OtlpRecordStatus.Ok)
                {
                    continue;
                }

                var decoded = OtlpProtobufDecoder.Decode(payload.Span);
                decoded.IsOk.Should().BeTrue();
                onStream.AddRange(decoded.Request!.AllSpans().Select(s => OtlpIds.ToEntityId(s.Span.SpanId)));
            }

            return expected.IsSubsetOf(onStream);
        }, TimeSpan.FromSeconds(90));

        var sdkOnStream = onStream.Where(expected.Contains).ToList();
        sdkOnStream.Should().HaveCount(600, "every span the SDK made is on the stream exactly once (no loss, no duplicate from a retry)");
        sdkOnStream.Should().OnlyHaveUniqueItems();
        onStream.Where(id => !expected.Contains(id)).Should().HaveCount(probeAccepted, "besides the SDK's spans only the probes the relay answered 200 are on the stream, each once")
            .And.OnlyContain(id => id == OtlpIds.ToEntityId(probe.Build().AllSpans().Single().Span.SpanId));
    }
}
