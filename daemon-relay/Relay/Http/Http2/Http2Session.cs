using System.Buffers;
using System.Buffers.Binary;
using Relay.Logging;

namespace Relay.Http.Http2;

/// <summary>
/// Serves one HTTP/2 connection (RFC 9113, prior knowledge over cleartext) for unary requests:
/// the preface and SETTINGS exchange, HEADERS + CONTINUATION with HPACK, DATA with both levels of
/// flow control, PING, WINDOW_UPDATE, RST_STREAM, GOAWAY both ways. Each complete request goes to
/// the <see cref="Http2RequestHandler"/> on its own task; its answer is written as HEADERS, DATA and
/// trailing HEADERS. Every violation ends in the frame RFC 9113 prescribes (RST_STREAM for a stream
/// error, GOAWAY and close for a connection error), counted by <see cref="Http2Refusal"/>; every
/// bound is in <see cref="Http2Limits"/>. Server push is never used.
/// </summary>
public sealed class Http2Session : IDisposable
{
    private const int ReadBufferBytes = 64 * 1024;

    /// <summary>grpc-message and other fields we write stay under this, so a response header block is always one frame.</summary>
    private const int MaxResponseBlockBytes = 8 * 1024;

    private readonly Http2Connection _connection;
    private readonly Http2Limits _limits;
    private readonly Http2Metrics _metrics;
    private readonly Http2RequestHandler _handler;
    private readonly JsonLog _log;
    private readonly TimeProvider _time;
    private readonly HpackDecoder _decoder;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Dictionary<int, StreamState> _streams = [];
    private readonly HashSet<Task> _handlers = [];
    private readonly CancellationTokenSource _readCancel;
    private readonly byte[] _readBuffer = new byte[ReadBufferBytes];
    private int _readStart;
    private int _readEnd;
    private ReadOnlyMemory<byte> _preread;

    private int _lastStreamId;
    private long _connectionReceiveWindow;
    private long _connectionCredit;
    private long _connectionSendWindow = Http2Wire.DefaultWindowSize;
    private int _peerInitialWindow = Http2Wire.DefaultWindowSize;
    private int _peerMaxFrameSize = Http2Wire.DefaultMaxFrameSize;
    private int _controlFrames;
    private bool _goingAway;
    private TaskCompletionSource _windowChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The header block being collected (HEADERS without END_HEADERS, then CONTINUATION).</summary>
    private byte[]? _block;
    private int _blockLength;
    private int _blockStream;
    private bool _blockEndStream;
    private int _blockContinuations;

    public Http2Session(Http2Connection connection, Http2Limits limits, Http2Metrics metrics, Http2RequestHandler handler, JsonLog log, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        _connection = connection;
        _limits = limits;
        _metrics = metrics;
        _handler = handler;
        _log = log;
        _time = time;
        _decoder = new HpackDecoder();
        _preread = connection.Preread;
        _readCancel = CancellationTokenSource.CreateLinkedTokenSource(connection.Aborted);
        _connectionReceiveWindow = limits.ConnectionWindowBytes;
    }

