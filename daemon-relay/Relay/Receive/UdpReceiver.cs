using System.Net;
using System.Net.Sockets;
using System.Text;
using Pipeline.Core.Wire;
using Relay.Http;
using Relay.Buffering;
using Relay.Logging;
using Relay.Telemetry;

namespace Relay.Receive;

/// <summary>
/// The UDP receive loop: one dedicated thread reads datagrams into one reused 64 KiB buffer,
/// checks the daemon header, sniffs the trace id and copies only the document into the
/// <see cref="RecordBuffer"/>. Nothing is allocated per datagram but that copy (pooled) and a
/// partition key string when the trace changes.
/// </summary>
public sealed class UdpReceiver : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly Socket _socket;
    private readonly SegmentIntake _intake;
    private readonly JsonLog _log;
    private readonly Thread _thread;
    private volatile bool _stopping;

    /// <param name="receiveBufferBytes">SO_RCVBUF asked for; Linux caps it at net.core.rmem_max (see <see cref="ReceiveBufferBytes"/>).</param>
    public UdpReceiver(IPEndPoint bind, RecordBuffer buffer, RelayMetrics metrics, JsonLog log, int receiveBufferBytes)
    {
        ArgumentNullException.ThrowIfNull(bind);
        _intake = new SegmentIntake(buffer, metrics);
        _log = log;
        _socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.ReceiveBufferSize = receiveBufferBytes;
            _socket.ReceiveTimeout = (int)PollInterval.TotalMilliseconds;
            ListenerBindException.Bind(_socket, bind, "udp");
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        LocalEndpoint = (IPEndPoint)_socket.LocalEndPoint!;
        // Linux reports twice what it grants (bookkeeping included); less than asked means rmem_max capped it.
        ReceiveBufferBytes = _socket.ReceiveBufferSize;
        var kernel = new KernelUdpCounters(LocalEndpoint);
        metrics.ObserveKernelDrops(kernel.Read);
        _thread = new Thread(Run) { IsBackground = true, Name = "xray-relay-udp" };
    }

    public IPEndPoint LocalEndpoint { get; }

    /// <summary>The socket receive buffer the kernel granted (SO_RCVBUF as read back).</summary>
    public int ReceiveBufferBytes { get; }

    public void Start() => _thread.Start();

    /// <summary>Stops reading and waits for the loop to finish its current datagram.</summary>
    public void Stop()
    {
        _stopping = true;
        if (_thread.IsAlive)
        {
            _thread.Join();
        }
    }

    public void Dispose()
    {
        Stop();
        _socket.Dispose();
    }

    private void Run()
    {
        // One buffer for the life of the loop; a datagram is copied out of it only if accepted.
        var datagram = GC.AllocateUninitializedArray<byte>(Datagram.MaxDatagramBytes, pinned: true);
        while (!_stopping)
        {
            int length;
            try
            {
                length = _socket.Receive(datagram, SocketFlags.None);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.Interrupted)
            {
                continue;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
            {
                _intake.Reject(DropReason.Oversize);
                continue;
            }
            catch (SocketException e) when (!_stopping)
            {
                _log.Error("udp receive failed", ("error", e.SocketErrorCode.ToString()));
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                break;
            }

            _intake.Accept(datagram.AsSpan(0, length));
        }
    }
}

/// <summary>
/// What happens to one datagram: header check, trace id sniff, copy into the buffer, each refusal
/// counted by reason. Separate from the socket so that tests and the bench drive it directly.
/// </summary>
public sealed class SegmentIntake(RecordBuffer buffer, RelayMetrics metrics)
{
    /// <summary>
    /// Keys for documents without a trace id: a handful, so they spread over shards without one
    /// key per segment. The ingest quarantines them with a reason; the relay does not judge.
    /// </summary>
    private static readonly string[] UntracedKeys = Enumerable.Range(0, 16).Select(i => "untraced-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private readonly byte[] _lastTraceId = new byte[TraceIdSniffer.TraceIdLength];
    private string? _lastKey;
    private int _untraced;

    /// <summary>Returns true when the datagram was buffered.</summary>
    public bool Accept(ReadOnlySpan<byte> datagram)
    {
        metrics.OnReceived();
        var reject = Datagram.TrySplit(datagram, out var range);
        if (reject != DatagramReject.None)
        {
            metrics.OnDropped(DropReasons.From(reject));
            return false;
        }

        var document = datagram[range];
        var traceId = TraceIdSniffer.Find(document);
        string key;
        if (traceId.IsEmpty)
        {
            key = UntracedKeys[_untraced++ & (UntracedKeys.Length - 1)];
        }
        else if (_lastKey is not null && traceId.SequenceEqual(_lastTraceId))
        {
            key = _lastKey;
        }
        else
        {
            key = Encoding.ASCII.GetString(traceId);
            traceId.CopyTo(_lastTraceId);
            _lastKey = key;
        }

        if (!buffer.TryAdd(document, key))
        {
            metrics.OnDropped(DropReason.BufferFull);
            return false;
        }

        metrics.OnAccepted(!traceId.IsEmpty);
        return true;
    }

    /// <summary>Counts a datagram the socket refused before it could be looked at.</summary>
    public void Reject(DropReason reason)
    {
        metrics.OnReceived();
        metrics.OnDropped(reason);
    }
}
