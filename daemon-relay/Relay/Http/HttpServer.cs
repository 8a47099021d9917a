using Pipeline.Runtime.Logging;
using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Relay.Logging;

namespace Relay.Http;

/// <summary>
/// The relay's HTTP/1.1 server, one instance per listener (SDK sampling, /healthz + /metrics,
/// OTLP/HTTP). Small on purpose: measured against Kestrel in the AOT relay (daemon-relay/README.md,
/// "HTTP layer") it keeps the node binary inside its memory budget. What it guarantees:
/// <list type="bullet">
/// <item>each listener has its own connection budget (<see cref="HttpListenerLimits.MaxConnections"/>);
/// at the cap a new connection evicts the connection that has waited longest without a request in
/// a handler (idle first, then slow senders), so slow or idle clients cannot starve a probe or an
/// SDK; only when every slot is inside a handler is the newcomer answered 503 and closed;</item>
/// <item>timeouts per phase: first request, keep-alive idle, headers, body (grace + minimum rate),
/// response write;</item>
/// <item>strict parsing (<see cref="HttpRequestParser"/>) with a bounded response and a counter for
/// every refusal; Content-Length and chunked bodies, Expect: 100-continue, keep-alive and
/// pipelining;</item>
/// <item>every connection task is tracked and <see cref="StopAsync"/> waits for them;</item>
/// <item>an exclusive bind: a taken port is a start-up error naming the listener.</item>
/// </list>
/// </summary>
public sealed class HttpServer : IAsyncDisposable, IDisposable
{
    /// <summary>Pending connections the kernel queues for accept.</summary>
    private const int ListenBacklog = 128;

    /// <summary>Longest chunk-size line or trailer field accepted in a chunked body.</summary>
    private const int MaxChunkLineBytes = 1024;

    /// <summary>After a refusal, how long and how much of the client's remaining request is read and discarded.</summary>
    private static readonly TimeSpan RejectLinger = TimeSpan.FromMilliseconds(500);

    private const int MaxRejectDrainBytes = 256 * 1024;

    /// <summary>Responses up to this size are written with one send (head and body in one buffer).</summary>
    private const int SingleWriteBytes = 16 * 1024;

    private static readonly byte[] ContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray();

    private readonly Socket _listener;
    private readonly HttpHandler _handler;
    private readonly Http2ConnectionHandler? _http2;
    private readonly HttpListenerLimits _limits;
    private readonly JsonLog _log;
    private readonly LogRateLimiter _limitedLog;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<long, Connection> _connections = [];
    private readonly Lock _lock = new();
    private Task? _acceptLoop;
    private long _nextId;
    private volatile bool _stopping;

