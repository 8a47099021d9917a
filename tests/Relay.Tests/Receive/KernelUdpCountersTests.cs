using System.Net;
using Relay.Telemetry;

namespace Relay.Tests.Receive;

public sealed class KernelUdpCountersTests : IDisposable
{
    private readonly string _proc = Path.Combine(Path.GetTempPath(), $"relay-proc-{Guid.NewGuid():N}");

    public KernelUdpCountersTests() => Directory.CreateDirectory(_proc);

    public void Dispose() => Directory.Delete(_proc, recursive: true);

    [Fact]
    public void Read_ProcFiles_GiveTheSocketsDropsAndTheNamespacesRcvbufErrors()
    {
        File.WriteAllText(Path.Combine(_proc, "udp"), """
               sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
              101: 0100007F:0277 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 11111 2 0000000000000000 4
              102: 0100007F:07D0 00000000:0000 07 00000000:00000000 00:00000000 00000000  1654        0 22222 2 0000000000000000 12293
            """);
        File.WriteAllText(Path.Combine(_proc, "snmp"), """
            Ip: Forwarding DefaultTTL
            Ip: 1 64
            Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
            Udp: 100 0 12300 50 12299 0 0 0 0
            """);

        var drops = new KernelUdpCounters(new IPEndPoint(IPAddress.Loopback, 2000), _proc).Read();

        drops.Should().Be(new KernelUdpDrops(12293, 12299));
    }

    [Fact]
    public void Read_NoProcFiles_GivesNothing()
    {
        new KernelUdpCounters(new IPEndPoint(IPAddress.Loopback, 2000), _proc).Read().Should().BeNull();
    }

    [Fact]
    public void Read_ThisMachine_FindsTheBoundSocket()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        var drops = new KernelUdpCounters((IPEndPoint)socket.LocalEndPoint!).Read();

        drops!.SocketDrops.Should().Be(0);
        drops.RcvbufErrors.Should().NotBeNull();
    }
}
