using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws.Kinesis;
using Pipeline.Lambda;
using Pipeline.LocalAws.Esm;

namespace Pipeline.IntegrationTests.Proof;

/// <summary>
/// The proof tests' event-source mapping: the harness's one emulator (local mode's, see
/// tools/Pipeline.LocalAws/Esm) reading moto directly, one handler per shard, with
/// ReportBatchItemFailures, bisection when asked, and a <see cref="KillSwitch"/> that turns a
/// "killed sandbox" into a function error whatever the handler returned. Retries are bounded; a
/// batch the mapping would discard fails the test, because the property under test is that
/// nothing is lost.
/// </summary>
internal sealed class ProofMapping : IAsyncDisposable
{
    private readonly EventSourceMapping _mapping;
    private int _started;

    public ProofMapping(IKinesisClient kinesis, string stream, Func<ILambdaHandler> handler, KillSwitch? kill, EventSourceMappingOptions options)
    {
        _mapping = new EventSourceMapping(
            kinesis,
            stream,
            $"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}",
            "us-east-1",
            _ => ValueTask.FromResult<ILambdaHandler>(kill is null ? handler() : new Killable(handler(), kill)),
            options,
            TimeProvider.System,
            NullLogger.Instance);
    }

    /// <summary>Retries of a failing batch; past them the mapping would discard it, which fails the test.</summary>
    public const int MaxAttempts = 20;

    public long Invocations => _mapping.Counters.Invocations;

    public long FunctionErrors => _mapping.Counters.Count(DeliveryOutcome.FunctionError);

    /// <summary>Invocations that answered with batchItemFailures.</summary>
    public long ReportedFailures => _mapping.Counters.Count(DeliveryOutcome.PartialFailure) + _mapping.Counters.Count(DeliveryOutcome.BadItemIdentifier);

    /// <summary>Records the handler has acknowledged (the checkpoint moved past them).</summary>
    public long RecordsDelivered => _mapping.Counters.Acknowledged;

    /// <summary>The options of these tests: small waits, the given batch shapes, retries up to <see cref="MaxAttempts"/>.</summary>
    public static EventSourceMappingOptions Options(int batchSize, bool bisect, int? retryBatchSize) => new()
    {
        BatchSize = batchSize,
        BisectOnFunctionError = bisect,
        RetryBatchSize = retryBatchSize,
        BatchingWindow = TimeSpan.FromMilliseconds(100),
        PollInterval = TimeSpan.FromMilliseconds(200),
        MaxRetryAttempts = MaxAttempts,
        RetryDelay = TimeSpan.FromMilliseconds(20),
        MaxRetryDelay = TimeSpan.FromMilliseconds(500),
        InvocationTimeout = TimeSpan.FromMinutes(5),
        DrainTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Starts polling every shard in the background (once).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            await _mapping.StartAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Polls until <paramref name="done"/> holds and every shard has then been read to its end, or
    /// the time runs out (then throws); then stops the mapping.
    /// </summary>
    public async Task RunUntilAsync(Func<Task<bool>> done, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            while (!await done())
            {
                await Task.Delay(200, bounded.Token);
            }

            await _mapping.WaitUntilCaughtUpAsync(bounded.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the mapping did not reach its goal in {timeout} ({Invocations} invocations, {FunctionErrors} function errors, {ReportedFailures} reported failures)");
        }
        finally
        {
            await _mapping.StopAsync();
        }

        if (_mapping.Counters.DiscardedRecords > 0)
        {
            throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"{_mapping.Counters.DiscardedRecords} record(s) failed {MaxAttempts} times and were discarded"));
        }
    }

    public ValueTask DisposeAsync() => _mapping.DisposeAsync();

    /// <summary>The handler inside a sandbox that <see cref="KillSwitch"/> can kill mid-invocation.</summary>
    private sealed class Killable(ILambdaHandler inner, KillSwitch kill) : ILambdaHandler
    {
        public async Task<Stream> HandleAsync(Stream input, InvocationContext context)
        {
            using var invocation = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
            kill.Arm(invocation);
            var armed = new InvocationContext(context.RequestId, context.Deadline, context.InvokedFunctionArn, context.TraceId, TimeProvider.System, context.Logger, invocation.Token);
            Stream? output = null;
            Exception? failure = null;
            try
            {
                output = await inner.HandleAsync(input, armed);
            }
            catch (Exception e)
            {
                failure = e;
            }

            if (kill.Disarm())
            {
                // The process died mid-invocation: Lambda saw no answer, whatever the handler did after.
                if (output is not null)
                {
                    await output.DisposeAsync();
                }

                throw new OperationCanceledException("the sandbox was killed during the invocation", failure);
            }

            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }

            return output!;
        }
    }
}

/// <summary>
/// Simulates the Lambda sandbox being killed at a chosen point of an invocation: the fault
/// wrappers call <see cref="Trip"/>, which cancels the invocation; from then on every wrapped call
/// refuses to act (a dead process writes nothing more) and the driver treats the invocation as a
/// function error whatever the handler returns.
/// </summary>
internal sealed class KillSwitch
{
    private CancellationTokenSource? _invocation;
    private volatile bool _tripped;

    public int Kills { get; private set; }

    public bool IsDead => _tripped;

    public void Arm(CancellationTokenSource invocation)
    {
        _invocation = invocation;
        _tripped = false;
    }

    public void Trip()
    {
        if (!_tripped)
        {
            _tripped = true;
            Kills++;
            _invocation?.Cancel();
        }
    }

    /// <summary>True when this invocation was killed.</summary>
    public bool Disarm()
    {
        var tripped = _tripped;
        _tripped = false;
        _invocation = null;
        return tripped;
    }

    public void ThrowIfDead()
    {
        if (_tripped)
        {
            throw new OperationCanceledException("the process was killed");
        }
    }
}
