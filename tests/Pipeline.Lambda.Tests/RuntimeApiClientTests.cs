using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Lambda;
using Pipeline.Lambda.Logging;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.Lambda.Tests;

/// <summary>The HTTP client and the host loop against the in-test Runtime API emulator (a real server).</summary>
public sealed class RuntimeApiClientTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http = new(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
    private RuntimeApiEmulator _emulator = null!;
    private RuntimeApiClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _emulator = await RuntimeApiEmulator.StartAsync(TestContext.Current.CancellationToken);
        _client = new RuntimeApiClient(_http, _emulator.Address);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _emulator.DisposeAsync();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetNextInvocationAsync_ReadsHeadersAndBody()
    {
        var queued = _emulator.Enqueue("""{"Records":[]}""", TimeSpan.FromSeconds(7), "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");

        using var invocation = await _client.GetNextInvocationAsync(Ct);

        invocation.RequestId.Should().Be(queued.RequestId);
        invocation.Deadline.Should().Be(DateTimeOffset.FromUnixTimeMilliseconds(queued.Deadline!.Value.ToUnixTimeMilliseconds()));
        invocation.InvokedFunctionArn.Should().Be(RuntimeApiEmulator.DefaultFunctionArn);
        invocation.TraceId.Should().Be("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
        (await new StreamReader(invocation.Body).ReadToEndAsync(Ct)).Should().Be("""{"Records":[]}""");
    }

    [Fact]
    public async Task SendResponseAsync_PostsTheBodyForThatRequest()
    {
        var queued = _emulator.Enqueue("{}");
        using var invocation = await _client.GetNextInvocationAsync(Ct);

        await _client.SendResponseAsync(invocation.RequestId, new MemoryStream("""{"batchItemFailures":[]}"""u8.ToArray()), Ct);

        var outcome = await queued.Outcome.WaitAsync(Bound, Ct);
        outcome.IsError.Should().BeFalse();
        outcome.BodyText.Should().Be("""{"batchItemFailures":[]}""");
    }

    [Fact]
    public async Task SendErrorAsync_PostsLambdaErrorShapeAndErrorTypeHeader()
    {
        var queued = _emulator.Enqueue("{}");
        using var invocation = await _client.GetNextInvocationAsync(Ct);

        await _client.SendErrorAsync(invocation.RequestId, LambdaError.Create("boom", "InvalidOperationException", ["at A.B()", "at C.D()"]), Ct);

        var outcome = await queued.Outcome.WaitAsync(Bound, Ct);
        outcome.IsError.Should().BeTrue();
        outcome.BodyText.Should().Be("""{"errorMessage":"boom","errorType":"InvalidOperationException","stackTrace":["at A.B()","at C.D()"]}""");
        outcome.ErrorTypeHeader.Should().Be("InvalidOperationException");
    }

    [Fact]
    public async Task SendInitErrorAsync_PostsToInitError()
    {
        await _client.SendInitErrorAsync(LambdaError.Create("no handler", LambdaError.Types.NoSuchHandler, []), Ct);

        var error = await _emulator.FirstInitError.WaitAsync(Bound, Ct);
        error.Should().BeEquivalentTo(new RecordedError(
            "no handler", LambdaError.Types.NoSuchHandler, [], LambdaError.Types.NoSuchHandler,
            """{"errorMessage":"no handler","errorType":"Runtime.NoSuchHandler","stackTrace":[]}"""));
        _emulator.Calls.Should().ContainSingle(c => c.Method == "POST" && c.Path == "/2018-06-01/runtime/init/error");
    }

    [Fact]
    public async Task SendResponseAsync_SecondPostForSameRequest_ThrowsWithStatus()
    {
        _emulator.Enqueue("{}");
        using var invocation = await _client.GetNextInvocationAsync(Ct);
        await _client.SendResponseAsync(invocation.RequestId, new MemoryStream("1"u8.ToArray()), Ct);

        var again = () => _client.SendResponseAsync(invocation.RequestId, new MemoryStream("2"u8.ToArray()), Ct);

        (await again.Should().ThrowAsync<RuntimeApiException>()).Which.StatusCode.Should().Be((int)HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1:9001/extra")]
    [InlineData("http://127.0.0.1:9001")]
    public void Constructor_AddressNotHostPort_Throws(string address)
    {
        var create = () => new RuntimeApiClient(_http, address);

        create.Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task LambdaHost_OverHttp_HandlesInvocationsErrorAndTimeout()
    {
        using var log = new MemoryStream();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var host = new LambdaHost(_client, new DictionaryEnvironment(), TimeProvider.System, new JsonLineLogger(log, TimeProvider.System, LogLevel.Information));
        var handler = new DelegateHandler(async (text, context) => text switch
        {
            "throw" => throw new InvalidDataException("bad record"),
            "hang" => await Task.Delay(Timeout.InfiniteTimeSpan, context.CancellationToken).ContinueWith(_ => "never", TaskScheduler.Default),
            _ => $"echo:{text}",
        });
        var first = _emulator.Enqueue("a");
        var failing = _emulator.Enqueue("throw");
        var hanging = _emulator.Enqueue("hang", timeout: TimeSpan.FromSeconds(1));
        var last = _emulator.Enqueue("b");

        var run = host.RunAsync(_ => ValueTask.FromResult<ILambdaHandler>(handler), stopping.Token);
        var outcomes = await Task.WhenAll(first.Outcome, failing.Outcome, hanging.Outcome, last.Outcome).WaitAsync(Bound, Ct);
        await stopping.CancelAsync();

        (await run.WaitAsync(Bound, Ct)).Should().Be(LambdaExitCodes.Stopped);
        outcomes[0].BodyText.Should().Be("echo:a");
        outcomes[1].Error!.ErrorType.Should().Be(nameof(InvalidDataException));
        outcomes[1].ErrorTypeHeader.Should().Be(nameof(InvalidDataException));
        outcomes[2].Error!.ErrorType.Should().Be(LambdaError.Types.DeadlineExceeded);
        outcomes[3].BodyText.Should().Be("echo:b");
        Encoding.UTF8.GetString(log.ToArray()).Should().Contain(failing.RequestId);
    }
}
