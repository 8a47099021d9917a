using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Relay.Telemetry;

/// <summary>
/// Reads what the kernel dropped before the relay saw it: the <c>drops</c> column of the relay's
/// socket in /proc/net/udp (or udp6), and <c>RcvbufErrors</c> of the Udp line in /proc/net/snmp
/// (every socket of the network namespace: on a node, the DaemonSet's hostNetwork-less pod has its
/// own). Linux only; elsewhere, or when the files are unreadable, the counters are absent.
/// </summary>
public sealed class KernelUdpCounters(IPEndPoint socket, string procNet = "/proc/net")
{
    public KernelUdpDrops? Read()
    {
        var drops = SocketDrops();
        var rcvbuf = RcvbufErrors();
        return drops is null && rcvbuf is null ? null : new KernelUdpDrops(drops, rcvbuf);
    }

    private long? SocketDrops()
    {
        var file = Path.Combine(procNet, socket.AddressFamily == AddressFamily.InterNetworkV6 ? "udp6" : "udp");
        var port = ":" + socket.Port.ToString("X4", CultureInfo.InvariantCulture);
        try
        {
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 13 && fields[1].EndsWith(port, StringComparison.Ordinal)
                    && long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var drops))
                {
                    return drops;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }

    private long? RcvbufErrors()
    {
        try
        {
            string[]? names = null;
            foreach (var line in File.ReadLines(Path.Combine(procNet, "snmp")))
            {
                if (!line.StartsWith("Udp: ", StringComparison.Ordinal))
                {
                    continue;
                }

                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (names is null)
                {
                    names = fields;
                    continue;
                }

                var index = Array.IndexOf(names, "RcvbufErrors");
                return index > 0 && index < fields.Length && long.TryParse(fields[index], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }
}
