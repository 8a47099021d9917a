using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pipeline.Testing;

/// <summary>
/// An in-test Lambda Runtime API (2018-06-01): a real HTTP server on 127.0.0.1 and a free port.
/// Queue invocations with <see cref="Enqueue(string, TimeSpan?, string?, string?)"/>; a runtime
/// pointed at <see cref="Address"/> (AWS_LAMBDA_RUNTIME_API) long-polls them from
/// <c>/invocation/next</c>, and every response, error and init error is recorded.
/// Differences from Lambda: it never freezes or kills the runtime, and it does not enforce deadlines.
/// </summary>
public sealed class RuntimeApiEmulator : IAsyncDisposable
{
    public const string DefaultFunctionArn = "arn:aws:lambda:us-east-1:123456789012:function:pipeline-test";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private const string Prefix = "/2018-06-01/runtime/";
    private const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";
    private const int MaxBodyBytes = 16 * 1024 * 1024;

    private readonly WebApplication _app;
    private readonly Channel<EmulatedInvocation> _queue = Channel.CreateUnbounded<EmulatedInvocation>();
    private readonly ConcurrentDictionary<string, EmulatedInvocation> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RuntimeApiCall> _calls = new();
    private readonly ConcurrentQueue<RecordedError> _initErrors = new();
    private readonly TaskCompletionSource<RecordedError> _firstInitError = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<long> _firstNext = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sequence;

    private RuntimeApiEmulator(WebApplication app)
    {
        _app = app;
        _app.Run(HandleAsync);
    }

    /// <summary>host:port to put in AWS_LAMBDA_RUNTIME_API.</summary>
    public string Address { get; private set; } = string.Empty;

    /// <summary>Every request received, in arrival order.</summary>
    public IReadOnlyList<RuntimeApiCall> Calls => [.. _calls];

    public IReadOnlyList<RecordedError> InitErrors => [.. _initErrors];

    /// <summary>Completes with the first <c>/init/error</c> post.</summary>
    public Task<RecordedError> FirstInitError => _firstInitError.Task;

    /// <summary>Completes with the Stopwatch timestamp of the first <c>/invocation/next</c> request.</summary>
    public Task<long> FirstNextRequest => _firstNext.Task;

