using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Relay.Http.Http2;

/// <summary>Frame types. Source: RFC 9113 §6 (and §11.2's registry).</summary>
public enum Http2FrameType : byte
{
    Data = 0x0,
    Headers = 0x1,
    Priority = 0x2,
    RstStream = 0x3,
    Settings = 0x4,
    PushPromise = 0x5,
    Ping = 0x6,
    GoAway = 0x7,
    WindowUpdate = 0x8,
    Continuation = 0x9,
}

/// <summary>Error codes of RST_STREAM and GOAWAY. Source: RFC 9113 §7.</summary>
public enum Http2ErrorCode : uint
{
    NoError = 0x0,
    ProtocolError = 0x1,
    InternalError = 0x2,
    FlowControlError = 0x3,
    SettingsTimeout = 0x4,
    StreamClosed = 0x5,
    FrameSizeError = 0x6,
    RefusedStream = 0x7,
    Cancel = 0x8,
    CompressionError = 0x9,
    ConnectError = 0xa,
    EnhanceYourCalm = 0xb,
    InadequateSecurity = 0xc,
    Http11Required = 0xd,
}

/// <summary>Frame flags and settings identifiers. Source: RFC 9113 §6.</summary>
public static class Http2Wire
{
    public const byte FlagEndStream = 0x1;
    public const byte FlagAck = 0x1;
    public const byte FlagEndHeaders = 0x4;
    public const byte FlagPadded = 0x8;
    public const byte FlagPriority = 0x20;

    public const ushort SettingsHeaderTableSize = 0x1;
    public const ushort SettingsEnablePush = 0x2;
    public const ushort SettingsMaxConcurrentStreams = 0x3;
    public const ushort SettingsInitialWindowSize = 0x4;
    public const ushort SettingsMaxFrameSize = 0x5;
    public const ushort SettingsMaxHeaderListSize = 0x6;

    public const int FrameHeaderLength = 9;

    /// <summary>SETTINGS_MAX_FRAME_SIZE and SETTINGS_INITIAL_WINDOW_SIZE initial values, the largest window. Source: RFC 9113 §6.5.2, §6.9.1.</summary>
    public const int DefaultMaxFrameSize = 16_384;
    public const int MaxAllowedFrameSize = (1 << 24) - 1;
    public const int DefaultWindowSize = 65_535;
    public const int MaxWindowSize = int.MaxValue;

    /// <summary>The client connection preface. Source: RFC 9113 §3.4.</summary>
    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>Writes a frame header into <paramref name="destination"/> (9 bytes).</summary>
    public static void WriteFrameHeader(Span<byte> destination, int length, Http2FrameType type, byte flags, int streamId)
    {
        destination[0] = (byte)(length >> 16);
        destination[1] = (byte)(length >> 8);
        destination[2] = (byte)length;
        destination[3] = (byte)type;
        destination[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], streamId & int.MaxValue);
    }

    /// <summary>One whole frame as bytes (tests and the bench client build their traffic with it too).</summary>
    public static byte[] Frame(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[FrameHeaderLength + payload.Length];
        WriteFrameHeader(frame, payload.Length, type, flags, streamId);
        payload.CopyTo(frame.AsSpan(FrameHeaderLength));
        return frame;
    }
}

/// <summary>
/// The bounds one HTTP/2 connection holds its peer to (advertised in SETTINGS where HTTP/2 has a
/// setting for them). Each is named in daemon-relay/README.md ("OTLP/gRPC bounds"); hitting one is a
/// counted refusal (<see cref="Http2Refusal"/>), never unbounded work or memory.
/// </summary>
public sealed record Http2Limits
{
    /// <summary>Streams open at once (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused with REFUSED_STREAM, which clients retry.</summary>
    public int MaxConcurrentStreams { get; init; } = 16;

    /// <summary>Decoded header list per request (SETTINGS_MAX_HEADER_LIST_SIZE, name + value + 32 per field); past it the stream is answered 431.</summary>
    public int MaxHeaderListBytes { get; init; } = 16 * 1024;

    /// <summary>Compressed header block (HEADERS + CONTINUATION) per request; past it the connection is closed (GOAWAY ENHANCE_YOUR_CALM).</summary>
    public int MaxHeaderBlockBytes { get; init; } = 32 * 1024;

    /// <summary>CONTINUATION frames per header block (a flood of empty ones costs work without bytes).</summary>
    public int MaxContinuationFrames { get; init; } = 16;

    /// <summary>Request body per stream; past it the handler is told (<see cref="Http2Request.BodyTooLarge"/>) and the rest is discarded.</summary>
    public int MaxBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Receive window per stream (SETTINGS_INITIAL_WINDOW_SIZE), refilled while the body is read.</summary>
    public int StreamWindowBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// Receive window of the connection. It is refilled only when a request's body is released (its
    /// handler finished), so it bounds the bytes a connection can make the relay hold.
    /// </summary>
    public int ConnectionWindowBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>
    /// Frames that carry no request progress (PING, SETTINGS, RST_STREAM, PRIORITY, WINDOW_UPDATE,
    /// empty DATA, unknown types) accepted between two answered requests; more close the connection
    /// (GOAWAY ENHANCE_YOUR_CALM): ping floods, settings floods and rapid reset.
    /// </summary>
    public int MaxControlFramesPerRequest { get; init; } = 1000;

