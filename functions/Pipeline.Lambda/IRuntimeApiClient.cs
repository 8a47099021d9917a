namespace Pipeline.Lambda;

/// <summary>The Lambda Runtime API as the host uses it (version 2018-06-01).</summary>
public interface IRuntimeApiClient
{
    /// <summary>Long-polls for the next event; returns when Lambda has one for this sandbox.</summary>
    Task<Invocation> GetNextInvocationAsync(CancellationToken cancellationToken);

    Task SendResponseAsync(string requestId, Stream response, CancellationToken cancellationToken);

    Task SendErrorAsync(string requestId, LambdaError lambdaError, CancellationToken cancellationToken);

    Task SendInitErrorAsync(LambdaError lambdaError, CancellationToken cancellationToken);
}

/// <summary>One event handed out by <c>/invocation/next</c>; disposing it releases the body.</summary>
public sealed class Invocation : IDisposable
{
    private readonly IDisposable? _owner;

    public Invocation(string requestId, DateTimeOffset deadline, string? invokedFunctionArn, string? traceId, Stream body, IDisposable? owner = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        ArgumentNullException.ThrowIfNull(body);
        RequestId = requestId;
        Deadline = deadline;
        InvokedFunctionArn = invokedFunctionArn;
        TraceId = traceId;
        Body = body;
        _owner = owner;
    }

    public string RequestId { get; }

    public DateTimeOffset Deadline { get; }

    public string? InvokedFunctionArn { get; }

    public string? TraceId { get; }

    public Stream Body { get; }

    public void Dispose()
    {
        Body.Dispose();
        _owner?.Dispose();
    }
}

/// <summary>The Runtime API answered with an unexpected status or left out a required header.</summary>
public sealed class RuntimeApiException : Exception
{
    public RuntimeApiException(string message, int? statusCode = null)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public RuntimeApiException()
    {
    }

    public RuntimeApiException(string message)
        : base(message)
    {
    }

    public RuntimeApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status, when there was a response.</summary>
    public int? StatusCode { get; }
}
