using System.Collections.Concurrent;
using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Http;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Graph;
using Pipeline.Cli.Query;
using Pipeline.Cli.Send;
using Pipeline.Core.Otlp;
using Pipeline.Core.Segments;
using Pipeline.LocalAws.Processes;
using Pipeline.LocalAws.Stack;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.Cli.Tests.Send;

/// <summary>
/// `pipeline send --otlp`: the synthetic OTLP traces (decoded and converted by Core as the ingest
/// does), the exporter's retry and partial_success handling against scripted answers, the command
/// against a loopback receiver, and the stack.json fields `up` records for OTLP.
/// </summary>
public sealed class OtlpSendTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly HttpClient Http = AwsHttp.CreateClient();
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("pipeline-otlp-send-");

    public void Dispose() => _state.Delete(recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void SyntheticTrace_DecodesAndConvertsToValidDocuments_EachServiceTheChildOfItsCallersClientSpan(int services)
    {
        var generator = new SyntheticOtlpTraces(new Random(5), new FakeTimeProvider(Now));
        var request = new OtlpTraceRequest();
        var traceId = generator.NewTraceId();

        var added = generator.AddTrace(request, services, traceId, fault: true);

        added.Should().Be((2 * services) - 1, "a SERVER span per service and a CLIENT span per call");
        var decoded = OtlpProtobufDecoder.Decode(OtlpProtobufEncoder.Encode(request));
        decoded.IsOk.Should().BeTrue(decoded.Error.ToString());
        var spans = decoded.Request!.AllSpans().Select(s => s.Span).ToList();
        spans.Should().HaveCount(added).And.OnlyContain(s => OtlpIds.Check(s) == OtlpSpanProblem.None);
        OtlpIds.ToXRayTraceId(traceId).Should().StartWith($"1-{Now.ToUnixTimeSeconds():x8}-", "the epoch leads the id as the AWS X-Ray ID generator makes it");

        var conversion = SpanConverter.Convert(decoded.Request!);
        conversion.Quarantined.Should().BeEmpty();
        conversion.ConvertedSpans.Should().Be(added);
        var documents = conversion.Documents.Select(d => JsonDocument.Parse(d.Document).RootElement).ToList();
        foreach (var document in conversion.Documents)
        {
            var result = SegmentValidator.ParseAndValidate(document.Document, Now);
            result.IsOk.Should().BeTrue(result.Rejection.Reason.ToString());
        }

        var segments = documents.Where(d => !d.TryGetProperty("type", out _)).OrderBy(d => d.GetProperty("name").GetString(), StringComparer.Ordinal).ToList();
        segments.Select(s => s.GetProperty("name").GetString()).Should().Equal(Enumerable.Range(0, services).Select(k => $"otel-svc-{k}"));
        segments[0].TryGetProperty("parent_id", out _).Should().BeFalse("the first service is the root");
        for (var k = 1; k < services; k++)
        {
            var call = segments[k - 1].GetProperty("subsegments").EnumerateArray().Single();
            call.GetProperty("name").GetString().Should().Be($"otel-svc-{k}");
            segments[k].GetProperty("parent_id").GetString().Should().Be(call.GetProperty("id").GetString());
        }

        segments[^1].GetProperty("fault").GetBoolean().Should().BeTrue("the last service answers 500");
        segments[^1].GetProperty("http").GetProperty("response").GetProperty("status").GetInt32().Should().Be(500);
    }

    [Fact]
    public async Task Export_503ThenPartialSuccess_RetriesAfterRetryAfter_AndReadsTheRejectedCount()
    {
        var handler = new ScriptedHandler(
            _ => Answer(HttpStatusCode.ServiceUnavailable, retryAfterSeconds: 2),
            _ => Answer(HttpStatusCode.TooManyRequests, retryAfterSeconds: 60),
            _ => Answer(HttpStatusCode.OK, body: OtlpProtobufEncoder.EncodeResponse(3, "3 span(s) refused: otlp_invalid_trace_id")));
        var time = new ImmediateTimers();
        var sender = new OtlpHttpSender(new HttpClient(handler), new Uri("http://127.0.0.1:4318/"), time);

        var result = await sender.ExportAsync(OneTrace(), TestContext.Current.CancellationToken);

        result.Should().Be(new OtlpExportResult(true, 200, 3, "3 span(s) refused: otlp_invalid_trace_id", 3));
        time.Waits.Should().Equal(TimeSpan.FromSeconds(2), OtlpHttpSender.MaxWait);
        handler.Requests.Should().HaveCount(3).And.OnlyContain(r => r.Uri == "http://127.0.0.1:4318/v1/traces" && r.ContentType == "application/x-protobuf");
        handler.Requests.Select(r => r.Body).Distinct(new BytesComparer()).Should().ContainSingle("a retry resends the same request");
    }

    [Fact]
    public async Task Export_AlwaysUnavailable_GivesUpAfterMaxAttempts_WithTheLastAnswer()
    {
        var handler = new ScriptedHandler(_ => Answer(HttpStatusCode.ServiceUnavailable, retryAfterSeconds: 1, text: "the relay's buffer is full; retry later"));
        var time = new ImmediateTimers();
        var sender = new OtlpHttpSender(new HttpClient(handler), new Uri("http://127.0.0.1:4318/"), time);

        var result = await sender.ExportAsync(OneTrace(), TestContext.Current.CancellationToken);

        result.Ok.Should().BeFalse();
        result.Status.Should().Be(503);
        result.Attempts.Should().Be(OtlpHttpSender.MaxAttempts);
        result.Detail.Should().Contain("buffer is full");
        handler.Requests.Should().HaveCount(OtlpHttpSender.MaxAttempts);
        time.Waits.Should().HaveCount(OtlpHttpSender.MaxAttempts - 1);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.UnsupportedMediaType)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge)]
    public async Task Export_NonRetryableAnswer_IsFinalAtOnce(HttpStatusCode status)
    {
        var handler = new ScriptedHandler(_ => Answer(status, text: "bad"));
        var time = new ImmediateTimers();
        var sender = new OtlpHttpSender(new HttpClient(handler), new Uri("http://127.0.0.1:4318/"), time);

        var result = await sender.ExportAsync(OneTrace(), TestContext.Current.CancellationToken);

        result.Should().Be(new OtlpExportResult(false, (int)status, 0, "bad", 1));
        time.Waits.Should().BeEmpty();
    }

    [Fact]
    public void WaitOf_DeltaDateOrNone_IsBoundedBetweenZeroAndMaxWait()
    {
        OtlpHttpSender.WaitOf(null, Now).Should().Be(TimeSpan.FromSeconds(1));
        OtlpHttpSender.WaitOf(new RetryConditionHeaderValue(TimeSpan.FromSeconds(3)), Now).Should().Be(TimeSpan.FromSeconds(3));
        OtlpHttpSender.WaitOf(new RetryConditionHeaderValue(Now.AddSeconds(4)), Now).Should().Be(TimeSpan.FromSeconds(4));
        OtlpHttpSender.WaitOf(new RetryConditionHeaderValue(Now.AddSeconds(-4)), Now).Should().Be(TimeSpan.Zero);
        OtlpHttpSender.WaitOf(new RetryConditionHeaderValue(TimeSpan.FromHours(1)), Now).Should().Be(OtlpHttpSender.MaxWait);
    }

    [Fact]
    public void TryReadPartialSuccess_EmptyFullAndGarbage()
    {
        OtlpHttpSender.TryReadPartialSuccess([], out var none, out var noMessage).Should().BeTrue();
        (none, noMessage).Should().Be((0L, ""));
        OtlpHttpSender.TryReadPartialSuccess(OtlpProtobufEncoder.EncodeResponse(7, "seven"), out var rejected, out var message).Should().BeTrue();
        (rejected, message).Should().Be((7L, "seven"));
        OtlpHttpSender.TryReadPartialSuccess(OtlpProtobufEncoder.EncodeResponse(0, "a warning"), out var zero, out var warning).Should().BeTrue();
        (zero, warning).Should().Be((0L, "a warning"));
        OtlpHttpSender.TryReadPartialSuccess([0x0A, 0x05, 0x08], out _, out _).Should().BeFalse("a length past the end");
        OtlpHttpSender.TryReadPartialSuccess([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], out _, out _).Should().BeFalse("a varint of more than 64 bits");
        OtlpHttpSender.TryReadPartialSuccess([0x0B], out _, out _).Should().BeFalse("wire type 3 (groups) is not OTLP");
    }

    [Fact]
    public async Task SendOtlp_PostsTracesInRequestsOfAHundred_EveryTraceIdPrinted()
    {
        await using var receiver = LoopbackHttpStub.Start(_ => new StubResponse(200, "", "application/x-protobuf"));
        var address = $"{receiver.Endpoint.Host}:{receiver.Endpoint.Port}";

        var (code, output, error) = await InvokeAsync("send", "--otlp", "--otlp-http", address, "--traces", "250", "--segments", "2", "--seed", "3", "--print-trace-ids");

        code.Should().Be(0, error);
        error.Should().Contain("sent 750 span(s) in 250 trace(s) as 3 OTLP/HTTP request(s)").And.Contain("0 retried, 0 span(s) refused");
        var printed = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        printed.Should().HaveCount(250).And.OnlyHaveUniqueItems();
        receiver.Requests.Should().HaveCount(3).And.OnlyContain(r => r.Method == "POST" && r.Path == "/v1/traces" && r.Header("Content-Type") == "application/x-protobuf");
        var sent = receiver.Requests.SelectMany(r =>
        {
            var decoded = OtlpProtobufDecoder.Decode(r.Body);
            decoded.IsOk.Should().BeTrue();
            return decoded.Request!.AllSpans().Select(s => OtlpIds.ToXRayTraceId(s.Span.TraceId));
        }).ToList();
        sent.Should().HaveCount(750);
        sent.Distinct().Should().BeEquivalentTo(printed);
    }

    [Fact]
    public async Task SendOtlp_ReceiverRefuses_ExitsOneNamingTheAnswer()
    {
        await using var receiver = LoopbackHttpStub.Start(_ => new StubResponse(415, "{\"code\":3,\"message\":\"unsupported content type\"}"));
        var address = $"{receiver.Endpoint.Host}:{receiver.Endpoint.Port}";

        var (code, _, error) = await InvokeAsync("send", "--otlp", "--otlp-http", address, "--traces", "2");

        code.Should().Be(1);
        error.Should().Contain("answered 415 after 1 attempt(s)").And.Contain("unsupported content type");
    }

    [Fact]
    public async Task SendOtlp_NothingListening_ExitsOneAskingForUp()
    {
        var address = $"127.0.0.1:{LoopbackPorts.FreeTcp()}";

        var (code, _, error) = await InvokeAsync("send", "--otlp", "--otlp-http", address, "--traces", "1");

        code.Should().Be(1);
        error.Should().Contain($"http://{address}/v1/traces").And.Contain("pipeline up");
    }

    [Fact]
    public async Task SendOtlp_AddressFromStackJson_WhenNoFlag()
    {
        await using var receiver = LoopbackHttpStub.Start(_ => new StubResponse(200, "", "application/x-protobuf"));
        var address = $"{receiver.Endpoint.Host}:{receiver.Endpoint.Port}";
        Stack(new StackRelay("127.0.0.1:2000", "127.0.0.1:2000", "tcp:127.0.0.1:2000 udp:127.0.0.1:2000", address, $"http://{address}"))
            .Write(Path.Combine(_state.FullName, "stack.json"));

        var (code, _, error) = await InvokeAsync("send", "--otlp", "--traces", "1", "--state-dir", _state.FullName);

        code.Should().Be(0, error);
        receiver.Requests.Should().ContainSingle();
    }

    [Theory]
    [InlineData("--file", "x.ndjson")]
    [InlineData("--invalid", "0.1")]
    public async Task SendOtlp_WithXRayOnlyFlags_IsAUsageError(string flag, string value)
    {
        var (code, _, error) = await InvokeAsync("send", "--otlp", flag, value);

        code.Should().NotBe(0);
        error.Should().Contain("--otlp sends synthetic valid spans");
    }

    [Fact]
    public void StackJson_RecordsTheOtlpReceiver_AndAnOlderFileWithoutItReadsAsOff()
    {
        var path = Path.Combine(_state.FullName, "stack.json");
        var otlp = IPEndPoint.Parse("127.0.0.1:4318");
        Stack(new StackRelay("127.0.0.1:2000", "127.0.0.1:2000", "tcp:127.0.0.1:2000 udp:127.0.0.1:2000", otlp.ToString(), StackRelay.OtlpEndpointOf(otlp))).Write(path);

        var text = File.ReadAllText(path);
        text.Should().Contain("\"otlpHttp\": \"127.0.0.1:4318\"").And.Contain("\"otlpEndpoint\": \"http://127.0.0.1:4318\"");
        StackFile.TryRead(path)!.Relay.OtlpEndpoint.Should().Be("http://127.0.0.1:4318");

        Stack(new StackRelay("127.0.0.1:2000", "127.0.0.1:2000", "tcp:127.0.0.1:2000 udp:127.0.0.1:2000", null, StackRelay.OtlpEndpointOf(null))).Write(path);
        File.ReadAllText(path).Should().NotContain("otlp", "an OTLP receiver that is off is not written");
        var off = StackFile.TryRead(path)!.Relay;
        (off.OtlpHttp, off.OtlpEndpoint).Should().Be(((string?)null, (string?)null));
    }

    [Theory]
    [InlineData("off", null)]
    [InlineData("OFF", null)]
    [InlineData("127.0.0.1:0", "127.0.0.1:0")]
    [InlineData("127.0.0.1:14318", "127.0.0.1:14318")]
    public void UpOtlpHttpFlag_TakesAnAddressOrOff(string value, string? expected)
    {
        var option = CommandOptions.OptionalEndpoint("--otlp-http", "OTLP", "127.0.0.1:4318");
        var command = new Command("up") { option };

        var parsed = command.Parse(["--otlp-http", value]);

        parsed.Errors.Should().BeEmpty();
        parsed.GetValue(option).Endpoint?.ToString().Should().Be(expected);
        command.Parse([]).GetValue(option).Endpoint!.ToString().Should().Be("127.0.0.1:4318");
        command.Parse(["--otlp-http", "nowhere"]).Errors.Should().NotBeEmpty();
    }

    private static StackFile Stack(StackRelay relay) => new()
    {
        Endpoint = "http://127.0.0.1:5000",
        Region = "us-east-1",
        Stream = "s",
        StreamArn = "arn:aws:kinesis:us-east-1:123456789012:stream/s",
        Buckets = new StackBuckets("archive", null),
        Table = "t",
        SesIdentity = "reports@example.com",
        Relay = relay,
        MetricsUrl = "http://127.0.0.1:2112/metrics",
        Pids = new StackPids { Up = 1, Moto = 2, Relay = 3 },
        LogDir = "/tmp",
        StartedAt = Now,
    };

    private static OtlpTraceRequest OneTrace()
    {
        var generator = new SyntheticOtlpTraces(new Random(1), new FakeTimeProvider(Now));
        var request = new OtlpTraceRequest();
        generator.AddTrace(request, 2, generator.NewTraceId());
        return request;
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, int? retryAfterSeconds = null, byte[]? body = null, string? text = null)
    {
        var response = new HttpResponseMessage(status) { Content = body is not null ? new ByteArrayContent(body) : new StringContent(text ?? "") };
        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        }

        return response;
    }

    private async Task<(int Code, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var environment = new DictionaryEnvironment { ["PIPELINE_STATE_DIR"] = _state.FullName };
        var time = new FakeTimeProvider(Now);
        var cli = new CliContext(time, environment, Http, _state.FullName, outputIsTerminal: false);
        var root = PipelineCommand.Create(
            cli,
            new QueryCommandContext(time, environment, Http, _state.FullName, outputIsTerminal: false),
            new GraphCommandContext(time, environment, Http, _state.FullName));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Answers each request with the next script step (the last one repeats), recording what was sent.</summary>
    private sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] script) : HttpMessageHandler
    {
        private readonly ConcurrentQueue<(string Uri, string? ContentType, byte[] Body)> _requests = new();
        private int _next;

        public IReadOnlyList<(string Uri, string? ContentType, byte[] Body)> Requests => [.. _requests];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
            _requests.Enqueue((request.RequestUri!.ToString(), request.Content.Headers.ContentType?.MediaType, body));
            var step = Math.Min(Interlocked.Increment(ref _next) - 1, script.Length - 1);
            return script[step](request);
        }
    }

    /// <summary>A clock whose timers fire at once, recording each requested delay (no real waiting in a unit test).</summary>
    private sealed class ImmediateTimers : TimeProvider
    {
        private readonly ConcurrentQueue<TimeSpan> _waits = new();

        public IReadOnlyList<TimeSpan> Waits => [.. _waits];

        public override DateTimeOffset GetUtcNow() => Now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _waits.Enqueue(dueTime);
            ThreadPool.QueueUserWorkItem(_ => callback(state));
            return new NoTimer();
        }

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}
