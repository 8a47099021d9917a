using System.Net;
using System.Net.Sockets;
using System.Text;
using Relay.Http;
using Relay.Logging;

namespace Relay.Tests.Http;

public sealed class MiniHttpServerTests
{
    private static Task<HttpResponse> Echo(HttpRequest request, CancellationToken cancellationToken) =>
        request.Path == "/boom"
            ? throw new InvalidOperationException("boom")
            : Task.FromResult(HttpResponse.Text(200, $"{request.Method} {request.Path} {Encoding.UTF8.GetString(request.Body)}"));

    private static MiniHttpServer Start()
    {
        var server = new MiniHttpServer(new IPEndPoint(IPAddress.Loopback, 0), Echo, JsonLog.Null, "test");
        server.Start();
        return server;
    }

    [Fact]
    public async Task Server_KeepAlive_AnswersSeveralRequestsOnOneConnection()
    {
        using var server = Start();
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"http://{server.LocalEndpoint}") };

        for (var i = 0; i < 3; i++)
        {
            using var content = new StringContent($"body{i}");
            var response = await http.PostAsync(new Uri("/x?q=1", UriKind.Relative), content, TestContext.Current.CancellationToken);
            (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Be($"POST /x body{i}");
        }
    }

    [Fact]
    public async Task Server_PipelinedRequests_AreBothAnswered()
    {
        using var server = Start();
        var text = await RawAsync(server, "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiPOST /b HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nyo");

        text.Should().Contain("POST /a hi").And.Contain("POST /b yo");
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", "400")]
    [InlineData("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "411")]
    [InlineData("POST /a HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", "413")]
    [InlineData("GET /boom HTTP/1.1\r\nConnection: close\r\n\r\n", "500")]
    public async Task Server_BadRequests_GetAnErrorStatus(string request, string status)
    {
        using var server = Start();

        var text = await RawAsync(server, request);

        text.Should().StartWith($"HTTP/1.1 {status}");
    }

    [Fact]
    public async Task Server_OversizedHeaders_Get431()
    {
        using var server = Start();

        var text = await RawAsync(server, "GET / HTTP/1.1\r\nX: " + new string('a', MiniHttpServer.MaxHeaderBytes) + "\r\n\r\n");

        text.Should().StartWith("HTTP/1.1 431");
    }

    private static async Task<string> RawAsync(MiniHttpServer server, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.LocalEndpoint, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
        }
        catch (IOException)
        {
            // The server may close before the whole oversized request is written.
        }

        using var reader = new StreamReader(stream);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        return await reader.ReadToEndAsync(timeout.Token);
    }
}
