using System.Net;
using System.Net.Sockets;

namespace Pipeline.LocalAws.Processes;

/// <summary>
/// The one free-port helper: ports chosen by the OS on loopback, and bind checks. The socket is
/// closed before the port is returned, so another process can take it in between: callers that
/// bind later must retry on a bind race (the moto launcher does).
/// </summary>
public static class LoopbackPorts
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreeTcp()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>A UDP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreeUdp()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Null when <paramref name="endpoint"/> can be bound for UDP (or TCP) now, else why not.</summary>
    public static string? WhyNotBindable(IPEndPoint endpoint, ProtocolType protocol)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var socket = protocol == ProtocolType.Udp
            ? new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
            : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            return null;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return "already in use";
        }
        catch (SocketException e)
        {
            return e.Message;
        }
    }
}
