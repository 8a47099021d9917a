using Microsoft.Extensions.Logging;
using Pipeline.Lambda.Logging;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Lambda;

/// <summary>Process exit codes of the bootstrap; Lambda logs them when the runtime exits.</summary>
public static class LambdaExitCodes
{
    /// <summary>Stopped on request (SIGTERM).</summary>
    public const int Stopped = 0;

    /// <summary>Initialisation failed; reported to /init/error.</summary>
    public const int InitFailed = 1;

    /// <summary>The Runtime API could not be reached or answered nonsense.</summary>
    public const int RuntimeApiFailed = 2;

    /// <summary>A handler kept running after its deadline; a fresh process is safer than sharing it.</summary>
    public const int HandlerAbandoned = 3;

    /// <summary>AWS_LAMBDA_RUNTIME_API is missing or malformed, so not even /init/error can be reached.</summary>
    public const int NoRuntimeApi = 4;
}

/// <summary>Tuning of the invocation loop; the defaults suit Lambda.</summary>
public sealed record LambdaHostOptions
{
    /// <summary>
    /// How long before the deadline the handler's token fires, leaving time to post the error
    /// before Lambda kills the sandbox.
    /// </summary>
    public TimeSpan DeadlineMargin { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a cancelled handler gets to stop before the host gives up on the process.</summary>
    public TimeSpan CancellationGrace { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Bound on one response or error post.</summary>
    public TimeSpan PostTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The custom runtime loop: initialise the handler (failure → /init/error, exit), then for ever
/// next → handle → response or error. One invocation at a time, as Lambda sends them.
/// </summary>
public sealed class LambdaHost
{
    private readonly IRuntimeApiClient _runtimeApi;
    private readonly IEnvironment _environment;
    private readonly TimeProvider _timeProvider;
    private readonly JsonLineLogger _logger;
    private readonly LambdaHostOptions _options;
    private readonly EmfPublisher? _metrics;

    /// <param name="metrics">Writes the shared meter's counts (retries, give-ups) after every invocation; none in tests that do not look.</param>
    public LambdaHost(
        IRuntimeApiClient runtimeApi,
        IEnvironment environment,
        TimeProvider timeProvider,
        JsonLineLogger logger,
        LambdaHostOptions? options = null,
        EmfPublisher? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(runtimeApi);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _runtimeApi = runtimeApi;
        _environment = environment;
        _timeProvider = timeProvider;
        _logger = logger;
        _options = options ?? new LambdaHostOptions();
        _metrics = metrics;
    }

    /// <summary>Runs until <paramref name="stoppingToken"/> fires or the process must end; returns the exit code.</summary>
    public async Task<int> RunAsync(Func<CancellationToken, ValueTask<ILambdaHandler>> initialize, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(initialize);

        var handler = await InitializeAsync(initialize, stoppingToken).ConfigureAwait(false);
        if (handler is null)
        {
            return LambdaExitCodes.InitFailed;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            Invocation invocation;
            try
            {
                invocation = await _runtimeApi.GetNextInvocationAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is HttpRequestException or RuntimeApiException or IOException)
            {
                _logger.LogCritical(ex, "Runtime API invocation/next failed; exiting so Lambda can start a new runtime");
                return LambdaExitCodes.RuntimeApiFailed;
            }

            using (invocation)
            {
                var outcome = await InvokeAsync(handler, invocation, stoppingToken).ConfigureAwait(false);

                // Before invocation/next: Lambda may freeze the sandbox as soon as the runtime asks for more work.
                _metrics?.Flush();
                if (outcome != LambdaExitCodes.Stopped)
                {
                    return outcome;
                }
            }
        }

        _logger.LogInformation("Stopping: shutdown requested");
        return LambdaExitCodes.Stopped;
    }

    private async Task<ILambdaHandler?> InitializeAsync(Func<CancellationToken, ValueTask<ILambdaHandler>> initialize, CancellationToken stoppingToken)
    {
        try
        {
            return await initialize(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var error = LambdaError.FromException(ex);
            _logger.LogCritical(ex, "Init failed ({ErrorType}): {ErrorMessage}", error.ErrorType, error.ErrorMessage);
            try
            {
                using var post = PostDeadline();
                await _runtimeApi.SendInitErrorAsync(error, post.Token).ConfigureAwait(false);
            }
            catch (Exception postEx) when (postEx is HttpRequestException or RuntimeApiException or IOException or OperationCanceledException)
            {
                _logger.LogCritical(postEx, "Could not report the init error to the Runtime API");
            }

            return null;
        }
    }

    /// <summary>Handles one invocation; returns <see cref="LambdaExitCodes.Stopped"/> to go on, or an exit code.</summary>
    private async Task<int> InvokeAsync(ILambdaHandler handler, Invocation invocation, CancellationToken stoppingToken)
    {
        // Tracing SDKs read the header from the environment, as in Lambda's managed runtimes.
        _environment.SetVariable(LambdaEnvironmentVariables.TraceId, invocation.TraceId);

        var untilDeadline = invocation.Deadline - _options.DeadlineMargin - _timeProvider.GetUtcNow();
        using var deadline = new CancellationTokenSource(untilDeadline > TimeSpan.Zero ? untilDeadline : TimeSpan.Zero, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stoppingToken);
        var logger = _logger.ForRequest(invocation.RequestId);
        var context = new InvocationContext(
            invocation.RequestId,
            invocation.Deadline,
            invocation.InvokedFunctionArn,
            invocation.TraceId,
            _timeProvider,
            logger,
            linked.Token);

        Task<Stream> work;
        try
        {
            work = handler.HandleAsync(invocation.Body, context);
        }
        catch (Exception ex)
        {
            work = Task.FromException<Stream>(ex);
        }

        Stream? response = null;
        LambdaError? error = null;
        try
        {
            response = await work.WaitAsync(linked.Token).ConfigureAwait(false);
            if (response is null)
            {
                error = LambdaError.Create("The handler returned no response stream.", LambdaError.Types.NullResponse, []);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            error = LambdaError.Create(
                $"The handler did not finish before the deadline {invocation.Deadline:O}; it was cancelled {_options.DeadlineMargin.TotalMilliseconds:0} ms before it.",
                LambdaError.Types.DeadlineExceeded,
                []);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            error = LambdaError.Create("The runtime is shutting down.", LambdaError.Types.ShuttingDown, []);
        }
        catch (Exception ex)
        {
            error = LambdaError.FromException(ex);
            logger.LogError(ex, "Handler failed");
        }

        await using (response)
        {
            if (error is null && response is not null)
            {
                error = await TrySendResponseAsync(invocation.RequestId, response, logger).ConfigureAwait(false);
            }
        }

        if (error is not null)
        {
            if (error.ErrorType == LambdaError.Types.DeadlineExceeded)
            {
                logger.LogError("Invocation cancelled: {ErrorMessage}", error.ErrorMessage);
            }

            var exit = await TrySendErrorAsync(invocation.RequestId, error, logger).ConfigureAwait(false);
            if (exit != LambdaExitCodes.Stopped)
            {
                return exit;
            }
        }

        return await AbandonIfStillRunningAsync(work, responseUsed: response is not null, logger).ConfigureAwait(false);
    }

    private async Task<LambdaError?> TrySendResponseAsync(string requestId, Stream response, ILogger logger)
    {
        try
        {
            using var post = PostDeadline();
            await _runtimeApi.SendResponseAsync(requestId, response, post.Token).ConfigureAwait(false);
            return null;
        }
        catch (RuntimeApiException ex) when (ex.StatusCode is >= 400 and < 500)
        {
            // A 4xx (e.g. 413, response too large) refuses this response but the invocation
            // can still be closed with an error.
            logger.LogError(ex, "Runtime API refused the response");
            return LambdaError.Create(ex.Message, LambdaError.Types.ResponseRejected, []);
        }
        catch (Exception ex) when (ex is HttpRequestException or RuntimeApiException or IOException or OperationCanceledException)
        {
            logger.LogCritical(ex, "Could not post the response");
            return LambdaError.Create(ex.Message, LambdaError.Types.ResponseRejected, []);
        }
    }

    private async Task<int> TrySendErrorAsync(string requestId, LambdaError error, ILogger logger)
    {
        try
        {
            using var post = PostDeadline();
            await _runtimeApi.SendErrorAsync(requestId, error, post.Token).ConfigureAwait(false);
            return LambdaExitCodes.Stopped;
        }
        catch (Exception ex) when (ex is HttpRequestException or RuntimeApiException or IOException or OperationCanceledException)
        {
            logger.LogCritical(ex, "Could not post the invocation error; exiting");
            return LambdaExitCodes.RuntimeApiFailed;
        }
    }

    /// <summary>
    /// A handler that ignores its cancellation token would keep working beside the next
    /// invocation; ending the process makes Lambda start a clean one instead.
    /// </summary>
    private async Task<int> AbandonIfStillRunningAsync(Task<Stream> work, bool responseUsed, ILogger logger)
    {
        if (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(_options.CancellationGrace, _timeProvider)).ConfigureAwait(false);
        }

        if (!work.IsCompleted)
        {
            _ = work.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            logger.LogCritical("Handler ignored cancellation for {GraceMs} ms after its deadline; exiting", _options.CancellationGrace.TotalMilliseconds);
            return LambdaExitCodes.HandlerAbandoned;
        }

        // A handler that finished after its cancellation may still hand back a stream nobody reads.
        if (!responseUsed && work.IsCompletedSuccessfully && work.Result is { } late)
        {
            await late.DisposeAsync().ConfigureAwait(false);
        }

        return LambdaExitCodes.Stopped;
    }

    // Posts are not tied to the stopping token: a result already computed is still worth reporting.
    private CancellationTokenSource PostDeadline() => new(_options.PostTimeout, _timeProvider);
}
