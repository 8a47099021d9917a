using System.Diagnostics.Metrics;
using System.Net;
using Pipeline.Aws.Http;
using Pipeline.Aws.Tests.Support;
using Pipeline.Aws.XRay;
using Pipeline.Runtime.Resilience;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Aws.Tests;

/// <summary>X-Ray's OTLP traces endpoint client: the request it signs, the answers it reads, its retries.</summary>
public sealed class XRayOtlpClientTests
{
    // ExportTraceServiceRequest { resource_spans { } }: any bytes go through as they are.
    private static readonly byte[] Request = [0x0A, 0x00];
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly RecordingTimeProvider _time = new(TestAws.SigningTime);

    [Fact]
    public async Task Export_PostsTheProtobufToV1TracesSignedForXRay()
    {
        var handler = new FakeAwsHandler((_, _) => Protobuf(HttpStatusCode.OK, []));
        using var aws = TestAws.Clients(handler, _time);

        var answer = await aws.XRayOtlp.ExportTracesAsync(Request, _ct);

        answer.Should().Be(new OtlpExportResponse(0, string.Empty));
        var request = handler.Requests.Single();
        request.Method.Should().Be(HttpMethod.Post);
        request.Uri.AbsolutePath.Should().Be("/v1/traces");
        request.Uri.Host.Should().Be("xray.us-east-1.amazonaws.com");
        request.Header("Content-Type").Should().Be("application/x-protobuf");
        request.Header("Authorization").Should().Contain("Credential=AKIDEXAMPLE/20150830/us-east-1/xray/aws4_request");
        request.Body.Should().Equal(Request);
    }

    [Fact]
    public async Task Export_PartialSuccess_IsReturnedNotThrown()
    {
        // partial_success { rejected_spans: 3, error_message: "bad" }, and an unknown field 7 before it.
        byte[] body = [0x38, 0x01, 0x0A, 0x07, 0x08, 0x03, 0x12, 0x03, (byte)'b', (byte)'a', (byte)'d'];
        using var aws = TestAws.Clients(new FakeAwsHandler((_, _) => Protobuf(HttpStatusCode.OK, body)), _time);

        var answer = await aws.XRayOtlp.ExportTracesAsync(Request, _ct);

        answer.Should().Be(new OtlpExportResponse(3, "bad"));
        answer.IsPartial.Should().BeTrue();
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x08 })]
    [InlineData(new byte[] { 0x0A, 0x02, 0x08, 0xFF })]
    [InlineData(new byte[] { 0x00 })]
    [InlineData(new byte[] { 0x0B })]
    public void ReadResponse_NotAnExportResponse_IsInvalidData(byte[] body)
    {
        var act = () => XRayOtlpClient.ReadResponse(body);

        act.Should().Throw<InvalidDataException>().WithMessage("*ExportTraceServiceResponse*");
    }

    [Fact]
    public async Task Export_ThrottledThenAccepted_IsRetriedWithTheBackoffAndCounted()
    {
        using var retries = new RetryCounter();
        var handler = FakeAwsHandler.Sequence(
            () => Protobuf(HttpStatusCode.TooManyRequests, []),
            () => Protobuf(HttpStatusCode.ServiceUnavailable, []),
            () => Protobuf(HttpStatusCode.OK, []));
        using var aws = TestAws.Clients(handler, _time);

        var answer = await _time.RunAsync(aws.XRayOtlp.ExportTracesAsync(Request, _ct));

        answer.IsPartial.Should().BeFalse();
        handler.Calls.Should().Be(3);
        _time.DueTimes.Should().HaveCount(2);
        retries.Count("xray.OtlpTraces").Should().Be(2);
        handler.Requests.Select(r => r.Header("X-Amz-Date")).Should().OnlyContain(d => d != null, "each attempt is signed afresh");
    }

    [Fact]
    public async Task Export_BadRequest_IsNotRetried()
    {
        var handler = new FakeAwsHandler((_, _) => Protobuf(HttpStatusCode.BadRequest, "span too large"u8.ToArray()));
        using var aws = TestAws.Clients(handler, _time, TestAws.Settings(new BackoffOptions { MaxAttempts = 4, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero }));

        var act = () => aws.XRayOtlp.ExportTracesAsync(Request, _ct);

        (await act.Should().ThrowAsync<AwsServiceException>()).Which.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        handler.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Export_OverFiveMegabytes_IsRefusedBeforeSending()
    {
        var handler = new FakeAwsHandler((_, _) => Protobuf(HttpStatusCode.OK, []));
        using var aws = TestAws.Clients(handler, _time);

        var act = () => aws.XRayOtlp.ExportTracesAsync(new byte[XRayOtlpLimits.MaxRequestBytes + 1], _ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
        handler.Calls.Should().Be(0);
    }

    private static HttpResponseMessage Protobuf(HttpStatusCode status, byte[] body)
    {
        var response = new HttpResponseMessage(status) { Content = new ByteArrayContent(body) };
        response.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-protobuf");
        return response;
    }

    /// <summary>Counts pipeline.retries by operation while alive.</summary>
    private sealed class RetryCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

        public RetryCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                // By name: the instrument may be published while PipelineMetrics is still being initialized.
                if (instrument.Meter.Name == PipelineMetrics.MeterName && instrument.Name == "pipeline.retries")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == PipelineMetrics.OperationTag && tag.Value is string operation)
                    {
                        lock (_counts)
                        {
                            _counts[operation] = _counts.GetValueOrDefault(operation) + value;
                        }
                    }
                }
            });
            _listener.Start();
        }

        public long Count(string operation)
        {
            lock (_counts)
            {
                return _counts.GetValueOrDefault(operation);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