    /// <summary>Serves the connection until it closes; never throws for the peer's behaviour.</summary>
    public async Task RunAsync()
    {
        using var stopping = _connection.Stopping.Register(() => _ = OnStoppingAsync());
        try
        {
            if (!await HandshakeAsync().ConfigureAwait(false))
            {
                return;
            }

            _metrics.OnConnection();
            while (true)
            {
                ArmReadDeadline();
                var (type, flags, streamId, payload) = await ReadFrameAsync().ConfigureAwait(false);
                var error = Dispatch(type, flags, streamId, payload.Span);
                if (error is { } failure)
                {
                    await FailConnectionAsync(failure.Reason, failure.Code).ConfigureAwait(false);
                    return;
                }

                await FlushCreditAsync().ConfigureAwait(false);
                if (ShouldEnd())
                {
                    return;
                }
            }
        }
        catch (Http2ConnectionError error)
        {
            await FailConnectionAsync(error.Reason, error.Code).ConfigureAwait(false);
        }
        catch (Http2ReadTimeoutException)
        {
            await OnReadTimeoutAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_goingAway || _connection.Aborted.IsCancellationRequested)
        {
            // Evicted, or the stop's GOAWAY finished its streams.
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or EndOfStreamException or System.Net.Sockets.SocketException)
        {
            // The peer went away.
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    private bool ShouldEnd()
    {
        lock (_lock)
        {
            return _goingAway && _streams.Count == 0;
        }
    }

    private async Task<bool> HandshakeAsync()
    {
        _readCancel.CancelAfter(_limits.PrefaceTimeout);
        var preface = new byte[Http2Wire.Preface.Length];
        try
        {
            await ReadExactAsync(preface).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_connection.Aborted.IsCancellationRequested)
        {
            _metrics.OnRefused(Http2Refusal.IdleTimeout);
            return false;
        }

        if (!preface.AsSpan().SequenceEqual(Http2Wire.Preface))
        {
            _metrics.OnRefused(Http2Refusal.BadPreface);
            await SendGoAwayAsync(Http2ErrorCode.ProtocolError, "bad connection preface").ConfigureAwait(false);
            return false;
        }

        // Our SETTINGS (RFC 9113 §6.5.2), then the connection window raised to its bound.
        var settings = new byte[4 * 6];
        WriteSetting(settings.AsSpan(0), Http2Wire.SettingsEnablePush, 0);
        WriteSetting(settings.AsSpan(6), Http2Wire.SettingsMaxConcurrentStreams, (uint)_limits.MaxConcurrentStreams);
        WriteSetting(settings.AsSpan(12), Http2Wire.SettingsInitialWindowSize, (uint)_limits.StreamWindowBytes);
        WriteSetting(settings.AsSpan(18), Http2Wire.SettingsMaxHeaderListSize, (uint)_limits.MaxHeaderListBytes);
        var frames = new List<byte[]> { Http2Wire.Frame(Http2FrameType.Settings, 0, 0, settings) };
        if (_limits.ConnectionWindowBytes > Http2Wire.DefaultWindowSize)
        {
            frames.Add(WindowUpdate(0, _limits.ConnectionWindowBytes - Http2Wire.DefaultWindowSize));
        }

        await WriteFramesAsync(frames).ConfigureAwait(false);
        try
        {
            var (type, flags, streamId, payload) = await ReadFrameAsync().ConfigureAwait(false);
            if (type != Http2FrameType.Settings || (flags & Http2Wire.FlagAck) != 0)
            {
                _metrics.OnRefused(Http2Refusal.BadPreface);
                await SendGoAwayAsync(Http2ErrorCode.ProtocolError, "the preface must be followed by SETTINGS").ConfigureAwait(false);
                return false;
            }

            if (Dispatch(type, flags, streamId, payload.Span) is { } failure)
            {
                await FailConnectionAsync(failure.Reason, failure.Code).ConfigureAwait(false);
                return false;
            }

            await FlushCreditAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_connection.Aborted.IsCancellationRequested)
        {
            _metrics.OnRefused(Http2Refusal.IdleTimeout);
            return false;
        }
        catch (Http2ReadTimeoutException)
        {
            _metrics.OnRefused(Http2Refusal.IdleTimeout);
            return false;
        }
        catch (Http2ConnectionError error)
        {
            await FailConnectionAsync(error.Reason, error.Code).ConfigureAwait(false);
            return false;
        }

        return true;
    }

    private static void WriteSetting(Span<byte> destination, ushort id, uint value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, id);
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], value);
    }

    /// <summary>The next read must complete by the earliest stream deadline, or the idle timeout when no stream is open.</summary>
    private void ArmReadDeadline()
    {
        var now = _time.GetTimestamp();
        TimeSpan wait;
        lock (_lock)
        {
            // Streams in a handler wait no longer than an idle connection; a stream still sending its body, until its deadline.
            wait = _limits.IdleTimeout;
            foreach (var stream in _streams.Values)
            {
                if (!stream.RemoteClosed && !stream.Discarding)
                {
                    var left = _time.GetElapsedTime(now, stream.Deadline);
                    wait = left < wait ? left : wait;
                }
            }
        }

        _readCancel.CancelAfter(wait <= TimeSpan.Zero ? TimeSpan.FromMilliseconds(1) : wait);
    }

    private async Task OnReadTimeoutAsync()
    {
        List<StreamState> expired = [];
        bool idle;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            foreach (var stream in _streams.Values)
            {
                if (!stream.RemoteClosed && !stream.Discarding && _time.GetElapsedTime(stream.Deadline, now) >= TimeSpan.Zero)
                {
                    expired.Add(stream);
                }
            }

            idle = _streams.Count == 0;
        }

        if (expired.Count > 0)
        {
            // A slow body holds the connection's reader; close it (its other streams were idle readers too).
            foreach (var stream in expired)
            {
                _metrics.OnRefused(Http2Refusal.StreamTimeout);
            }

            await SendGoAwayAsync(Http2ErrorCode.Cancel, "stream body timed out").ConfigureAwait(false);
            return;
        }

        if (idle)
        {
            _metrics.OnRefused(Http2Refusal.IdleTimeout);
        }

        await SendGoAwayAsync(Http2ErrorCode.NoError, "idle").ConfigureAwait(false);
    }

    private async Task OnStoppingAsync()
    {
        bool idle;
        lock (_lock)
        {
            if (_goingAway)
            {
                return;
            }

            _goingAway = true;
            idle = _streams.Count == 0;
        }

        try
        {
            await SendGoAwayAsync(Http2ErrorCode.NoError, "relay stopping").ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            // The connection is closing anyway.
        }

        if (idle)
        {
            CancelReader();
        }
    }

    private void CancelReader()
    {
        try
        {
            _readCancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }
    }

    private async Task CloseAsync()
    {
        Task[] handlers;
        lock (_lock)
        {
            foreach (var stream in _streams.Values)
            {
                stream.Cancel();
            }

            handlers = [.. _handlers];
        }

        await Task.WhenAll(handlers).ConfigureAwait(false);
        lock (_lock)
        {
            foreach (var stream in _streams.Values)
            {
                stream.ReleaseBody();
                stream.Dispose();
            }

            _streams.Clear();
        }

        if (_block is not null)
        {
            ArrayPool<byte>.Shared.Return(_block);
            _block = null;
        }

    }

    /// <summary>Frees the session's locks; call after <see cref="RunAsync"/> returned (it waits for every handler).</summary>
    public void Dispose()
    {
        _readCancel.Dispose();
        _writeLock.Dispose();
    }

    // ---- reading ----

    private async Task<(Http2FrameType Type, byte Flags, int StreamId, ReadOnlyMemory<byte> Payload)> ReadFrameAsync()
    {
        var header = new byte[Http2Wire.FrameHeaderLength];
        await ReadExactAsync(header).ConfigureAwait(false);
        var length = (header[0] << 16) | (header[1] << 8) | header[2];
        var type = (Http2FrameType)header[3];
        var flags = header[4];
        var streamId = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue;
        if (length > Http2Wire.DefaultMaxFrameSize)
        {
            // We never raise SETTINGS_MAX_FRAME_SIZE, so anything longer is a FRAME_SIZE_ERROR (§4.2).
            throw new Http2ConnectionError(Http2Refusal.FrameSize, Http2ErrorCode.FrameSizeError);
        }

        var payload = new byte[length];
        await ReadExactAsync(payload).ConfigureAwait(false);
        return (type, flags, streamId, payload);
    }

    private async Task ReadExactAsync(Memory<byte> destination)
    {
        while (destination.Length > 0)
        {
            if (_preread.Length > 0)
            {
                var n = Math.Min(_preread.Length, destination.Length);
                _preread[..n].CopyTo(destination);
                _preread = _preread[n..];
                destination = destination[n..];
                continue;
            }

            if (_readEnd > _readStart)
            {
                var n = Math.Min(_readEnd - _readStart, destination.Length);
                _readBuffer.AsMemory(_readStart, n).CopyTo(destination);
                _readStart += n;
                destination = destination[n..];
                continue;
            }

            int read;
            try
            {
                read = await _connection.Stream.ReadAsync(_readBuffer, _readCancel.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_connection.Aborted.IsCancellationRequested && !_goingAway)
            {
                throw new Http2ReadTimeoutException();
            }

            if (read == 0)
            {
                throw new EndOfStreamException();
            }

            _readStart = 0;
            _readEnd = read;
        }
    }

    /// <summary>Handles one frame; a connection error comes back as a value (stream errors are answered here).</summary>
    private (Http2Refusal Reason, Http2ErrorCode Code)? Dispatch(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        try
        {
            if (_block is not null && type != Http2FrameType.Continuation)
            {
                // A header block must be contiguous (§6.10).
                return (Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
            }

            switch (type)
            {
                case Http2FrameType.Data:
                    OnData(flags, streamId, payload);
                    break;
                case Http2FrameType.Headers:
                    OnHeaders(flags, streamId, payload);
                    break;
                case Http2FrameType.Continuation:
                    OnContinuation(flags, streamId, payload);
                    break;
                case Http2FrameType.Priority:
                    OnControlFrame();
                    if (streamId == 0)
                    {
                        return (Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
                    }

                    if (payload.Length != 5)
                    {
                        ResetStream(streamId, Http2ErrorCode.FrameSizeError, Http2Refusal.FrameSize);
                    }

                    break;
                case Http2FrameType.RstStream:
                    OnRstStream(streamId, payload);
                    break;
                case Http2FrameType.Settings:
                    OnSettings(flags, streamId, payload);
                    break;
                case Http2FrameType.PushPromise:
                    // A client never sends PUSH_PROMISE (§8.4).
                    return (Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
                case Http2FrameType.Ping:
                    OnPing(flags, streamId, payload);
                    break;
                case Http2FrameType.GoAway:
                    OnGoAway(streamId, payload);
                    break;
                case Http2FrameType.WindowUpdate:
                    OnWindowUpdate(streamId, payload);
                    break;
                default:
                    // Unknown frame types are ignored (§4.1), but they are not free.
                    OnControlFrame();
                    break;
            }

            return null;
        }
        catch (Http2ConnectionError error)
        {
            return (error.Reason, error.Code);
        }
    }

    private void OnControlFrame()
    {
        if (Interlocked.Increment(ref _controlFrames) > _limits.MaxControlFramesPerRequest)
        {
            throw new Http2ConnectionError(Http2Refusal.ControlFlood, Http2ErrorCode.EnhanceYourCalm);
        }
    }

    /// <summary>The payload without padding (§6.1, §6.2); padding as long as the payload or longer is a connection error.</summary>
    private static ReadOnlySpan<byte> Unpad(byte flags, ReadOnlySpan<byte> payload)
    {
        if ((flags & Http2Wire.FlagPadded) == 0)
        {
            return payload;
        }

        if (payload.Length < 1 || payload[0] >= payload.Length)
        {
            throw new Http2ConnectionError(Http2Refusal.BadPadding, Http2ErrorCode.ProtocolError);
        }

        return payload[1..(payload.Length - payload[0])];
    }

    private void OnData(byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        if (streamId == 0)
        {
            throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
        }

        // The whole frame, padding included, counts against both windows (§6.9.1).
        lock (_lock)
        {
            if (payload.Length > _connectionReceiveWindow)
            {
                throw new Http2ConnectionError(Http2Refusal.FlowControl, Http2ErrorCode.FlowControlError);
            }

            _connectionReceiveWindow -= payload.Length;
        }

        var data = Unpad(flags, payload);
        var endStream = (flags & Http2Wire.FlagEndStream) != 0;
        StreamState? stream;
        lock (_lock)
        {
            _streams.TryGetValue(streamId, out stream);
        }

        if (stream is null)
        {
            if (streamId > _lastStreamId)
            {
                // DATA on an idle stream (§5.1).
                throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
            }

            // A stream we closed or reset: frames in flight still arrive. Give the window back.
            Credit(payload.Length);
            OnControlFrame();
            return;
        }

        if (stream.RemoteClosed && !stream.Discarding)
        {
            Credit(payload.Length);
            ResetStream(streamId, Http2ErrorCode.StreamClosed, Http2Refusal.Protocol);
            return;
        }

        if (payload.Length > stream.ReceiveWindow)
        {
            Credit(payload.Length);
            ResetStream(streamId, Http2ErrorCode.FlowControlError, Http2Refusal.FlowControl);
            return;
        }

        stream.ReceiveWindow -= payload.Length;
        // Padding is never kept: its window comes back now; the data's when the handler is done.
        Credit(payload.Length - data.Length);
        if (data.Length == 0 && !endStream)
        {
            OnControlFrame();
        }

        if (stream.Discarding)
        {
            Credit(data.Length);
        }
        else if (stream.BodyLength + data.Length > _limits.MaxBodyBytes)
        {
            Credit(stream.Charged + data.Length);
            stream.Charged = 0;
            stream.ReleaseBody();
            stream.Discarding = true;
            _metrics.OnRefused(Http2Refusal.BodyTooLarge);
            StartHandler(stream, bodyTooLarge: true);
        }
        else
        {
            stream.Append(data, _limits.MaxBodyBytes);
            stream.Charged += data.Length;
        }

        if (endStream)
        {
            stream.RemoteClosed = true;
            if (!stream.Discarding)
            {
                StartHandler(stream, bodyTooLarge: false);
            }
            else
            {
                RemoveIfDone(stream);
            }
        }
        else if (!stream.Discarding && stream.ReceiveWindow < _limits.StreamWindowBytes / 2)
        {
            var increment = _limits.StreamWindowBytes - stream.ReceiveWindow;
            stream.ReceiveWindow += increment;
            stream.PendingWindowUpdate += increment;
        }
    }

    private void OnHeaders(byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        if (streamId == 0)
        {
            throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
        }

        var fragment = Unpad(flags, payload);
        if ((flags & Http2Wire.FlagPriority) != 0)
        {
            if (fragment.Length < 5)
            {
                throw new Http2ConnectionError(Http2Refusal.FrameSize, Http2ErrorCode.FrameSizeError);
            }

            fragment = fragment[5..];
        }

        _blockStream = streamId;
        _blockEndStream = (flags & Http2Wire.FlagEndStream) != 0;
        _blockContinuations = 0;
        _blockLength = 0;
        AppendBlock(fragment);
        if ((flags & Http2Wire.FlagEndHeaders) != 0)
        {
            EndBlock();
        }
    }

    private void OnContinuation(byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        if (_block is null || streamId != _blockStream)
        {
            throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
        }

        if (++_blockContinuations > _limits.MaxContinuationFrames)
        {
            throw new Http2ConnectionError(Http2Refusal.HeaderBlockTooLarge, Http2ErrorCode.EnhanceYourCalm);
        }

        AppendBlock(payload);
        if ((flags & Http2Wire.FlagEndHeaders) != 0)
        {
            EndBlock();
        }
    }

    private void AppendBlock(ReadOnlySpan<byte> fragment)
    {
        if (_blockLength + fragment.Length > _limits.MaxHeaderBlockBytes)
        {
            throw new Http2ConnectionError(Http2Refusal.HeaderBlockTooLarge, Http2ErrorCode.EnhanceYourCalm);
        }

        _block ??= ArrayPool<byte>.Shared.Rent(_limits.MaxHeaderBlockBytes);
        fragment.CopyTo(_block.AsSpan(_blockLength));
        _blockLength += fragment.Length;
    }

    private void EndBlock()
    {
        var block = _block!;
        _block = null;
        HeaderList list;
        try
        {
            list = _decoder.Decode(block.AsSpan(0, _blockLength), _limits.MaxHeaderListBytes);
        }
        catch (HpackException)
        {
            throw new Http2ConnectionError(Http2Refusal.Compression, Http2ErrorCode.CompressionError);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }

        var streamId = _blockStream;
        StreamState? existing;
        lock (_lock)
        {
            _streams.TryGetValue(streamId, out existing);
        }

        if (existing is not null)
        {
            // Trailers: they must end the stream (§8.1); their fields are not used.
            if (!_blockEndStream || existing.RemoteClosed)
            {
                ResetStream(streamId, Http2ErrorCode.ProtocolError, Http2Refusal.MalformedRequest);
                return;
            }

            existing.RemoteClosed = true;
            if (!existing.Discarding)
            {
                StartHandler(existing, bodyTooLarge: false);
            }
            else
            {
                RemoveIfDone(existing);
            }

            return;
        }

        if (streamId <= _lastStreamId || (streamId & 1) == 0)
        {
            // A client opens odd streams in increasing order (§5.1.1); an old one is closed.
            throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
        }

        _lastStreamId = streamId;
        int open;
        bool goingAway;
        lock (_lock)
        {
            // Handlers of streams the client reset still run: they count (rapid reset, CVE-2023-44487).
            open = _handlers.Count + _streams.Values.Count(s => !s.Dispatched);
            goingAway = _goingAway;
        }

        if (goingAway)
        {
            // Past our GOAWAY's last stream id: ignored, the client retries elsewhere (§6.8).
            return;
        }

        if (open >= _limits.MaxConcurrentStreams)
        {
            ResetStream(streamId, Http2ErrorCode.RefusedStream, Http2Refusal.TooManyStreams);
            return;
        }

        var stream = new StreamState(streamId, _limits.StreamWindowBytes, _peerInitialWindow, _time.GetTimestamp() + (long)(_limits.StreamTimeout.TotalSeconds * _time.TimestampFrequency), _connection.Aborted);
        lock (_lock)
        {
            _streams.Add(streamId, stream);
        }

        if (list.TooLarge)
        {
            _metrics.OnRefused(Http2Refusal.HeaderListTooLarge);
            stream.Discarding = true;
            stream.RemoteClosed = _blockEndStream;
            Respond(stream, new Http2Response(431, [], ReadOnlyMemory<byte>.Empty, null));
            return;
        }

        if (!TryReadRequestHead(list, out var method, out var path))
        {
            lock (_lock)
            {
                _streams.Remove(streamId);
            }

            stream.Dispose();
            ResetStream(streamId, Http2ErrorCode.ProtocolError, Http2Refusal.MalformedRequest);
            return;
        }

        stream.Method = method;
        stream.Path = path;
        stream.Headers = list.Fields;
        if (_blockEndStream)
        {
            stream.RemoteClosed = true;
            StartHandler(stream, bodyTooLarge: false);
        }
    }

    /// <summary>RFC 9113 §8.3.1 and §8.2: :method, :scheme, :path once each, pseudo-headers first, no others; lower-case names; no connection-specific fields.</summary>
    private static bool TryReadRequestHead(HeaderList list, out string method, out string path)
    {
        method = path = string.Empty;
        string? scheme = null;
        var regular = false;
        foreach (var (name, value) in list.Fields)
        {
            if (name.Length == 0)
            {
                return false;
            }

            if (name[0] == ':')
            {
                if (regular)
                {
                    return false;
                }

                switch (name)
                {
                    case ":method" when method.Length == 0:
                        method = value;
                        break;
                    case ":path" when path.Length == 0:
                        path = value;
                        break;
                    case ":scheme" when scheme is null:
                        scheme = value;
                        break;
                    case ":authority":
                        break;
                    default:
                        return false;
                }

                continue;
            }

            regular = true;
            foreach (var ch in name)
            {
                if (ch is >= 'A' and <= 'Z' || ch <= ' ' || ch >= 0x7F)
                {
                    return false;
                }
            }

            if (name is "connection" or "keep-alive" or "proxy-connection" or "transfer-encoding" or "upgrade" || (name == "te" && value != "trailers"))
            {
                return false;
            }
        }

        return method.Length > 0 && path.Length > 0 && scheme is not null;
    }

    private void OnRstStream(int streamId, ReadOnlySpan<byte> payload)
    {
        OnControlFrame();
        if (payload.Length != 4)
        {
            throw new Http2ConnectionError(Http2Refusal.FrameSize, Http2ErrorCode.FrameSizeError);
        }

        if (streamId == 0 || streamId > _lastStreamId)
        {
            throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
        }

        _metrics.OnResetReceived();
        StreamState? stream;
        lock (_lock)
        {
            if (_streams.Remove(streamId, out stream))
            {
                stream.Reset = true;
            }
        }

        if (stream is not null)
        {
            stream.Cancel();
            if (!stream.Dispatched)
            {
                Credit(stream.Charged);
                stream.ReleaseBody();
                stream.Dispose();
            }
        }
    }

    private void OnSettings(byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        OnControlFrame();
        if (streamId != 0)
        {
            throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
        }

        if ((flags & Http2Wire.FlagAck) != 0)
        {
            if (payload.Length != 0)
            {
                throw new Http2ConnectionError(Http2Refusal.FrameSize, Http2ErrorCode.FrameSizeError);
            }

            return;
        }

        if (payload.Length % 6 != 0)
        {
            throw new Http2ConnectionError(Http2Refusal.FrameSize, Http2ErrorCode.FrameSizeError);
        }

        for (var i = 0; i < payload.Length; i += 6)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(payload[i..]);
            var value = BinaryPrimitives.ReadUInt32BigEndian(payload[(i + 2)..]);
            switch (id)
            {
                case Http2Wire.SettingsEnablePush when value > 1:
                    throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
                case Http2Wire.SettingsInitialWindowSize:
                    if (value > Http2Wire.MaxWindowSize)
                    {
                        throw new Http2ConnectionError(Http2Refusal.FlowControl, Http2ErrorCode.FlowControlError);
                    }

                    lock (_lock)
                    {
                        // The change applies to every open stream's send window (§6.9.2).
                        var delta = (long)value - _peerInitialWindow;
                        foreach (var stream in _streams.Values)
                        {
                            if (stream.SendWindow + delta > Http2Wire.MaxWindowSize)
                            {
                                throw new Http2ConnectionError(Http2Refusal.FlowControl, Http2ErrorCode.FlowControlError);
                            }

                            stream.SendWindow += delta;
                        }

                        _peerInitialWindow = (int)value;
                    }

                    SignalWindow();
                    break;
                case Http2Wire.SettingsMaxFrameSize:
                    if (value < Http2Wire.DefaultMaxFrameSize || value > Http2Wire.MaxAllowedFrameSize)
                    {
                        throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
                    }

                    _peerMaxFrameSize = (int)value;
                    break;
                default:
                    // HEADER_TABLE_SIZE (our encoder never uses the dynamic table), MAX_CONCURRENT_STREAMS
                    // (we never push), MAX_HEADER_LIST_SIZE (our answers are small), unknown ids (§6.5.2).
                    break;
            }
        }

        QueueFrame(Http2Wire.Frame(Http2FrameType.Settings, Http2Wire.FlagAck, 0, []));
    }

    private void OnPing(byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        OnControlFrame();
        if (streamId != 0)
        {
            throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
        }

        if (payload.Length != 8)
        {
            throw new Http2ConnectionError(Http2Refusal.FrameSize, Http2ErrorCode.FrameSizeError);
        }

        if ((flags & Http2Wire.FlagAck) == 0)
        {
            QueueFrame(Http2Wire.Frame(Http2FrameType.Ping, Http2Wire.FlagAck, 0, payload));
        }
    }

    private void OnGoAway(int streamId, ReadOnlySpan<byte> payload)
    {
        if (streamId != 0)
        {
            throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
        }

        if (payload.Length < 8)
        {
            throw new Http2ConnectionError(Http2Refusal.FrameSize, Http2ErrorCode.FrameSizeError);
        }

        lock (_lock)
        {
            // The client will open no more streams: finish the open ones, then close.
            _goingAway = true;
        }
    }

    private void OnWindowUpdate(int streamId, ReadOnlySpan<byte> payload)
    {
        OnControlFrame();
        if (payload.Length != 4)
        {
            throw new Http2ConnectionError(Http2Refusal.FrameSize, Http2ErrorCode.FrameSizeError);
        }

        var increment = BinaryPrimitives.ReadUInt32BigEndian(payload) & int.MaxValue;
        if (streamId == 0)
        {
            lock (_lock)
            {
                if (increment == 0)
                {
                    throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
                }

                if (_connectionSendWindow + increment > Http2Wire.MaxWindowSize)
                {
                    throw new Http2ConnectionError(Http2Refusal.FlowControl, Http2ErrorCode.FlowControlError);
                }

                _connectionSendWindow += increment;
            }

            SignalWindow();
            return;
        }

        if (streamId > _lastStreamId)
        {
            throw new Http2ConnectionError(Http2Refusal.Protocol, Http2ErrorCode.ProtocolError);
        }

        StreamState? stream;
        lock (_lock)
        {
            _streams.TryGetValue(streamId, out stream);
        }

        if (stream is null)
        {
            return;
        }

        if (increment == 0)
        {
            ResetStream(streamId, Http2ErrorCode.ProtocolError, Http2Refusal.Protocol);
            return;
        }

        bool overflow;
        lock (_lock)
        {
            overflow = stream.SendWindow + increment > Http2Wire.MaxWindowSize;
            if (!overflow)
            {
                stream.SendWindow += increment;
            }
        }

        if (overflow)
        {
            ResetStream(streamId, Http2ErrorCode.FlowControlError, Http2Refusal.FlowControl);
            return;
        }

        SignalWindow();
    }

    private void Credit(long bytes)
    {
        lock (_lock)
        {
            _connectionCredit += bytes;
        }
    }

    private void SignalWindow()
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            signal = _windowChanged;
            _windowChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }

    // ---- streams ----

    private void StartHandler(StreamState stream, bool bodyTooLarge)
    {
        stream.Dispatched = true;
        _metrics.OnStream();
        var request = new Http2Request(stream.Id, stream.Method, stream.Path, stream.Headers, stream.Body) { BodyTooLarge = bodyTooLarge };
        lock (_lock)
        {
            var task = Task.Run(() => ServeStreamAsync(stream, request));
            _handlers.Add(task);
            _ = task.ContinueWith(t => RemoveHandler(t), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void RemoveHandler(Task task)
    {
        lock (_lock)
        {
            _handlers.Remove(task);
        }
    }

    private void Respond(StreamState stream, Http2Response response)
    {
        stream.Dispatched = true;
        lock (_lock)
        {
            var task = Task.Run(() => WriteAnswerAsync(stream, response));
            _handlers.Add(task);
            _ = task.ContinueWith(t => RemoveHandler(t), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeStreamAsync(StreamState stream, Http2Request request)
    {
        Http2Response response;
        try
        {
            response = await _handler(request, stream.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stream.Token.IsCancellationRequested)
        {
            await FinishStreamAsync(stream).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _metrics.OnRefused(Http2Refusal.HandlerFailed);
            _log.Error("http2 handler failed", ("path", request.Path), ("error", e.GetType().Name), ("detail", e.Message));
            response = new Http2Response(500, [], ReadOnlyMemory<byte>.Empty, null);
        }

        await WriteAnswerAsync(stream, response).ConfigureAwait(false);
    }

    private async Task WriteAnswerAsync(StreamState stream, Http2Response response)
    {
        try
        {
            if (!stream.Reset)
            {
                await WriteResponseAsync(stream, response).ConfigureAwait(false);
                Interlocked.Exchange(ref _controlFrames, 0);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
        {
            // The connection is gone or the peer does not read; the session ends on its own.
            CancelReader();
        }
        finally
        {
            await FinishStreamAsync(stream).ConfigureAwait(false);
        }
    }

    /// <summary>The handler is done: the body's window goes back to the connection and the stream closes.</summary>
    private async Task FinishStreamAsync(StreamState stream)
    {
        bool end;
        long credit;
        lock (_lock)
        {
            stream.ReleaseBody();
            credit = stream.Charged;
            stream.Charged = 0;
            _connectionCredit += credit;
            _streams.Remove(stream.Id);
            end = _goingAway && _streams.Count == 0;
        }

        stream.Dispose();
        try
        {
            await FlushCreditAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
        {
            end = true;
        }

        if (end)
        {
            CancelReader();
        }
    }

    private void RemoveIfDone(StreamState stream)
    {
        if (stream.Dispatched)
        {
            return;
        }

        lock (_lock)
        {
            _streams.Remove(stream.Id);
        }

        stream.Dispose();
    }

    private void ResetStream(int streamId, Http2ErrorCode code, Http2Refusal reason)
    {
        _metrics.OnRefused(reason);
        StreamState? stream;
        lock (_lock)
        {
            if (_streams.Remove(streamId, out stream))
            {
                stream.Reset = true;
                _connectionCredit += stream.Dispatched ? 0 : stream.Charged;
            }
        }

        if (stream is not null)
        {
            stream.Cancel();
            if (!stream.Dispatched)
            {
                stream.ReleaseBody();
                stream.Dispose();
            }
        }

        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)code);
        QueueFrame(Http2Wire.Frame(Http2FrameType.RstStream, 0, streamId, payload));
    }

    // ---- writing ----

    private readonly List<byte[]> _queued = [];

    /// <summary>Frames the reader answers with (SETTINGS ACK, PING ACK, RST_STREAM), written after the frame is handled.</summary>
    private void QueueFrame(byte[] frame)
    {
        lock (_lock)
        {
            _queued.Add(frame);
        }
    }

    /// <summary>Writes queued control frames and the window updates owed (connection credit once a quarter of the window is due).</summary>
    private async Task FlushCreditAsync()
    {
        List<byte[]> frames;
        lock (_lock)
        {
            frames = [.. _queued];
            _queued.Clear();
            if (_connectionCredit > 0 && (_connectionCredit >= _limits.ConnectionWindowBytes / 4 || _connectionReceiveWindow < _limits.ConnectionWindowBytes / 2))
            {
                frames.Add(WindowUpdate(0, (int)_connectionCredit));
                _connectionReceiveWindow += _connectionCredit;
                _connectionCredit = 0;
            }

            foreach (var stream in _streams.Values)
            {
                if (stream.PendingWindowUpdate > 0)
                {
                    frames.Add(WindowUpdate(stream.Id, (int)stream.PendingWindowUpdate));
                    stream.PendingWindowUpdate = 0;
                }
            }
        }

        if (frames.Count > 0)
        {
            await WriteFramesAsync(frames).ConfigureAwait(false);
        }
    }

    private static byte[] WindowUpdate(int streamId, int increment)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, increment);
        return Http2Wire.Frame(Http2FrameType.WindowUpdate, 0, streamId, payload);
    }

    private async Task SendGoAwayAsync(Http2ErrorCode code, string debug)
    {
        _metrics.OnGoAway(code);
        var text = System.Text.Encoding.ASCII.GetBytes(debug);
        var payload = new byte[8 + text.Length];
        int last;
        lock (_lock)
        {
            last = _lastStreamId;
        }

        BinaryPrimitives.WriteInt32BigEndian(payload, last);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), (uint)code);
        text.CopyTo(payload, 8);
        try
        {
            await WriteFramesAsync([Http2Wire.Frame(Http2FrameType.GoAway, 0, 0, payload)]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
        {
            // The peer is gone; closing is all that is left.
        }
    }

    private async Task FailConnectionAsync(Http2Refusal reason, Http2ErrorCode code)
    {
        _metrics.OnRefused(reason);
        lock (_lock)
        {
            _goingAway = true;
        }

        _log.Debug("http2 connection error", ("reason", Http2Metrics.Label(reason)), ("code", Http2Metrics.Label(code)));
        await FlushCreditAsync().ConfigureAwait(false);
        await SendGoAwayAsync(code, Http2Metrics.Label(reason)).ConfigureAwait(false);
    }

    private async Task WriteFramesAsync(IReadOnlyList<byte[]> frames)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_connection.Aborted);
        timeout.CancelAfter(_limits.WriteTimeout);
        await _writeLock.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            var total = frames.Sum(f => f.Length);
            var buffer = ArrayPool<byte>.Shared.Rent(total);
            try
            {
                var offset = 0;
                foreach (var frame in frames)
                {
                    frame.CopyTo(buffer, offset);
                    offset += frame.Length;
                }

                await _connection.Stream.WriteAsync(buffer.AsMemory(0, total), timeout.Token).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task WriteResponseAsync(StreamState stream, Http2Response response)
    {
        var head = new List<byte>(64);
        if (response.Status == 200)
        {
            HpackEncoder.WriteIndexed(head, HpackStaticTable.Status200);
        }
        else
        {
            HpackEncoder.WriteLiteral(head, HpackStaticTable.Status200, response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (var (name, value) in response.Headers)
        {
            HpackEncoder.WriteLiteral(head, name, value);
        }

        var body = response.Body;
        var trailers = response.Trailers;
        var headersEnd = body.IsEmpty && trailers is null;
        var frames = new List<byte[]> { HeadersFrame(stream.Id, head, headersEnd) };
        var deadline = _time.GetTimestamp() + (long)(_limits.WriteTimeout.TotalSeconds * _time.TimestampFrequency);
        while (!body.IsEmpty)
        {
            var allowed = await AcquireSendWindowAsync(stream, body.Length, deadline, frames).ConfigureAwait(false);
            var last = allowed == body.Length;
            frames.Add(Http2Wire.Frame(Http2FrameType.Data, last && trailers is null ? Http2Wire.FlagEndStream : (byte)0, stream.Id, body.Span[..allowed]));
            body = body[allowed..];
        }

        if (trailers is not null)
        {
            var block = new List<byte>(64);
            foreach (var (name, value) in trailers)
            {
                HpackEncoder.WriteLiteral(block, name, value);
            }

            frames.Add(HeadersFrame(stream.Id, block, endStream: true));
        }

        if (!stream.RemoteClosed)
        {
            // We answered before the client finished sending (a refused body): stop it (§8.1).
            var payload = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)Http2ErrorCode.NoError);
            frames.Add(Http2Wire.Frame(Http2FrameType.RstStream, 0, stream.Id, payload));
        }

        await WriteFramesAsync(frames).ConfigureAwait(false);
    }

    private static byte[] HeadersFrame(int streamId, List<byte> block, bool endStream)
    {
        if (block.Count > MaxResponseBlockBytes)
        {
            throw new InvalidOperationException($"a response header block of {block.Count} bytes is over {MaxResponseBlockBytes}");
        }

        var flags = (byte)(Http2Wire.FlagEndHeaders | (endStream ? Http2Wire.FlagEndStream : 0));
        return Http2Wire.Frame(Http2FrameType.Headers, flags, streamId, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(block));
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes of send window (stream, connection, frame size); waits for WINDOW_UPDATE when there is none.</summary>
    private async Task<int> AcquireSendWindowAsync(StreamState stream, int wanted, long deadline, List<byte[]> pending)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                var allowed = (int)Math.Min(Math.Min(wanted, _peerMaxFrameSize), Math.Min(_connectionSendWindow, stream.SendWindow));
                if (allowed > 0)
                {
                    _connectionSendWindow -= allowed;
                    stream.SendWindow -= allowed;
                    return allowed;
                }

                changed = _windowChanged.Task;
            }

            if (pending.Count > 0)
            {
                // Send what is ready before waiting, so the peer sees the headers.
                await WriteFramesAsync(pending).ConfigureAwait(false);
                pending.Clear();
            }

            var left = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero || stream.Token.IsCancellationRequested)
            {
                throw new TimeoutException("the peer's flow-control window stayed closed");
            }

            await changed.WaitAsync(left, _time, stream.Token).ConfigureAwait(false);
        }
    }

    /// <summary>One stream: its state, windows, body and the token its handler sees.</summary>
    private sealed class StreamState(int id, int receiveWindow, int sendWindow, long deadline, CancellationToken connection) : IDisposable
    {
        private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(connection);
        private byte[]? _body;

        public int Id { get; } = id;

        public long Deadline { get; } = deadline;

        public string Method { get; set; } = string.Empty;

        public string Path { get; set; } = string.Empty;

        public IReadOnlyList<(string Name, string Value)> Headers { get; set; } = [];

        public long ReceiveWindow { get; set; } = receiveWindow;

        public long SendWindow { get; set; } = sendWindow;

        public long PendingWindowUpdate { get; set; }

        /// <summary>Body bytes counted against the connection window, given back when the stream finishes.</summary>
        public long Charged { get; set; }

        public int BodyLength { get; private set; }

        public bool RemoteClosed { get; set; }

        /// <summary>The body is not kept (over its bound, or the stream was answered early): DATA is only counted.</summary>
        public bool Discarding { get; set; }

        public bool Dispatched { get; set; }

        public bool Reset { get; set; }

        public CancellationToken Token => _cancel.Token;

        public ReadOnlyMemory<byte> Body => _body is null ? ReadOnlyMemory<byte>.Empty : _body.AsMemory(0, BodyLength);

        public void Append(ReadOnlySpan<byte> data, int limit)
        {
            if (data.IsEmpty)
            {
                return;
            }

            if (_body is null || BodyLength + data.Length > _body.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(limit, Math.Max(BodyLength + data.Length, (_body?.Length ?? 4096) * 2)));
                _body?.AsSpan(0, BodyLength).CopyTo(larger);
                if (_body is not null)
                {
                    ArrayPool<byte>.Shared.Return(_body);
                }

                _body = larger;
            }

            data.CopyTo(_body.AsSpan(BodyLength));
            BodyLength += data.Length;
        }

        public void ReleaseBody()
        {
            if (_body is not null)
            {
                ArrayPool<byte>.Shared.Return(_body);
                _body = null;
            }

            BodyLength = 0;
        }

        public void Cancel()
        {
            try
            {
                _cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Finished already.
            }
        }

        public void Dispose() => _cancel.Dispose();
    }
}

/// <summary>A connection error found while handling a frame (answered with GOAWAY).</summary>
internal sealed class Http2ConnectionError(Http2Refusal reason, Http2ErrorCode code) : Exception($"HTTP/2 connection error {code} ({reason})")
{
    public Http2Refusal Reason { get; } = reason;

    public Http2ErrorCode Code { get; } = code;
}

/// <summary>No frame arrived before the read deadline (idle connection or a stream's body too slow).</summary>
internal sealed class Http2ReadTimeoutException() : Exception("HTTP/2 read deadline passed");
