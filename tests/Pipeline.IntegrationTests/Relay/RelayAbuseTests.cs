using System.Net;
using System.Net.Sockets;
using System.Text;
using Pipeline.Aws;
using Pipeline.IntegrationTests.Aws;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>
/// Hostile HTTP clients against the built relay binary while UDP segments keep flowing: idle
/// sockets held open, slow senders, oversized and malformed requests, invalid text in sampling
/// calls. The health probe and the SDK sampling endpoint must keep answering and every segment
/// must still reach Kinesis.
/// </summary>
public sealed class RelayAbuseTests(MotoFixture moto) : IDisposable
{
    /// <summary>More idle sockets than a listener's connection cap (64), per listener.</summary>
    private const int IdleSockets = 80;

    private readonly AwsClients _aws = MotoAws.Clients(moto);
    private readonly List<Socket> _held = [];
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var socket in _held)
        {
            socket.Dispose();
        }

        _aws.Dispose();
    }

    [Fact]
    public async Task Relay_HostileHttpClients_NeverTakeHealthOrSamplingOfflineAndLoseNoSegments()
    {
        const int segments = 1500;
        var stream = MotoFixture.UniqueName("abuse");
        await _aws.Kinesis.CreateStreamAsync(stream, 1, _ct);
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream, "-l", "info"));
        var udp = Task.Run(() => relay.Send(Enumerable.Range(0, segments).Select(i => RelayData.Datagram(i, i)), pauseEvery: 10), _ct);

        foreach (var target in new[] { relay.MetricsEndpoint!, relay.TcpEndpoint })
        {
            for (var i = 0; i < IdleSockets; i++)
            {
                var socket = await ConnectAsync(target);
                if (i % 4 == 0)
                {
                    // A slow sender: the start of a request and then nothing.
                    await socket.SendAsync("POST /GetSamplingRules HTTP/1.1\r\nHost: x\r\nX-Slow: "u8.ToArray(), _ct);
                }
            }
        }

        var malformed = new[]
        {
            "POST /SamplingTargets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
            "POST /SamplingTargets HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX: " + new string('a', 20_000) + "\r\n\r\n",
            "GARBAGE\r\n\r\n",
        };
        foreach (var request in malformed)
        {
            (await RawAsync(relay.TcpEndpoint, request)).Should().MatchRegex("^HTTP/1.1 4[0-9][0-9] ");
        }

        // Invalid text in a sampling call, many times over: 400 each, and not a log line each.
        var surrogate = """{"SamplingStatisticsDocuments":[{"RuleName":"\ud800","ClientID":"c","RequestCount":1,"SampledCount":1,"BorrowCount":0,"Timestamp":1}]}""";
        var badUtf8 = Encoding.ASCII.GetBytes("""{"SamplingStatisticsDocuments":[{"RuleName":"x""").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.ASCII.GetBytes("\",\"ClientID\":\"c\"}]}")).ToArray();
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 4 });
        for (var i = 0; i < 200; i++)
        {
            using var content = i % 2 == 0 ? new StringContent(surrogate, Encoding.UTF8, "application/json") : new ByteArrayContent(badUtf8);
            var response = await http.PostAsync(new Uri($"http://{relay.TcpEndpoint}/SamplingTargets"), content, _ct);
            ((int)response.StatusCode).Should().Be(400);
        }

        // The probe and a real SDK call, while every idle and slow socket is still held.
        for (var i = 0; i < 30; i++)
        {
            using var fresh = new HttpClient(new SocketsHttpHandler { UseProxy = false });
            var health = await fresh.GetAsync(new Uri($"http://{relay.MetricsEndpoint}/healthz"), _ct);
            health.StatusCode.Should().Be(HttpStatusCode.OK);
            using var rulesBody = new StringContent("{}", Encoding.UTF8, "application/json");
            var rules = await fresh.PostAsync(new Uri($"http://{relay.TcpEndpoint}/GetSamplingRules"), rulesBody, _ct);
            rules.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await udp;
        // Every datagram the relay took reaches the stream; on a loaded machine the kernel may drop
        // some before the relay sees them, and then its own socket counter must account for each.
        await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") >= await relay.MetricAsync("xray_relay_accepted_segments_total"), TimeSpan.FromSeconds(60));
        var accepted = await relay.MetricAsync("xray_relay_accepted_segments_total");
        var kernelDrops = await relay.MetricAsync("xray_relay_udp_socket_drops_total");
        (await relay.MetricAsync("xray_relay_received_datagrams_total") + kernelDrops).Should().Be(segments, "a datagram is either read or counted as dropped by the kernel");
        accepted.Should().Be(await relay.MetricAsync("xray_relay_received_datagrams_total"), "every datagram sent is well formed");
        accepted.Should().BeGreaterThan(segments * 9 / 10, "only a loaded machine's kernel drops explain a gap");
        var records = await RelayData.WaitForRecordsAsync(_aws.Kinesis, stream, (int)accepted);
        records.Should().HaveCount((int)accepted, "HTTP abuse does not cost an accepted segment");
        (await relay.MetricAsync("xray_relay_forwarded_segments_total")).Should().Be(accepted, "nothing accepted was dropped");
        (await relay.MetricAsync("xray_relay_http_evicted_connections_total{listener=\"metrics\"}")).Should().BeGreaterThan(0);
        (await relay.MetricAsync("xray_relay_http_evicted_connections_total{listener=\"sampling\"}")).Should().BeGreaterThan(0);
        (await relay.MetricAsync("xray_relay_http_rejected_requests_total{listener=\"sampling\",reason=\"duplicate_content_length\"}")).Should().Be(1);
        (await relay.MetricAsync("xray_relay_http_responses_total{listener=\"sampling\",code=\"400\"}")).Should().BeGreaterThanOrEqualTo(200);
        relay.Stdout.Split('\n').Count(l => l.Contains("\"level\":\"ERROR\"", StringComparison.Ordinal)).Should().BeLessThan(10, relay.Stdout);
    }

    [Theory]
    [InlineData("-t", "sampling")]
    [InlineData("--metrics", "metrics")]
    [InlineData("-b", "udp")]
    public async Task Relay_SecondRelayOnATakenPort_FailsNamingTheListener(string flag, string listener)
    {
        await using var first = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, "unused"));
        var taken = flag switch
        {
            "-t" => first.TcpEndpoint,
            "--metrics" => first.MetricsEndpoint!,
            _ => first.UdpEndpoint,
        };
        var args = RelayProcess.Flags(moto.Endpoint, "unused");
        args[args.IndexOf(flag) + 1] = taken.ToString();

        var (exitCode, _, stderr) = await RelayProcess.RunToExitAsync(args);

        exitCode.Should().Be(1);
        stderr.Should().Contain($"{listener} listener cannot bind {taken}: the address is already in use");
    }

    private async Task<Socket> ConnectAsync(IPEndPoint target)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _held.Add(socket);
        await socket.ConnectAsync(target, _ct);
        return socket;
    }

    private async Task<string> RawAsync(IPEndPoint target, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(target, _ct);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), _ct);
        }
        catch (IOException)
        {
            // Refused before the whole request was written.
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_ct);
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
            // Reset after the answer.
        }

        return Encoding.ASCII.GetString(output.ToArray());
    }
}