    /// <summary>A connection with no open stream is closed (GOAWAY NO_ERROR) after this.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>From a stream's HEADERS to the end of its body; a stream slower than this is reset (CANCEL).</summary>
    public TimeSpan StreamTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The connection preface and the client's first SETTINGS must arrive within this.</summary>
    public TimeSpan PrefaceTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Writing one frame batch, including waiting for the peer's flow-control window.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrentStreams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderListBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderBlockBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxContinuationFrames, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBodyBytes, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(StreamWindowBytes, Http2Wire.DefaultWindowSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(ConnectionWindowBytes, Http2Wire.DefaultWindowSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxControlFramesPerRequest, 10);
        foreach (var timeout in new[] { IdleTimeout, StreamTimeout, PrefaceTimeout, WriteTimeout })
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        }
    }
}

/// <summary>Why the HTTP/2 layer refused a connection or a stream (the <c>reason</c> label in /metrics).</summary>
public enum Http2Refusal
{
    /// <summary>The connection did not open with the 24-byte preface and a SETTINGS frame.</summary>
    BadPreface,
    /// <summary>A frame longer than SETTINGS_MAX_FRAME_SIZE, or a fixed-size frame of the wrong length (FRAME_SIZE_ERROR).</summary>
    FrameSize,
    /// <summary>Padding as long as the frame or longer (PROTOCOL_ERROR).</summary>
    BadPadding,
    /// <summary>Another protocol violation: a frame on the wrong stream, in the wrong state or order (PROTOCOL_ERROR).</summary>
    Protocol,
    /// <summary>A header block that does not decode (COMPRESSION_ERROR).</summary>
    Compression,
    /// <summary>A header block over <see cref="Http2Limits.MaxHeaderBlockBytes"/> or <see cref="Http2Limits.MaxContinuationFrames"/> (ENHANCE_YOUR_CALM).</summary>
    HeaderBlockTooLarge,
    /// <summary>A header list over <see cref="Http2Limits.MaxHeaderListBytes"/> (the stream is answered 431).</summary>
    HeaderListTooLarge,
    /// <summary>A request whose pseudo-headers or field names are not valid HTTP/2 (stream PROTOCOL_ERROR).</summary>
    MalformedRequest,
    /// <summary>A window over 2^31-1, or DATA past the window we gave (FLOW_CONTROL_ERROR).</summary>
    FlowControl,
    /// <summary>A stream past <see cref="Http2Limits.MaxConcurrentStreams"/> (REFUSED_STREAM).</summary>
    TooManyStreams,
    /// <summary>More than <see cref="Http2Limits.MaxControlFramesPerRequest"/> frames without progress (ENHANCE_YOUR_CALM).</summary>
    ControlFlood,
    /// <summary>A body over <see cref="Http2Limits.MaxBodyBytes"/>.</summary>
    BodyTooLarge,
    /// <summary>A stream that did not finish its body within <see cref="Http2Limits.StreamTimeout"/> (CANCEL).</summary>
    StreamTimeout,
    /// <summary>A connection without a stream for <see cref="Http2Limits.IdleTimeout"/>, or without a preface in time.</summary>
    IdleTimeout,
    /// <summary>The request handler threw (answered 500 / gRPC INTERNAL).</summary>
    HandlerFailed,
}

/// <summary>Counters of one HTTP/2 endpoint (the OTLP/gRPC receiver), rendered into /metrics.</summary>
public sealed class Http2Metrics(string prefix)
{
    private readonly long[] _refusals = new long[Enum.GetValues<Http2Refusal>().Length];
    private readonly ConcurrentDictionary<Http2ErrorCode, long> _goAways = new();
    private long _connections;
    private long _streams;
    private long _resetsReceived;

    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Requests handed to the handler.</summary>
    public long Streams => Interlocked.Read(ref _streams);

    public long ResetsReceived => Interlocked.Read(ref _resetsReceived);

    public long Refused(Http2Refusal reason) => Interlocked.Read(ref _refusals[(int)reason]);

    public long GoAways(Http2ErrorCode code) => _goAways.GetValueOrDefault(code);

    internal void OnConnection() => Interlocked.Increment(ref _connections);

    internal void OnStream() => Interlocked.Increment(ref _streams);

    internal void OnResetReceived() => Interlocked.Increment(ref _resetsReceived);

    internal void OnRefused(Http2Refusal reason) => Interlocked.Increment(ref _refusals[(int)reason]);

