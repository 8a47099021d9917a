using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Lambda;
using Pipeline.Lambda.Logging;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Telemetry;
using Pipeline.Testing.Telemetry;

namespace Pipeline.Lambda.Tests;

public sealed class LambdaHostTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeRuntimeApiClient _api = new();
    private readonly DictionaryEnvironment _environment = new();
    private readonly MemoryStream _log = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly LambdaHost _host;

    public LambdaHostTests()
    {
        _host = new LambdaHost(_api, _environment, _time, new JsonLineLogger(_log, _time, LogLevel.Information));
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _log.Dispose();
    }

    private string LogText => Encoding.UTF8.GetString(_log.ToArray());

    private Task<int> Run(ILambdaHandler handler) =>
        Task.Run(() => _host.RunAsync(_ => ValueTask.FromResult(handler), _stopping.Token));

    private async Task<int> StopAsync(Task<int> run)
    {
        await _stopping.CancelAsync();
        return await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task RunAsync_SeveralInvocations_PostsEachResponseInOrder()
    {
        var run = Run(new DelegateHandler((text, _) => Task.FromResult(text.ToUpperInvariant())));
        _api.Enqueue("r1", "one", Start.AddSeconds(30));
        _api.Enqueue("r2", "two", Start.AddSeconds(30));
        _api.Enqueue("r3", "three", Start.AddSeconds(30));

        var posts = new[] { await _api.NextPostAsync(), await _api.NextPostAsync(), await _api.NextPostAsync() };

        posts.Should().BeEquivalentTo(
            [
                new Posted(PostKind.Response, "r1", "ONE", null),
                new Posted(PostKind.Response, "r2", "TWO", null),
                new Posted(PostKind.Response, "r3", "THREE", null),
            ],
            o => o.WithStrictOrdering());
        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
    }

    [Fact]
    public async Task RunAsync_HandlerThrows_PostsLambdaErrorAndContinues()
    {
        var run = Run(new DelegateHandler((text, _) => text == "bad"
            ? throw new InvalidOperationException("segment store unavailable")
            : Task.FromResult("ok")));
        _api.Enqueue("r1", "bad", Start.AddSeconds(30));
        _api.Enqueue("r2", "good", Start.AddSeconds(30));

        var error = await _api.NextPostAsync();
        var next = await _api.NextPostAsync();

        error.Kind.Should().Be(PostKind.Error);
        error.RequestId.Should().Be("r1");
        error.Error!.ErrorType.Should().Be(nameof(InvalidOperationException));
        error.Error.ErrorMessage.Should().Be("segment store unavailable");
        error.Error.StackTrace.Should().NotBeEmpty();
        next.Should().Be(new Posted(PostKind.Response, "r2", "ok", null));
        LogText.Should().Contain("\"requestId\":\"r1\"").And.Contain("segment store unavailable");
        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
    }

    [Fact]
    public async Task RunAsync_HandlerThrowsBeforeItsFirstAwait_IsReportedLikeAnyError()
    {
        var run = Run(new ThrowingHandler());
        _api.Enqueue("r1", "{}", Start.AddSeconds(30));

        var error = await _api.NextPostAsync();

        error.Kind.Should().Be(PostKind.Error);
        error.Error!.ErrorType.Should().Be(nameof(FormatException));
        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
    }

    [Fact]
    public async Task RunAsync_HandlerOverrunsDeadline_IsCancelledBeforeItAndReportedAsError()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = Run(new DelegateHandler(async (text, context) =>
        {
            if (text == "slow")
            {
                started.SetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, context.CancellationToken);
            }

            return "fast";
        }));
        _api.Enqueue("r1", "slow", Start.AddSeconds(3));
        _api.Enqueue("r2", "quick", Start.AddSeconds(60));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        _time.Advance(TimeSpan.FromSeconds(3) - new LambdaHostOptions().DeadlineMargin);
        var error = await _api.NextPostAsync();
        var next = await _api.NextPostAsync();

        error.Kind.Should().Be(PostKind.Error);
        error.RequestId.Should().Be("r1");
        error.Error!.ErrorType.Should().Be(LambdaError.Types.DeadlineExceeded);
        next.Should().Be(new Posted(PostKind.Response, "r2", "fast", null));
        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
    }

    [Fact]
    public async Task RunAsync_HandlerNearDeadline_TokenNotYetCancelled()
    {
        var observed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = Run(new DelegateHandler(async (_, context) =>
        {
            started.SetResult();
            await release.Task;
            observed.SetResult(context.CancellationToken.IsCancellationRequested);
            return "done";
        }));
        _api.Enqueue("r1", "x", Start.AddSeconds(3));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        _time.Advance(TimeSpan.FromSeconds(3) - new LambdaHostOptions().DeadlineMargin - TimeSpan.FromMilliseconds(1));
        release.SetResult();

        (await observed.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)).Should().BeFalse();
        (await _api.NextPostAsync()).Kind.Should().Be(PostKind.Response);
        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
    }

    [Fact]
    public async Task RunAsync_HandlerIgnoresCancellation_ReportsErrorThenExitsHandlerAbandoned()
    {
        var never = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = Run(new DelegateHandler((_, _) =>
        {
            started.SetResult();
            return never.Task;
        }));
        _api.Enqueue("r1", "x", Start.AddSeconds(2));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        _time.Advance(TimeSpan.FromSeconds(2));
        var error = await _api.NextPostAsync();

        // The host starts its grace timer just after the post; step the clock until it has seen it.
        for (var step = 0; step < 300 && !run.IsCompleted; step++)
        {
            _time.Advance(new LambdaHostOptions().CancellationGrace);
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        error.Error!.ErrorType.Should().Be(LambdaError.Types.DeadlineExceeded);
        (await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)).Should().Be(LambdaExitCodes.HandlerAbandoned);
        never.SetResult("late");
    }

    [Fact]
    public async Task RunAsync_InitFails_PostsInitErrorAndExitsWithoutPolling()
    {
        var exit = await _host.RunAsync(
            _ => throw new LambdaInitException(LambdaError.Types.ConfigInvalid, "ARCHIVE_BUCKET is not set"),
            _stopping.Token);

        exit.Should().Be(LambdaExitCodes.InitFailed);
        _api.NextCalls.Should().Be(0);
        var post = _api.Posts.Should().ContainSingle().Subject;
        post.Kind.Should().Be(PostKind.InitError);
        post.Error.Should().Be(LambdaError.Create("ARCHIVE_BUCKET is not set", LambdaError.Types.ConfigInvalid, []) with { StackTrace = post.Error!.StackTrace });
        post.Error!.StackTrace.Should().BeEmpty();
        LogText.Should().Contain("\"level\":\"FATAL\"").And.Contain("ARCHIVE_BUCKET is not set");
    }

    [Fact]
    public async Task RunAsync_InitThrowsUnexpectedException_ReportsItsType()
    {
        var exit = await _host.RunAsync(
            async _ =>
            {
                await Task.Yield();
                throw new UriFormatException("bad endpoint");
            },
            _stopping.Token);

        exit.Should().Be(LambdaExitCodes.InitFailed);
        var error = _api.Posts.Should().ContainSingle().Subject.Error!;
        error.ErrorType.Should().Be(nameof(UriFormatException));
        error.ErrorMessage.Should().Be("bad endpoint");
        error.StackTrace.Should().NotBeEmpty();
    }

    [Fact]
    public async Task RunAsync_TraceHeader_IsInContextAndEnvironmentForThatInvocationOnly()
    {
        const string Trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        var run = Run(new DelegateHandler((_, context) =>
            Task.FromResult($"{context.TraceId}|{_environment.GetVariable(LambdaEnvironmentVariables.TraceId)}")));
        _api.Enqueue("r1", "x", Start.AddSeconds(30), Trace);
        _api.Enqueue("r2", "x", Start.AddSeconds(30), traceId: null);

        var first = await _api.NextPostAsync();
        var second = await _api.NextPostAsync();

        first.Body.Should().Be($"{Trace}|{Trace}");
        second.Body.Should().Be("|");
        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
    }

    [Fact]
    public async Task RunAsync_Context_CarriesRequestDeadlineArnAndRemainingTimeFromTheClock()
    {
        var run = Run(new DelegateHandler((_, context) =>
        {
            var before = context.RemainingTime;
            _time.Advance(TimeSpan.FromSeconds(4));
            return Task.FromResult($"{context.RequestId}|{context.Deadline:O}|{context.InvokedFunctionArn}|{before.TotalSeconds}|{context.RemainingTime.TotalSeconds}");
        }));
        _api.Enqueue("r1", "x", Start.AddSeconds(10));

        var post = await _api.NextPostAsync();

        post.Body.Should().Be($"r1|{Start.AddSeconds(10):O}|arn:aws:lambda:us-east-1:123456789012:function:f|10|6");
        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
    }

    [Fact]
    public async Task RunAsync_NextFails_ExitsRuntimeApiFailed()
    {
        _api.NextFailure = new HttpRequestException("connection refused");

        var exit = await _host.RunAsync(_ => ValueTask.FromResult<ILambdaHandler>(new ThrowingHandler()), _stopping.Token);

        exit.Should().Be(LambdaExitCodes.RuntimeApiFailed);
        LogText.Should().Contain("connection refused");
    }

    [Fact]
    public async Task RunAsync_ResponseRefusedWith413_ClosesInvocationWithError()
    {
        _api.ResponseFailure = new RuntimeApiException("payload too large", 413);
        var run = Run(new DelegateHandler((_, _) => Task.FromResult("big")));
        _api.Enqueue("r1", "x", Start.AddSeconds(30));

        var post = await _api.NextPostAsync();

        post.Kind.Should().Be(PostKind.Error);
        post.Error!.ErrorType.Should().Be(LambdaError.Types.ResponseRejected);
        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
    }

    [Fact]
    public async Task RunAsync_StoppedWhileWaitingForAnEvent_ExitsStopped()
    {
        var run = Run(new ThrowingHandler());

        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
        _api.Posts.Should().BeEmpty();
    }

    [Fact]
    public async Task RunAsync_HandlerRetried_WritesTheRetryCountAsEmfBeforeTheNextInvocation()
    {
        var operation = nameof(RunAsync_HandlerRetried_WritesTheRetryCountAsEmfBeforeTheNextInvocation);
        var sink = new RecordingMetricsSink();
        using var metrics = new EmfPublisher([new(PipelineMetrics.FunctionDimension, "ingest")], sink, _time);
        var host = new LambdaHost(_api, _environment, _time, new JsonLineLogger(_log, _time, LogLevel.Information), metrics: metrics);
        var handler = new DelegateHandler((text, _) =>
        {
            PipelineMetrics.Retries.Add(2, new KeyValuePair<string, object?>(PipelineMetrics.OperationTag, operation));
            return Task.FromResult(text);
        });
        var run = Task.Run(() => host.RunAsync(_ => ValueTask.FromResult<ILambdaHandler>(handler), _stopping.Token));
        _api.Enqueue("r1", "one", Start.AddSeconds(30));
        await _api.NextPostAsync();
        _api.Enqueue("r2", "two", Start.AddSeconds(30));
        await _api.NextPostAsync();

        (await StopAsync(run)).Should().Be(LambdaExitCodes.Stopped);
        // Other tests move the shared counter too: count this test's operation only.
        var mine = sink.Lines.Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.TryGetProperty(PipelineMetrics.OperationTag, out var op) && op.GetString() == operation)
            .ToList();
        mine.Should().HaveCount(2, "one line after each invocation");
        mine.Should().AllSatisfy(line =>
        {
            line.GetProperty("pipeline.retries").GetDouble().Should().Be(2);
            line.GetProperty(PipelineMetrics.FunctionDimension).GetString().Should().Be("ingest");
        });
    }

    private sealed class ThrowingHandler : ILambdaHandler
    {
        public Task<Stream> HandleAsync(Stream input, InvocationContext context) =>
            throw new FormatException("not a Kinesis event");
    }
}