    public static async Task<RuntimeApiEmulator> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(options => options.Limits.MaxRequestBodySize = MaxBodyBytes);
        var emulator = new RuntimeApiEmulator(builder.Build());
        await emulator._app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = emulator._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        emulator.Address = new Uri(address).Authority;
        return emulator;
    }

    /// <summary>Queues an event; the returned invocation's <see cref="EmulatedInvocation.Outcome"/> completes when the runtime answers.</summary>
    public EmulatedInvocation Enqueue(ReadOnlyMemory<byte> payload, TimeSpan? timeout = null, string? traceId = null, string? functionArn = null)
    {
        var number = Interlocked.Increment(ref _sequence);
        var invocation = new EmulatedInvocation(
            $"00000000-0000-4000-8000-{number:D12}",
            payload,
            timeout ?? DefaultTimeout,
            traceId,
            functionArn ?? DefaultFunctionArn);
        _byId[invocation.RequestId] = invocation;
        _queue.Writer.TryWrite(invocation);
        return invocation;
    }

    public EmulatedInvocation Enqueue(string payload, TimeSpan? timeout = null, string? traceId = null, string? functionArn = null) =>
        Enqueue(Encoding.UTF8.GetBytes(payload), timeout, traceId, functionArn);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? string.Empty;
        var timestamp = Stopwatch.GetTimestamp();
        _calls.Enqueue(new RuntimeApiCall(request.Method, path, timestamp));
        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var route = path[Prefix.Length..];
        if (HttpMethods.IsGet(request.Method) && route == "invocation/next")
        {
            _firstNext.TrySetResult(timestamp);
            await ServeNextAsync(context).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        var body = await ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        var errorType = request.Headers[ErrorTypeHeader].ToString() is { Length: > 0 } header ? header : null;
        if (route == "init/error")
        {
            var error = RecordedError.Parse(body, errorType);
            _initErrors.Enqueue(error);
            _firstInitError.TrySetResult(error);
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        var parts = route.Split('/');
        if (parts.Length == 3 && parts[0] == "invocation" && parts[2] is "response" or "error"
            && _byId.TryGetValue(Uri.UnescapeDataString(parts[1]), out var invocation))
        {
            var outcome = new InvocationOutcome(invocation.RequestId, parts[2] == "error", body, errorType, timestamp);
            context.Response.StatusCode = invocation.Complete(outcome)
                ? StatusCodes.Status202Accepted
                : StatusCodes.Status400BadRequest;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
    }

    private async Task ServeNextAsync(HttpContext context)
    {
        EmulatedInvocation invocation;
        try
        {
            invocation = await _queue.Reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            return;
        }

        var deadline = DateTimeOffset.UtcNow + invocation.Timeout;
        invocation.HandedOut(deadline);
        var headers = context.Response.Headers;
        headers["Lambda-Runtime-Aws-Request-Id"] = invocation.RequestId;
        headers["Lambda-Runtime-Deadline-Ms"] = deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        headers["Lambda-Runtime-Invoked-Function-Arn"] = invocation.FunctionArn;
        if (invocation.TraceId is not null)
        {
            headers["Lambda-Runtime-Trace-Id"] = invocation.TraceId;
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = invocation.Payload.Length;
        await context.Response.Body.WriteAsync(invocation.Payload, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }
}

/// <summary>One queued event and, once the runtime answers, its outcome.</summary>
public sealed class EmulatedInvocation
{
    private readonly TaskCompletionSource<InvocationOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal EmulatedInvocation(string requestId, ReadOnlyMemory<byte> payload, TimeSpan timeout, string? traceId, string functionArn)
    {
        RequestId = requestId;
        Payload = payload;
        Timeout = timeout;
        TraceId = traceId;
        FunctionArn = functionArn;
    }

    public string RequestId { get; }

    public ReadOnlyMemory<byte> Payload { get; }

    public TimeSpan Timeout { get; }

    public string? TraceId { get; }

    public string FunctionArn { get; }

    /// <summary>The deadline sent with the event, once a runtime took it.</summary>
    public DateTimeOffset? Deadline { get; private set; }

    /// <summary>Completes when the runtime posts a response or an error for this request id.</summary>
    public Task<InvocationOutcome> Outcome => _outcome.Task;

    internal void HandedOut(DateTimeOffset deadline) => Deadline = deadline;

    internal bool Complete(InvocationOutcome outcome) => _outcome.TrySetResult(outcome);
}

/// <param name="Timestamp">Stopwatch timestamp of the post.</param>
public sealed record InvocationOutcome(string RequestId, bool IsError, byte[] Body, string? ErrorTypeHeader, long Timestamp)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>The parsed error document when <see cref="IsError"/>.</summary>
    public RecordedError? Error => IsError ? RecordedError.Parse(Body, ErrorTypeHeader) : null;
}

/// <summary>A posted Lambda error document; fields are null when the runtime left them out.</summary>
public sealed record RecordedError(string? ErrorMessage, string? ErrorType, IReadOnlyList<string>? StackTrace, string? ErrorTypeHeader, string RawBody)
{
    internal static RecordedError Parse(byte[] body, string? errorTypeHeader)
    {
        var raw = Encoding.UTF8.GetString(body);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return new RecordedError(
                Text(root, "errorMessage"),
                Text(root, "errorType"),
                root.TryGetProperty("stackTrace", out var frames) && frames.ValueKind == JsonValueKind.Array
                    ? [.. frames.EnumerateArray().Select(f => f.GetString() ?? string.Empty)]
                    : null,
                errorTypeHeader,
                raw);
        }
        catch (JsonException)
        {
            return new RecordedError(null, null, null, errorTypeHeader, raw);
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}

/// <param name="Timestamp">Stopwatch timestamp of arrival.</param>
public sealed record RuntimeApiCall(string Method, string Path, long Timestamp);
