using System.Net;
using System.Net.Sockets;

namespace Relay.Http;

/// <summary>A listener could not bind its address; the message names the listener and the address.</summary>
public sealed class ListenerBindException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>
    /// Binds <paramref name="socket"/> exclusively: no SO_REUSEADDR/SO_REUSEPORT is asked for, so a
    /// second relay (or the X-Ray daemon) on the same port is a start-up error instead of two
    /// processes sharing the port and each getting a share of the traffic and the scrapes.
    /// </summary>
    public static void Bind(Socket socket, IPEndPoint endpoint, string listener)
    {
        ArgumentNullException.ThrowIfNull(socket);
        try
        {
            socket.Bind(endpoint);
        }
        catch (SocketException e)
        {
            var why = e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "the address is already in use (is another relay or the X-Ray daemon running?)",
                SocketError.AccessDenied => "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)",
                SocketError.AddressNotAvailable => "no interface on this host has that address",
                _ => e.SocketErrorCode.ToString(),
            };
            throw new ListenerBindException($"{listener} listener cannot bind {endpoint}: {why}", e);
        }
    }
}
