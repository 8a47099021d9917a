using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Pipeline.LocalAws.Processes;

namespace Pipeline.Testing;

/// <summary>A request the stub received.</summary>
public sealed record StubRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>What the stub answers.</summary>
public sealed record StubResponse(int StatusCode, string Body, string ContentType = "application/json")
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A tiny HTTP server on 127.0.0.1 (HttpListener) that records requests and answers from a
/// handler: for services moto does not emulate (X-Ray sampling) and for fault injection.
/// </summary>
public sealed class LoopbackHttpStub : IAsyncDisposable
{
    private const int MaxBindAttempts = 5;
    private const int MaxRecordedRequests = 10_000;
    private readonly HttpListener _listener;
    private readonly Func<StubRequest, StubResponse> _handler;
    private readonly ConcurrentQueue<StubRequest> _requests = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private LoopbackHttpStub(HttpListener listener, Uri endpoint, Func<StubRequest, StubResponse> handler)
    {
        _listener = listener;
        _handler = handler;
        Endpoint = endpoint;
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    public IReadOnlyList<StubRequest> Requests => [.. _requests];

    /// <summary>Starts on a free loopback port (retrying if the port is taken in between).</summary>
    public static LoopbackHttpStub Start(Func<StubRequest, StubResponse> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        for (var attempt = 1; ; attempt++)
        {
            var port = LoopbackPorts.FreeTcp();
            var endpoint = new Uri($"http://127.0.0.1:{port}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(endpoint.ToString());
            try
            {
                listener.Start();
                return new LoopbackHttpStub(listener, endpoint, handler);
            }
            catch (HttpListenerException) when (attempt < MaxBindAttempts)
            {
                listener.Close();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            await HandleAsync(context).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body).ConfigureAwait(false);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in context.Request.Headers.AllKeys)
        {
            if (name is not null)
            {
                headers[name] = context.Request.Headers[name] ?? string.Empty;
            }
        }

        var request = new StubRequest(context.Request.HttpMethod, context.Request.Url?.AbsolutePath ?? "/", headers, body.ToArray());
        if (_requests.Count < MaxRecordedRequests)
        {
            _requests.Enqueue(request);
        }

        StubResponse response;
        try
        {
            response = _handler(request);
        }
        catch (Exception ex)
        {
            response = new StubResponse(599, ex.ToString(), "text/plain");
        }

        var bytes = Encoding.UTF8.GetBytes(response.Body);
        context.Response.StatusCode = response.StatusCode;
        context.Response.ContentType = response.ContentType;
        foreach (var (name, value) in response.Headers)
        {
            context.Response.Headers[name] = value;
        }

        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        context.Response.Close();
    }
}
