using Microsoft.Extensions.Logging;

namespace Pipeline.Lambda;

/// <summary>What a handler knows about the invocation it is serving.</summary>
public sealed class InvocationContext
{
    private readonly TimeProvider _timeProvider;

    public InvocationContext(
        string requestId,
        DateTimeOffset deadline,
        string? invokedFunctionArn,
        string? traceId,
        TimeProvider timeProvider,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        RequestId = requestId;
        Deadline = deadline;
        InvokedFunctionArn = invokedFunctionArn;
        TraceId = traceId;
        _timeProvider = timeProvider;
        Logger = logger;
        CancellationToken = cancellationToken;
    }

    /// <summary>The Lambda-Runtime-Aws-Request-Id of this invocation.</summary>
    public string RequestId { get; }

    /// <summary>When Lambda stops the invocation (Lambda-Runtime-Deadline-Ms).</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>Time left before <see cref="Deadline"/>, never negative.</summary>
    public TimeSpan RemainingTime
    {
        get
        {
            var remaining = Deadline - _timeProvider.GetUtcNow();
            return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
        }
    }

    /// <summary>Lambda-Runtime-Invoked-Function-Arn (may carry a version or alias).</summary>
    public string? InvokedFunctionArn { get; }

    /// <summary>The X-Ray tracing header (Lambda-Runtime-Trace-Id), e.g. <c>Root=1-…;Parent=…;Sampled=1</c>.</summary>
    public string? TraceId { get; }

    /// <summary>Fires shortly before <see cref="Deadline"/> (and on shutdown); handlers pass it to every call.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Writes JSON log lines tagged with the request id.</summary>
    public ILogger Logger { get; }
}