    /// <param name="http2">Serves connections that open with the HTTP/2 preface (h2c prior knowledge); null refuses them.</param>
    public HttpServer(string name, IPEndPoint bind, HttpHandler handler, HttpListenerLimits limits, HttpServerMetrics metrics, JsonLog log, TimeProvider time, Http2ConnectionHandler? http2 = null)
    {
        _http2 = http2;
        ArgumentNullException.ThrowIfNull(bind);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        Name = name;
        _handler = handler;
        _limits = limits;
        Metrics = metrics;
        _log = log;
        _limitedLog = new LogRateLimiter(log, time);
        _time = time;
        _listener = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            ListenerBindException.Bind(_listener, bind, name);
            _listener.Listen(ListenBacklog);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        LocalEndpoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    public string Name { get; }

    public IPEndPoint LocalEndpoint { get; }

    public HttpServerMetrics Metrics { get; }

    public HttpListenerLimits Limits => _limits;

    /// <summary>Connections open now (tracked, including those being closed).</summary>
    public int OpenConnections
    {
        get
        {
            lock (_lock)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>The phase of each open connection (Idle, ReadingHeaders, ReadingBody, Handling, Writing), for tests.</summary>
    internal IReadOnlyList<string> ConnectionPhases() => [.. Snapshot().Select(c => c.State.ToString())];

    public void Start() => _acceptLoop = AcceptLoopAsync(_stop.Token);

    /// <summary>
    /// Stops accepting, closes idle connections, lets requests in a handler finish (their response
    /// says Connection: close) for up to <see cref="HttpListenerLimits.StopTimeout"/>, then aborts the rest,
    /// and returns when every connection task has ended.
    /// </summary>
    public async Task StopAsync()
    {
        if (_stopping)
        {
            await WaitForConnectionsAsync().ConfigureAwait(false);
            return;
        }

        _stopping = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        foreach (var connection in Snapshot())
        {
            if (connection.State is ConnectionState.Idle or ConnectionState.ReadingHeaders)
            {
                connection.Abort(CloseCause.Stopping);
            }
        }

        try
        {
            await WaitForConnectionsAsync().WaitAsync(_limits.StopTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.Warn("http connections still busy at stop; aborting them", ("listener", Name), ("connections", OpenConnections));
            foreach (var connection in Snapshot())
            {
                connection.Abort(CloseCause.Stopping);
            }

            await WaitForConnectionsAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Closes the listener and aborts every connection without waiting (prefer <see cref="DisposeAsync"/>).</summary>
    public void Dispose()
    {
        _stopping = true;
        _stop.Cancel();
        _listener.Dispose();
        foreach (var connection in Snapshot())
        {
            connection.Abort(CloseCause.Stopping);
        }
    }

    private Connection[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _connections.Values];
        }
    }

    private Task WaitForConnectionsAsync() => Task.WhenAll(Snapshot().Select(c => c.Completion));

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Per-connection accept errors (ECONNABORTED, EMFILE): keep serving.
                _limitedLog.Write(LogSeverity.Warn, Name + ":accept", "http accept failed", ("listener", Name), ("error", e.SocketErrorCode.ToString()));
                continue;
            }

            client.NoDelay = true;
            Connection? connection = null;
            lock (_lock)
            {
                if (_connections.Count >= _limits.MaxConnections && !EvictOneLocked())
                {
                    Metrics.OnRefused();
                }
                else
                {
                    connection = new Connection(++_nextId, client, _time, _time.GetTimestamp());
                    connection.Enter(ConnectionState.Idle, _limits.FirstRequestTimeout);
                    _connections.Add(connection.Id, connection);
                }
            }

            if (connection is null)
            {
                Refuse(client);
                continue;
            }

            Metrics.OnAccepted();
            connection.Completion = Task.Run(() => ServeAsync(connection), CancellationToken.None);
        }
    }

    /// <summary>Closes the connection that has waited longest outside a handler (idle ones first); false when none can go.</summary>
    private bool EvictOneLocked()
    {
        Connection? victim = null;
        foreach (var candidate in _connections.Values)
        {
            if (candidate.Cause != CloseCause.None || candidate.State is ConnectionState.Handling or ConnectionState.Writing)
            {
                continue;
            }

            if (victim is null || Rank(candidate).CompareTo(Rank(victim)) < 0)
            {
                victim = candidate;
            }
        }

        if (victim is null)
        {
            return false;
        }

        victim.Abort(CloseCause.Evicted);
        Metrics.OnEvicted();
        return true;

        static (int Order, long Since) Rank(Connection c) => (c.State switch { ConnectionState.Idle => 0, ConnectionState.Http2 => 2, _ => 1 }, c.StateSince);
    }

    /// <summary>A bounded 503 to a connection that found every slot busy in a handler; never blocks the accept loop.</summary>
    private static void Refuse(Socket client)
    {
        try
        {
            client.Blocking = false;
            client.Send("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\nRetry-After: 1\r\nConnection: close\r\n\r\ntoo many connections\r\n"u8);
        }
        catch (SocketException)
        {
            // The client is gone or not reading; closing is all that is left.
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task ServeAsync(Connection connection)
    {
        var input = new InputBuffer(_limits.MaxHeaderBytes);
        var stream = new NetworkStream(connection.Socket, ownsSocket: true);
        try
        {
            var first = true;
            while (true)
            {
                var outcome = await ServeOneAsync(connection, stream, input, first).ConfigureAwait(false);
                first = false;
                if (!outcome || _stopping)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or EndOfStreamException)
        {
            // The client went away; nothing to answer.
        }
        catch (OperationCanceledException)
        {
            await OnCancelledAsync(connection).ConfigureAwait(false);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            input.Dispose();
            connection.Dispose();
            lock (_lock)
            {
                _connections.Remove(connection.Id);
            }

            Metrics.OnClosed();
        }
    }

    private async Task OnCancelledAsync(Connection connection)
    {
        if (connection.Cause != CloseCause.None)
        {
            return;
        }

        switch (connection.State)
        {
            case ConnectionState.Idle:
                Metrics.OnIdleClosed();
                break;
            case ConnectionState.ReadingHeaders:
                await RejectAsync(connection, HttpRejectReason.HeadersTimeout).ConfigureAwait(false);
                break;
            case ConnectionState.ReadingBody:
                await RejectAsync(connection, HttpRejectReason.BodyTimeout).ConfigureAwait(false);
                break;
            case ConnectionState.Http2:
                break;
            default:
                _limitedLog.Write(LogSeverity.Debug, Name + ":write_timeout", "http response write timed out", ("listener", Name));
                break;
        }
    }

    /// <summary>One request/response exchange; false when the connection is to be closed.</summary>
    private async Task<bool> ServeOneAsync(Connection connection, NetworkStream stream, InputBuffer input, bool first)
    {
        if (!first)
        {
            // A new connection's first-request deadline was set when it was accepted.
            connection.Enter(ConnectionState.Idle, _limits.KeepAliveTimeout);
        }

        var token = connection.Token;
        input.SkipEmptyLines();
        if (input.Count == 0 && !await input.FillAsync(stream, token).ConfigureAwait(false))
        {
            return false;
        }

        connection.Enter(ConnectionState.ReadingHeaders, _limits.HeadersTimeout);
        int headerEnd;
        while (true)
        {
            input.SkipEmptyLines();
            if (input.Data.StartsWith(HttpRequestParser.Http2Preface))
            {
                if (_http2 is null || !first)
                {
                    return await RejectAsync(connection, HttpRejectReason.Http2NotSupported).ConfigureAwait(false);
                }

                connection.Enter(ConnectionState.Http2, Timeout.InfiniteTimeSpan);
                Metrics.OnRequest();
                await _http2(new Http2Connection(stream, input.Data.ToArray(), _limits, token, _stop.Token)).ConfigureAwait(false);
                return false;
            }

            if ((headerEnd = input.Data.IndexOf("\r\n\r\n"u8)) >= 0)
            {
                break;
            }

            if (input.IsFull)
            {
                return await RejectAsync(connection, HttpRejectReason.HeadersTooLarge).ConfigureAwait(false);
            }

            if (!await input.FillAsync(stream, token).ConfigureAwait(false))
            {
                return false;
            }
        }

        var rejection = HttpRequestParser.TryParse(input.Data[..headerEnd], _limits.MaxHeaderCount, out var head);
        input.Consume(headerEnd + 4);
        if (rejection is { } reason)
        {
            return await RejectAsync(connection, reason).ConfigureAwait(false);
        }

        if (head!.ContentLength > _limits.MaxBodyBytes)
        {
            return await RejectAsync(connection, HttpRejectReason.BodyTooLarge).ConfigureAwait(false);
        }

        byte[]? body = null;
        var bodyLength = 0;
        try
        {
            if (head.ContentLength > 0 || head.Chunked)
            {
                if (head.ExpectContinue)
                {
                    await stream.WriteAsync(ContinueResponse, token).ConfigureAwait(false);
                }

                connection.Enter(ConnectionState.ReadingBody, _limits.BodyTimeout(head.Chunked ? _limits.MaxBodyBytes : head.ContentLength));
                if (head.Chunked)
                {
                    (body, bodyLength, rejection) = await ReadChunkedAsync(stream, input, token).ConfigureAwait(false);
                    if (rejection is { } chunkReason)
                    {
                        return await RejectAsync(connection, chunkReason).ConfigureAwait(false);
                    }
                }
                else
                {
                    bodyLength = (int)head.ContentLength;
                    body = ArrayPool<byte>.Shared.Rent(bodyLength);
                    var fromBuffer = Math.Min(bodyLength, input.Count);
                    input.Data[..fromBuffer].CopyTo(body);
                    input.Consume(fromBuffer);
                    await stream.ReadExactlyAsync(body.AsMemory(fromBuffer, bodyLength - fromBuffer), token).ConfigureAwait(false);
                }
            }

            connection.Enter(ConnectionState.Handling, Timeout.InfiniteTimeSpan);
            Metrics.OnRequest();
            var request = new HttpRequest(head.Method, head.Path, head.Query, head.Headers, body is null ? ReadOnlyMemory<byte>.Empty : body.AsMemory(0, bodyLength));
            HttpResponse response;
            try
            {
                response = await _handler(request, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && token.IsCancellationRequested))
            {
                Metrics.OnRejected(HttpRejectReason.HandlerFailed);
                _limitedLog.Write(LogSeverity.Error, Name + ":handler", "http handler failed", ("listener", Name), ("path", request.Path), ("error", e.GetType().Name), ("detail", e.Message));
                response = HttpResponse.Text(500, HttpRejectReasons.Message(HttpRejectReason.HandlerFailed));
            }

            var keepAlive = head.KeepAlive && !_stopping;
            connection.Enter(ConnectionState.Writing, _limits.WriteTimeout);
            Metrics.OnResponse(response.Status);
            await WriteAsync(stream, response, keepAlive, head.Method == "HEAD", token).ConfigureAwait(false);
            return keepAlive;
        }
        finally
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }
    }

    /// <summary>Decodes a chunked body (RFC 9112 §7.1) into a pooled array; trailers are read and ignored.</summary>
    private async Task<(byte[]? Body, int Length, HttpRejectReason? Rejection)> ReadChunkedAsync(NetworkStream stream, InputBuffer input, CancellationToken token)
    {
        var body = ArrayPool<byte>.Shared.Rent(Math.Min(_limits.MaxBodyBytes, 4096));
        var length = 0;
        try
        {
            while (true)
            {
                var line = await ReadLineAsync(stream, input, token).ConfigureAwait(false);
                if (line is null || !TryParseChunkSize(line, out var size))
                {
                    return Fail(HttpRejectReason.BadChunk);
                }

                if (size == 0)
                {
                    // Trailer fields up to the blank line; bounded by the header count.
                    for (var fields = 0; ; fields++)
                    {
                        var trailer = await ReadLineAsync(stream, input, token).ConfigureAwait(false);
                        if (trailer is null || fields > _limits.MaxHeaderCount)
                        {
                            return Fail(HttpRejectReason.BadChunk);
                        }

                        if (trailer.Length == 0)
                        {
                            return (body, length, null);
                        }
                    }
                }

                if (length + size > _limits.MaxBodyBytes)
                {
                    return Fail(HttpRejectReason.BodyTooLarge);
                }

                if (length + size > body.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(_limits.MaxBodyBytes, Math.Max(body.Length * 2L, length + size)));
                    body.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(body);
                    body = larger;
                }

                var fromBuffer = (int)Math.Min(size, input.Count);
                input.Data[..fromBuffer].CopyTo(body.AsSpan(length));
                input.Consume(fromBuffer);
                await stream.ReadExactlyAsync(body.AsMemory(length + fromBuffer, (int)size - fromBuffer), token).ConfigureAwait(false);
                length += (int)size;
                if (await ReadLineAsync(stream, input, token).ConfigureAwait(false) is not { Length: 0 })
                {
                    return Fail(HttpRejectReason.BadChunk);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(body);
            throw;
        }

        (byte[]?, int, HttpRejectReason?) Fail(HttpRejectReason reason)
        {
            ArrayPool<byte>.Shared.Return(body);
            return (null, 0, reason);
        }
    }

    /// <summary>One CRLF-terminated line of a chunked body (without the CRLF), or null when longer than allowed.</summary>
    private static async Task<byte[]?> ReadLineAsync(NetworkStream stream, InputBuffer input, CancellationToken token)
    {
        int end;
        while ((end = input.Data.IndexOf("\r\n"u8)) < 0)
        {
            if (input.Count >= MaxChunkLineBytes || input.IsFull)
            {
                return null;
            }

            if (!await input.FillAsync(stream, token).ConfigureAwait(false))
            {
                throw new EndOfStreamException();
            }
        }

        if (end > MaxChunkLineBytes)
        {
            return null;
        }

        var line = input.Data[..end].ToArray();
        input.Consume(end + 2);
        return line;
    }

    /// <summary>Hex chunk size, optionally followed by chunk extensions (ignored); at most 8 hex digits.</summary>
    private static bool TryParseChunkSize(ReadOnlySpan<byte> line, out long size)
    {
        size = 0;
        var semicolon = line.IndexOf((byte)';');
        var digits = (semicolon < 0 ? line : line[..semicolon]).TrimEnd(" \t"u8);
        if (digits.Length is 0 or > 8)
        {
            return false;
        }

        foreach (var b in digits)
        {
            var value = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (value < 0)
            {
                return false;
            }

            size = (size * 16) + value;
        }

        return true;
    }

    /// <summary>
    /// Counts the refusal, answers it with a short bounded response and closes: the send never
    /// waits on the client (a few hundred bytes into an empty send buffer), and what the client
    /// still sends is read and discarded for a moment so that closing does not reset the
    /// connection before the client has read the answer.
    /// </summary>
    private async Task<bool> RejectAsync(Connection connection, HttpRejectReason reason)
    {
        Metrics.OnRejected(reason);
        _limitedLog.Write(LogSeverity.Debug, Name + ":" + HttpRejectReasons.Label(reason), "http request refused", ("listener", Name), ("reason", HttpRejectReasons.Label(reason)));
        if (reason == HttpRejectReason.Http2NotSupported)
        {
            // An HTTP/2 client cannot read an HTTP/1.1 answer; closing is the answer.
            return false;
        }

        var response = HttpResponse.Text(HttpRejectReasons.Status(reason), HttpRejectReasons.Message(reason));
        Metrics.OnResponse(response.Status);
        var bytes = Serialize(response, keepAlive: false, headOnly: false, out var length);
        try
        {
            connection.Socket.Blocking = false;
            connection.Socket.Send(bytes.AsSpan(0, length));
            connection.Socket.Shutdown(SocketShutdown.Send);
            using var linger = new CancellationTokenSource(RejectLinger, _time);
            var discard = new byte[4096];
            for (var drained = 0; drained < MaxRejectDrainBytes;)
            {
                var read = await connection.Socket.ReceiveAsync(discard, SocketFlags.None, linger.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                drained += read;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client is gone, not reading, or still sending after the linger: close anyway.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }

        return false;
    }

    private static async Task WriteAsync(NetworkStream stream, HttpResponse response, bool keepAlive, bool headOnly, CancellationToken token)
    {
        var bytes = Serialize(response, keepAlive, headOnly, out var length);
        try
        {
            await stream.WriteAsync(bytes.AsMemory(0, length), token).ConfigureAwait(false);
            if (!headOnly && length < response.Body.Length)
            {
                await stream.WriteAsync(response.Body, token).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>The status line and headers, followed by the body when the whole fits <see cref="SingleWriteBytes"/>.</summary>
    private static byte[] Serialize(HttpResponse response, bool keepAlive, bool headOnly, out int length)
    {
        var head = new StringBuilder(256);
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} {ReasonPhrase(response.Status)}\r\n");
        head.Append(CultureInfo.InvariantCulture, $"Content-Type: {response.ContentType}\r\nContent-Length: {response.Body.Length}\r\n");
        foreach (var (name, value) in response.Headers ?? [])
        {
            if (name.AsSpan().IndexOfAny('\r', '\n', ':') >= 0 || value.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                throw new InvalidOperationException($"response header '{name}' contains a line break");
            }

            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        head.Append(keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
        var headLength = Encoding.ASCII.GetByteCount(head.ToString());
        var inline = !headOnly && headLength + response.Body.Length <= SingleWriteBytes;
        var bytes = ArrayPool<byte>.Shared.Rent(headLength + (inline ? response.Body.Length : 0));
        Encoding.ASCII.GetBytes(head.ToString(), bytes);
        length = headLength;
        if (inline)
        {
            response.Body.Span.CopyTo(bytes.AsSpan(headLength));
            length += response.Body.Length;
        }

        return bytes;
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    };

    private enum ConnectionState
    {
        Idle,
        ReadingHeaders,
        ReadingBody,
        Handling,
        Writing,
        /// <summary>Handed to the HTTP/2 handler: evictable after idle and slow HTTP/1.1 connections.</summary>
        Http2,
    }

    private enum CloseCause
    {
        None,
        Evicted,
        Stopping,
    }

    /// <summary>One accepted connection: its socket, phase, and the token that its deadline or an eviction cancels.</summary>
    private sealed class Connection(long id, Socket socket, TimeProvider time, long acceptedAt) : IDisposable
    {
        private readonly CancellationTokenSource _abort = new(Timeout.InfiniteTimeSpan, time);
        private volatile ConnectionState _state = ConnectionState.Idle;
        private volatile CloseCause _cause;
        private long _stateSince = acceptedAt;

        public long Id { get; } = id;

        public Socket Socket { get; } = socket;

        public Task Completion { get; set; } = Task.CompletedTask;

        public ConnectionState State => _state;

        public long StateSince => Interlocked.Read(ref _stateSince);

        public CloseCause Cause => _cause;

        public CancellationToken Token => _abort.Token;

        public void Enter(ConnectionState state, TimeSpan deadline)
        {
            _state = state;
            Interlocked.Exchange(ref _stateSince, time.GetTimestamp());
            _abort.CancelAfter(deadline);
        }

        public void Abort(CloseCause cause)
        {
            _cause = cause;
            try
            {
                _abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already closed.
            }
        }

        public void Dispose() => _abort.Dispose();
    }

    /// <summary>Bytes read from a connection and not yet consumed, in one pooled array of the header limit.</summary>
    private sealed class InputBuffer(int capacity) : IDisposable
    {
        private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        private readonly int _capacity = capacity;
        private int _start;
        private int _end;

        public int Count => _end - _start;

        public bool IsFull => Count >= _capacity;

        public ReadOnlySpan<byte> Data => _buffer.AsSpan(_start, Count);

        public void Consume(int count)
        {
            _start += count;
            if (_start == _end)
            {
                _start = _end = 0;
            }
        }

        /// <summary>Empty lines before a request line are ignored (RFC 9112 §2.2).</summary>
        public void SkipEmptyLines()
        {
            while (Data.StartsWith("\r\n"u8))
            {
                Consume(2);
            }
        }

        /// <summary>Reads more; false at end of stream.</summary>
        public async ValueTask<bool> FillAsync(NetworkStream stream, CancellationToken token)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, Count).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end, _capacity - _end), token).ConfigureAwait(false);
            _end += read;
            return read > 0;
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
    }
}
