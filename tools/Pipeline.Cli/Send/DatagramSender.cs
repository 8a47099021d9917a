using System.Net;
using System.Net.Sockets;
using Pipeline.Core.Wire;

namespace Pipeline.Cli.Send;

/// <summary>
/// Sends segment documents to a relay (or X-Ray daemon) the way the SDKs do: one UDP datagram
/// each, the daemon header line, a newline, the document.
/// </summary>
internal sealed class DatagramSender : IDisposable
{
    /// <summary>A short pause after this many datagrams keeps a burst within the receiver's socket buffer.</summary>
    public const int PauseEvery = 200;

    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IPEndPoint _target;
    private readonly byte[] _header = [.. Datagram.ExpectedHeader, (byte)'\n'];
    private long _sent;

    public DatagramSender(IPEndPoint target) => _target = target;

    public long Sent => _sent;

    /// <summary>Sends one document; false (not sent) when it would exceed the daemon's datagram limit.</summary>
    public async Task<bool> SendAsync(ReadOnlyMemory<byte> document, CancellationToken cancellationToken)
    {
        if (_header.Length + document.Length > Datagram.MaxDatagramBytes)
        {
            return false;
        }

        var datagram = new byte[_header.Length + document.Length];
        _header.CopyTo(datagram, 0);
        document.Span.CopyTo(datagram.AsSpan(_header.Length));
        await _socket.SendToAsync(datagram, SocketFlags.None, _target, cancellationToken).ConfigureAwait(false);
        if (++_sent % PauseEvery == 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    public void Dispose() => _socket.Dispose();
}
