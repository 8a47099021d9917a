using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Relay.Logging;

namespace Relay.Http;

/// <summary>A parsed HTTP/1.1 request (headers lower-cased by name).</summary>
public sealed record HttpRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>A response to write back.</summary>
public sealed record HttpResponse(int Status, string ContentType, byte[] Body)
{
    public static HttpResponse Text(int status, string text, string contentType = "text/plain; charset=utf-8") =>
        new(status, contentType, Encoding.UTF8.GetBytes(text));

    public static HttpResponse Json(int status, byte[] body) => new(status, "application/json", body);
}

/// <summary>
/// A deliberately small HTTP/1.1 server for the relay's two local listeners (SDK sampling calls,
/// /healthz and /metrics): Content-Length bodies, keep-alive, bounded header and body sizes,
/// bounded connections and an idle timeout. Kestrel would add tens of MB of RSS and a large
/// AOT footprint for three routes; the SDK clients (botocore, the Go/Java/Node/.NET SDKs) send
/// plain Content-Length requests, which is all this accepts (chunked bodies get 411).
/// </summary>
public sealed class MiniHttpServer : IDisposable
{
    public const int MaxHeaderBytes = 16 * 1024;
    /// <summary>Default cap on a request body: SDK sampling calls are a few KB.</summary>
    public const int DefaultMaxBodyBytes = 1024 * 1024;
    public const int MaxConnections = 64;
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    private readonly Socket _listener;
    private readonly Func<HttpRequest, CancellationToken, Task<HttpResponse>> _handler;
    private readonly JsonLog _log;
    private readonly string _name;
    private readonly int _maxBodyBytes;
    private readonly CancellationTokenSource _stop = new();
    private Task? _acceptLoop;
    private int _connections;

    public MiniHttpServer(IPEndPoint bind, Func<HttpRequest, CancellationToken, Task<HttpResponse>> handler, JsonLog log, string name, int maxBodyBytes = DefaultMaxBodyBytes)
    {
        _maxBodyBytes = maxBodyBytes;
        ArgumentNullException.ThrowIfNull(bind);
        _handler = handler;
        _log = log;
        _name = name;
        _listener = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Bind(bind);
            _listener.Listen(128);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        LocalEndpoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    public IPEndPoint LocalEndpoint { get; }

    public void Start() => _acceptLoop = AcceptLoopAsync(_stop.Token);

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (Interlocked.Increment(ref _connections) > MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                client.Dispose();
                continue;
            }

            _ = ServeAsync(client, cancellationToken);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = new NetworkStream(client, ownsSocket: true);
            var buffer = new byte[MaxHeaderBytes];
            var filled = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                idle.CancelAfter(IdleTimeout);
                int headerEnd;
                while ((headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    if (filled == buffer.Length)
                    {
                        await WriteAsync(stream, HttpResponse.Text(431, "headers too large\n"), close: true, idle.Token).ConfigureAwait(false);
                        return;
                    }

                    var read = await stream.ReadAsync(buffer.AsMemory(filled), idle.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    filled += read;
                }

                var head = Encoding.ASCII.GetString(buffer, 0, headerEnd).Split("\r\n");
                var requestLine = head[0].Split(' ');
                if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
                {
                    await WriteAsync(stream, HttpResponse.Text(400, "bad request line\n"), close: true, idle.Token).ConfigureAwait(false);
                    return;
                }

                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var line in head.AsSpan(1))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
                    }
                }

                var close = requestLine[2] == "HTTP/1.0" || (headers.TryGetValue("connection", out var connection) && connection.Equals("close", StringComparison.OrdinalIgnoreCase));
                if (headers.ContainsKey("transfer-encoding"))
                {
                    await WriteAsync(stream, HttpResponse.Text(411, "send a Content-Length body\n"), close: true, idle.Token).ConfigureAwait(false);
                    return;
                }

                var length = 0;
                if (headers.TryGetValue("content-length", out var declared)
                    && (!int.TryParse(declared, NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > _maxBodyBytes))
                {
                    await WriteAsync(stream, HttpResponse.Text(413, "body too large\n"), close: true, idle.Token).ConfigureAwait(false);
                    return;
                }

                if (headers.TryGetValue("expect", out var expect) && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
                {
                    await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), idle.Token).ConfigureAwait(false);
                }

                var body = new byte[length];
                var consumed = headerEnd + 4;
                var fromBuffer = Math.Min(length, filled - consumed);
                buffer.AsSpan(consumed, fromBuffer).CopyTo(body);
                consumed += fromBuffer;
                if (fromBuffer < length)
                {
                    await stream.ReadExactlyAsync(body.AsMemory(fromBuffer), idle.Token).ConfigureAwait(false);
                }

                // Keep any pipelined bytes of the next request.
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;

                var path = requestLine[1];
                var query = path.IndexOf('?', StringComparison.Ordinal);
                var request = new HttpRequest(requestLine[0].ToUpperInvariant(), query >= 0 ? path[..query] : path, headers, body);
                HttpResponse response;
                try
                {
                    response = await _handler(request, idle.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    _log.Error("http handler failed", ("listener", _name), ("path", request.Path), ("error", e.Message));
                    response = HttpResponse.Text(500, "internal error\n");
                }

                await WriteAsync(stream, response, close, idle.Token).ConfigureAwait(false);
                if (close)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
        {
            // The client went away or idled out; nothing to answer.
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    private static async Task WriteAsync(NetworkStream stream, HttpResponse response, bool close, CancellationToken cancellationToken)
    {
        var head = $"HTTP/1.1 {response.Status.ToString(CultureInfo.InvariantCulture)} {Reason(response.Status)}\r\nContent-Type: {response.ContentType}\r\nContent-Length: {response.Body.Length.ToString(CultureInfo.InvariantCulture)}\r\nConnection: {(close ? "close" : "keep-alive")}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(response.Body, cancellationToken).ConfigureAwait(false);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        _ => status >= 500 ? "Server Error" : "Status",
    };
}
