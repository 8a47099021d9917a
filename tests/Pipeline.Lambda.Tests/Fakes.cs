using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Pipeline.Lambda;

namespace Pipeline.Lambda.Tests;

/// <summary>In-memory Runtime API: invocations are queued by the test, posts are recorded.</summary>
internal sealed class FakeRuntimeApiClient : IRuntimeApiClient
{
    private readonly Channel<Invocation> _queue = Channel.CreateUnbounded<Invocation>();
    private readonly ConcurrentQueue<Posted> _posts = new();
    private readonly Channel<Posted> _postSignal = Channel.CreateUnbounded<Posted>();

    public int NextCalls { get; private set; }

    public Exception? NextFailure { get; set; }

    public Exception? ResponseFailure { get; set; }

    public IReadOnlyList<Posted> Posts => [.. _posts];

    public void Enqueue(string requestId, string body, DateTimeOffset deadline, string? traceId = null) =>
        _queue.Writer.TryWrite(new Invocation(requestId, deadline, "arn:aws:lambda:us-east-1:123456789012:function:f", traceId, new MemoryStream(Encoding.UTF8.GetBytes(body))));

    /// <summary>Waits (bounded) for the next post the host makes.</summary>
    public async Task<Posted> NextPostAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await _postSignal.Reader.ReadAsync(timeout.Token);
    }

    public async Task<Invocation> GetNextInvocationAsync(CancellationToken cancellationToken)
    {
        NextCalls++;
        if (NextFailure is not null)
        {
            throw NextFailure;
        }

        return await _queue.Reader.ReadAsync(cancellationToken);
    }

    public async Task SendResponseAsync(string requestId, Stream response, CancellationToken cancellationToken)
    {
        if (ResponseFailure is not null)
        {
            throw ResponseFailure;
        }

        using var reader = new StreamReader(response);
        Record(new Posted(PostKind.Response, requestId, await reader.ReadToEndAsync(cancellationToken), null));
    }

    public Task SendErrorAsync(string requestId, LambdaError lambdaError, CancellationToken cancellationToken)
    {
        Record(new Posted(PostKind.Error, requestId, null, lambdaError));
        return Task.CompletedTask;
    }

    public Task SendInitErrorAsync(LambdaError lambdaError, CancellationToken cancellationToken)
    {
        Record(new Posted(PostKind.InitError, null, null, lambdaError));
        return Task.CompletedTask;
    }

    private void Record(Posted posted)
    {
        _posts.Enqueue(posted);
        _postSignal.Writer.TryWrite(posted);
    }
}

internal enum PostKind
{
    Response,
    Error,
    InitError,
}

internal sealed record Posted(PostKind Kind, string? RequestId, string? Body, LambdaError? Error);

/// <summary>A handler defined by a delegate, so each test states its behaviour inline.</summary>
internal sealed class DelegateHandler(Func<string, InvocationContext, Task<string>> handle) : ILambdaHandler
{
    public async Task<Stream> HandleAsync(Stream input, InvocationContext context)
    {
        using var reader = new StreamReader(input);
        var text = await reader.ReadToEndAsync(context.CancellationToken);
        return new MemoryStream(Encoding.UTF8.GetBytes(await handle(text, context)));
    }
}
