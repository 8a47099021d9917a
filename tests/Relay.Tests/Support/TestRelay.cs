using System.Net;
using System.Net.Sockets;
using Relay.Config;
using Relay.Logging;
using Relay.Receive.Otlp;
using Relay.Sending;

namespace Relay.Tests.Support;

/// <summary>Starts a <see cref="RelayHost"/> on free loopback ports with a fake Kinesis.</summary>
internal static class TestRelay
{
    public static RelayOptions Options(string? spoolDir = null) => new()
    {
        UdpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
        TcpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
        MetricsEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
        Otlp = OtlpReceiverOptions.Default with { HttpEndpoint = new IPEndPoint(IPAddress.Loopback, 0), GrpcEndpoint = null },
        Region = "us-east-1",
        Stream = "segments",
        SpoolDir = spoolDir,
        FlushInterval = TimeSpan.FromMilliseconds(50),
        DrainTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Millisecond backoffs so that retry tests run fast (the shape is what is tested).</summary>
    public static SenderPolicy FastPolicy { get; } = new()
    {
        CallBackoffBase = TimeSpan.FromMilliseconds(1),
        PartialBackoffBase = TimeSpan.FromMilliseconds(1),
        BackoffCap = TimeSpan.FromMilliseconds(5),
        ThrottlePaceStart = TimeSpan.FromMilliseconds(1),
        ThrottlePaceCap = TimeSpan.FromMilliseconds(4),
    };

    public static async Task<RelayHost> StartAsync(RelayOptions options, FakeKinesis kinesis, SenderPolicy? policy = null, TimeSpan? probeInterval = null)
    {
        var host = new RelayHost(options, kinesis, JsonLog.Null, TimeProvider.System, policy: policy ?? FastPolicy, random: new Random(7), probeInterval: probeInterval);
        await host.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }

    public static void Send(IPEndPoint target, IEnumerable<byte[]> datagrams, int pauseEvery = 50)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var sent = 0;
        foreach (var datagram in datagrams)
        {
            client.SendTo(datagram, target);
            if (++sent % pauseEvery == 0)
            {
                // Loopback UDP drops when the receiver's socket buffer overflows; pace the sender.
                Thread.Sleep(2);
            }
        }
    }

    /// <summary>Polls a condition (bounded) instead of sleeping a fixed time.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met in time");
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
