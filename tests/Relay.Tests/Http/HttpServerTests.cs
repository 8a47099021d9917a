using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Relay.Config;
using Relay.Http;
using Relay.Logging;

namespace Relay.Tests.Http;

public sealed class HttpServerTests : IAsyncDisposable
{
    private readonly List<HttpServer> _servers = [];
    private readonly List<Socket> _sockets = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private static Task<HttpResponse> Echo(HttpRequest request, CancellationToken cancellationToken) =>
        request.Path == "/boom"
            ? throw new InvalidOperationException("boom")
            : Task.FromResult(HttpResponse.Text(200, $"{request.Method} {request.Path} {Encoding.UTF8.GetString(request.Body.Span)}"));

    private HttpServer Start(HttpListenerLimits? limits = null, HttpHandler? handler = null, TimeProvider? time = null, JsonLog? log = null, Http2ConnectionHandler? http2 = null)
    {
        var server = new HttpServer("test", new IPEndPoint(IPAddress.Loopback, 0), handler ?? Echo, limits ?? new HttpListenerLimits(), new HttpServerMetrics("test"), log ?? JsonLog.Null, time ?? TimeProvider.System, http2);
        _servers.Add(server);
        server.Start();
        return server;
    }

    [Fact]
    public async Task Server_KeepAlive_AnswersSeveralRequestsOnOneConnection()
    {
        var server = Start();
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"http://{server.LocalEndpoint}") };

        for (var i = 0; i < 3; i++)
        {
            using var content = new StringContent($"body{i}");
            var response = await http.PostAsync(new Uri("/x?q=1", UriKind.Relative), content, TestContext.Current.CancellationToken);
            (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Be($"POST /x body{i}");
        }

        server.Metrics.Accepted.Should().Be(1);
        server.Metrics.Requests.Should().Be(3);
    }

    [Fact]
    public async Task Server_PipelinedRequests_AreBothAnswered()
    {
        var server = Start();

        var text = await RawAsync(server, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\nyo");

        text.Should().Contain("POST /a hi").And.Contain("POST /b yo");
    }

    [Fact]
    public async Task Server_ChunkedBody_IsDecoded()
    {
        var server = Start();

        var text = await RawAsync(server, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n");

        text.Should().StartWith("HTTP/1.1 200").And.EndWith("POST /c hello world");
    }

    [Fact]
    public async Task Server_ExpectContinue_Gets100BeforeTheBody()
    {
        var server = Start();
        using var client = await ConnectAsync(server);
        var stream = client.GetStream();
        await stream.WriteAsync("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);

        (await ReadSomeAsync(stream)).Should().StartWith("HTTP/1.1 100 Continue");
        await stream.WriteAsync("abc"u8.ToArray(), TestContext.Current.CancellationToken);
        (await ReadSomeAsync(stream)).Should().StartWith("HTTP/1.1 200").And.EndWith("POST /e abc");
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", "400", HttpRejectReason.BadRequestLine)]
    [InlineData("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi", "400", HttpRejectReason.DuplicateContentLength)]
    [InlineData("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400", HttpRejectReason.AmbiguousLength)]
    [InlineData("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999\r\n\r\n", "413", HttpRejectReason.BodyTooLarge)]
    [InlineData("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", "400", HttpRejectReason.BadChunk)]
    [InlineData("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nFFFFF\r\n", "413", HttpRejectReason.BodyTooLarge)]
    [InlineData("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n", "400", HttpRejectReason.BadChunk)]
    [InlineData("GET / HTTP/1.1\r\n\r\n", "400", HttpRejectReason.MissingHost)]
    [InlineData("GET / HTTP/3.0\r\nHost: h\r\n\r\n", "505", HttpRejectReason.UnsupportedVersion)]
    [InlineData("GET /boom HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "500", HttpRejectReason.HandlerFailed)]
    public async Task Server_MalformedRequest_GetsABoundedErrorAndACounter(string request, string status, HttpRejectReason reason)
    {
        var server = Start();

        var text = await RawAsync(server, request);

        text.Should().StartWith($"HTTP/1.1 {status}");
        text.Length.Should().BeLessThan(400);
        server.Metrics.Rejected(reason).Should().Be(1);
    }

    [Fact]
    public async Task Server_OversizedHeaders_Get431()
    {
        var server = Start();

        var text = await RawAsync(server, "GET / HTTP/1.1\r\nHost: h\r\nX: " + new string('a', server.Limits.MaxHeaderBytes) + "\r\n\r\n");

        text.Should().StartWith("HTTP/1.1 431");
    }

    [Fact]
    public async Task Server_Http2Preface_IsClosedAndCounted()
    {
        var server = Start();

        var text = await RawAsync(server, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

        text.Should().BeEmpty();
        server.Metrics.Rejected(HttpRejectReason.Http2NotSupported).Should().Be(1);
    }

    [Fact]
    public async Task Server_Http2PrefaceWithAnHttp2Handler_IsHandedOverUntilStop()
    {
        var preread = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = Start(http2: async connection =>
        {
            preread.SetResult(connection.Preread.ToArray());
            await connection.Stream.WriteAsync("h2 here"u8.ToArray(), connection.Aborted);
            await Task.Delay(Timeout.Infinite, connection.Stopping).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        using var client = await ConnectAsync(server);
        await client.GetStream().WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04"u8.ToArray(), TestContext.Current.CancellationToken);

        Encoding.Latin1.GetString(await preread.Task).Should().StartWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        (await ReadSomeAsync(client.GetStream())).Should().Be("h2 here");
        await server.StopAsync();

        (await ReadToEndAsync(client.GetStream())).Should().BeEmpty();
        server.Metrics.Rejected(HttpRejectReason.Http2NotSupported).Should().Be(0);
    }

    [Fact]
    public async Task Server_FailingHandler_LogsAtMostAWindowOfLines()
    {
        var output = new MemoryStream();
        var time = new FakeTimeProvider();
        var log = new JsonLog(output, time, RelayLogLevel.Info);
        var server = Start(log: log, time: time);

        for (var i = 0; i < 40; i++)
        {
            (await RawAsync(server, "GET /boom HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")).Should().StartWith("HTTP/1.1 500");
        }

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Count(l => l.Contains("http handler failed", StringComparison.Ordinal)).Should().Be(LogRateLimiter.LinesPerWindow);
        server.Metrics.Rejected(HttpRejectReason.HandlerFailed).Should().Be(40);
    }

    [Fact]
    public async Task Server_IdleConnectionsAtTheCap_AreEvictedForANewCaller()
    {
        var server = Start(new HttpListenerLimits { MaxConnections = 8 });
        for (var i = 0; i < 8; i++)
        {
            _sockets.Add((await ConnectAsync(server)).Client);
        }

        await WaitUntilAsync(() => server.OpenConnections == 8);
        // Half of them are slow senders stuck in the middle of their headers.
        foreach (var socket in _sockets.Take(4))
        {
            await socket.SendAsync("GET / HTTP/1.1\r\nHo"u8.ToArray(), TestContext.Current.CancellationToken);
        }

        for (var i = 0; i < 20; i++)
        {
            (await RawAsync(server, "GET /probe HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")).Should().EndWith("GET /probe ");
        }

        server.Metrics.Evicted.Should().BeGreaterThanOrEqualTo(1);
        server.Metrics.Refused.Should().Be(0);
        server.OpenConnections.Should().BeLessThanOrEqualTo(8);
    }

    [Fact]
    public async Task Server_EverySlotInAHandler_RefusesTheNextWith503()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = 0;
        var server = Start(new HttpListenerLimits { MaxConnections = 2 }, async (request, token) =>
        {
            Interlocked.Increment(ref entered);
            await release.Task.WaitAsync(token);
            return HttpResponse.Text(200, "done");
        });
        var held = new[] { RawAsync(server, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), RawAsync(server, "GET / HTTP/1.1\r\nHost: h\r\n\r\n") };
        await WaitUntilAsync(() => Volatile.Read(ref entered) == 2);

        var refused = await RawAsync(server, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");

        refused.Should().StartWith("HTTP/1.1 503").And.Contain("Retry-After: 1");
        server.Metrics.Refused.Should().Be(1);
        // Stop first, then let the handlers finish: their answers are written while the server is
        // stopping, so each must close its connection (released first, they could race the stop).
        var stopping = server.StopAsync();
        release.SetResult();
        foreach (var text in await Task.WhenAll(held))
        {
            text.Should().StartWith("HTTP/1.1 200").And.Contain("Connection: close");
        }

        await stopping;
    }

    [Fact]
    public async Task Server_Stop_WaitsForTheRequestInAHandler()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = Start(handler: async (request, token) =>
        {
            entered.SetResult();
            await release.Task;
            return HttpResponse.Text(200, "finished");
        });
        var idle = await ConnectAsync(server);
        _sockets.Add(idle.Client);
        var inFlight = RawAsync(server, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        await entered.Task;

        var stop = server.StopAsync();
        await WaitUntilAsync(() => server.OpenConnections == 1);
        stop.IsCompleted.Should().BeFalse("a request is still in its handler");
        release.SetResult();
        await stop;

        (await inFlight).Should().EndWith("finished").And.Contain("Connection: close");
        server.OpenConnections.Should().Be(0);
    }

    [Fact]
    public async Task Server_SilentNewConnection_IsClosedAfterTheFirstRequestTimeout()
    {
        var time = new FakeTimeProvider();
        var server = Start(time: time);
        using var client = await ConnectAsync(server);
        await WaitUntilAsync(() => server.OpenConnections == 1);

        time.Advance(server.Limits.FirstRequestTimeout + TimeSpan.FromMilliseconds(1));

        (await ReadToEndAsync(client.GetStream())).Should().BeEmpty();
        await WaitUntilAsync(() => server.OpenConnections == 0);
        server.Metrics.IdleClosed.Should().Be(1);
    }

    [Fact]
    public async Task Server_SlowHeaders_Get408AfterTheHeadersTimeout()
    {
        var time = new FakeTimeProvider();
        var server = Start(time: time);
        using var client = await ConnectAsync(server);
        await client.GetStream().WriteAsync("GET / HTTP/1.1\r\nHost: h\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => server.ConnectionPhases() is ["ReadingHeaders"]);

        time.Advance(server.Limits.HeadersTimeout + TimeSpan.FromMilliseconds(1));

        (await ReadToEndAsync(client.GetStream())).Should().StartWith("HTTP/1.1 408");
        server.Metrics.Rejected(HttpRejectReason.HeadersTimeout).Should().Be(1);
    }

    [Fact]
    public async Task Server_SlowBody_Gets408AfterTheBodyTimeout()
    {
        var time = new FakeTimeProvider();
        var server = Start(time: time);
        using var client = await ConnectAsync(server);
        await client.GetStream().WriteAsync("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789"u8.ToArray(), TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => server.ConnectionPhases() is ["ReadingBody"]);

        time.Advance(server.Limits.BodyTimeout(100) + TimeSpan.FromMilliseconds(1));

        (await ReadToEndAsync(client.GetStream())).Should().StartWith("HTTP/1.1 408");
        server.Metrics.Rejected(HttpRejectReason.BodyTimeout).Should().Be(1);
    }

    [Fact]
    public void Server_TakenPort_IsAnErrorNamingTheListener()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();

        var act = () => new HttpServer("sampling", (IPEndPoint)taken.LocalEndPoint!, Echo, new HttpListenerLimits(), new HttpServerMetrics("sampling"), JsonLog.Null, TimeProvider.System);

        act.Should().Throw<ListenerBindException>().WithMessage($"sampling listener cannot bind {taken.LocalEndPoint}: the address is already in use*");
    }

    private static async Task<TcpClient> ConnectAsync(HttpServer server)
    {
        var client = new TcpClient();
        await client.ConnectAsync(server.LocalEndpoint, TestContext.Current.CancellationToken);
        return client;
    }

    private static async Task<string> RawAsync(HttpServer server, string request)
    {
        using var client = await ConnectAsync(server);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(request), TestContext.Current.CancellationToken);
        }
        catch (IOException)
        {
            // The server may close before the whole oversized request is written.
        }

        return await ReadToEndAsync(stream);
    }

    /// <summary>Reads until the server closes (bounded: a hung server fails the test instead of hanging it).</summary>
    private static async Task<string> ReadToEndAsync(NetworkStream stream)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var output = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                output.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // Reset after the answer: what was read is the answer.
        }

        return Encoding.Latin1.GetString(output.ToArray());
    }

    private static async Task<string> ReadSomeAsync(NetworkStream stream)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return Encoding.Latin1.GetString(buffer, 0, read);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