    internal void OnGoAway(Http2ErrorCode code) => _goAways.AddOrUpdate(code, 1, (_, n) => n + 1);

    public static string Label(Http2Refusal reason) => reason switch
    {
        Http2Refusal.BadPreface => "bad_preface",
        Http2Refusal.FrameSize => "frame_size",
        Http2Refusal.BadPadding => "bad_padding",
        Http2Refusal.Protocol => "protocol",
        Http2Refusal.Compression => "compression",
        Http2Refusal.HeaderBlockTooLarge => "header_block_too_large",
        Http2Refusal.HeaderListTooLarge => "header_list_too_large",
        Http2Refusal.MalformedRequest => "malformed_request",
        Http2Refusal.FlowControl => "flow_control",
        Http2Refusal.TooManyStreams => "too_many_streams",
        Http2Refusal.ControlFlood => "control_flood",
        Http2Refusal.BodyTooLarge => "body_too_large",
        Http2Refusal.StreamTimeout => "stream_timeout",
        Http2Refusal.IdleTimeout => "idle_timeout",
        Http2Refusal.HandlerFailed => "handler_failed",
        _ => "other",
    };

    public static string Label(Http2ErrorCode code) => code switch
    {
        Http2ErrorCode.NoError => "no_error",
        Http2ErrorCode.ProtocolError => "protocol_error",
        Http2ErrorCode.InternalError => "internal_error",
        Http2ErrorCode.FlowControlError => "flow_control_error",
        Http2ErrorCode.StreamClosed => "stream_closed",
        Http2ErrorCode.FrameSizeError => "frame_size_error",
        Http2ErrorCode.RefusedStream => "refused_stream",
        Http2ErrorCode.Cancel => "cancel",
        Http2ErrorCode.CompressionError => "compression_error",
        Http2ErrorCode.EnhanceYourCalm => "enhance_your_calm",
        _ => "other",
    };

    public void WritePrometheus(StringBuilder text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var c = CultureInfo.InvariantCulture;
        text.Append(c, $"# HELP {prefix}_connections_total HTTP/2 connections that sent the preface.\n# TYPE {prefix}_connections_total counter\n");
        text.Append(c, $"{prefix}_connections_total {Connections}\n");
        text.Append(c, $"# HELP {prefix}_streams_total HTTP/2 requests handed to the receiver.\n# TYPE {prefix}_streams_total counter\n");
        text.Append(c, $"{prefix}_streams_total {Streams}\n");
        text.Append(c, $"# HELP {prefix}_resets_received_total RST_STREAM frames received from clients.\n# TYPE {prefix}_resets_received_total counter\n");
        text.Append(c, $"{prefix}_resets_received_total {ResetsReceived}\n");
        text.Append(c, $"# HELP {prefix}_refused_total HTTP/2 connections or streams refused, by reason.\n# TYPE {prefix}_refused_total counter\n");
        foreach (var reason in Enum.GetValues<Http2Refusal>())
        {
            if (Refused(reason) is var count and > 0)
            {
                text.Append(c, $"{prefix}_refused_total{{reason=\"{Label(reason)}\"}} {count}\n");
            }
        }

        text.Append(c, $"# HELP {prefix}_goaway_sent_total GOAWAY frames sent, by error code.\n# TYPE {prefix}_goaway_sent_total counter\n");
        foreach (var (code, count) in _goAways.OrderBy(g => g.Key))
        {
            text.Append(c, $"{prefix}_goaway_sent_total{{code=\"{Label(code)}\"}} {count}\n");
        }
    }
}

/// <summary>
/// One request on an HTTP/2 stream, after END_STREAM (or as soon as the body went over its bound).
/// <see cref="Body"/> is pooled and valid until the handler's task completes.
/// </summary>
public sealed record Http2Request(int StreamId, string Method, string Path, IReadOnlyList<(string Name, string Value)> Headers, ReadOnlyMemory<byte> Body)
{
    /// <summary>The body went over <see cref="Http2Limits.MaxBodyBytes"/>; <see cref="Body"/> is empty and the rest is discarded.</summary>
    public bool BodyTooLarge { get; init; }

    /// <summary>The first value of a (lower-case) header, or null.</summary>
    public string? Header(string name)
    {
        foreach (var (field, value) in Headers)
        {
            if (string.Equals(field, name, StringComparison.Ordinal))
            {
                return value;
            }
        }

        return null;
    }
}

/// <summary>An answer: :status, header fields, body, and trailer fields (null for none). Names must be lower-case.</summary>
public sealed record Http2Response(int Status, IReadOnlyList<(string Name, string Value)> Headers, ReadOnlyMemory<byte> Body, IReadOnlyList<(string Name, string Value)>? Trailers);

/// <summary>Answers one HTTP/2 request; the token fires when the stream is reset or the connection closes.</summary>
public delegate Task<Http2Response> Http2RequestHandler(Http2Request request, CancellationToken cancellationToken);
