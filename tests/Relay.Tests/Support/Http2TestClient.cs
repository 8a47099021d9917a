using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Relay.Http.Http2;

namespace Relay.Tests.Support;

/// <summary>
/// A raw HTTP/2 client for tests: writes exactly the frames a test asks for (valid or hostile) and
/// reads the server's frames back, each read bounded by a timeout so a test never hangs.
/// </summary>
internal sealed class Http2TestClient : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly HpackDecoder _decoder = new();

    private Http2TestClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public sealed record Frame(Http2FrameType Type, byte Flags, int StreamId, byte[] Payload)
    {
        public Http2ErrorCode ErrorCode => (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(Payload.AsSpan(Type == Http2FrameType.GoAway ? 4 : 0));
    }

    public sealed record Response(IReadOnlyList<(string Name, string Value)> Headers, byte[] Data, IReadOnlyList<(string Name, string Value)> Trailers, Http2ErrorCode? Reset)
    {
        public string? Header(string name) => Headers.Concat(Trailers).Where(h => h.Name == name).Select(h => h.Value).FirstOrDefault();
    }

    /// <summary>Connects and, unless told otherwise, sends the preface and an empty SETTINGS.</summary>
    public static async Task<Http2TestClient> ConnectAsync(IPEndPoint endpoint, bool handshake = true)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint, TestContext.Current.CancellationToken);
        var client = new Http2TestClient(tcp);
        if (handshake)
        {
            await client.WriteAsync(Http2Wire.Preface.ToArray());
            await client.SendAsync(Http2FrameType.Settings, 0, 0, []);
        }

        return client;
    }

    /// <summary>Writes; once the server has closed the connection (it refused a flood), later writes are dropped so the test can read its answer.</summary>
    public async Task WriteAsync(byte[] bytes)
    {
        if (PeerClosed)
        {
            return;
        }

        try
        {
            await _stream.WriteAsync(bytes, TestContext.Current.CancellationToken);
        }
        catch (IOException)
        {
            PeerClosed = true;
        }
    }

    /// <summary>A write failed because the server closed the connection.</summary>
    public bool PeerClosed { get; private set; }

    public Task SendAsync(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload) => WriteAsync(Http2Wire.Frame(type, flags, streamId, payload));

    /// <summary>A request header block (literals, no indexing) for a POST to <paramref name="path"/>.</summary>
    public static byte[] RequestBlock(string path, string contentType = "application/grpc", IEnumerable<(string, string)>? extra = null)
    {
        var block = new List<byte>();
        HpackEncoder.WriteIndexed(block, 3);  // :method POST
        HpackEncoder.WriteIndexed(block, 6);  // :scheme http
        HpackEncoder.WriteLiteral(block, 4, path);
        HpackEncoder.WriteLiteral(block, 1, "127.0.0.1");
        HpackEncoder.WriteLiteral(block, "content-type", contentType);
        HpackEncoder.WriteLiteral(block, "te", "trailers");
        foreach (var (name, value) in extra ?? [])
        {
            HpackEncoder.WriteLiteral(block, name, value);
        }

        return [.. block];
    }

    /// <summary>HEADERS (END_HEADERS) then the body in DATA frames of at most 16 KiB, the last with END_STREAM.</summary>
    public async Task SendRequestAsync(int streamId, byte[] headerBlock, byte[] body)
    {
        await SendAsync(Http2FrameType.Headers, (byte)(Http2Wire.FlagEndHeaders | (body.Length == 0 ? Http2Wire.FlagEndStream : 0)), streamId, headerBlock);
        for (var offset = 0; offset < body.Length; offset += Http2Wire.DefaultMaxFrameSize)
        {
            var length = Math.Min(Http2Wire.DefaultMaxFrameSize, body.Length - offset);
            var last = offset + length == body.Length;
            await SendAsync(Http2FrameType.Data, last ? Http2Wire.FlagEndStream : (byte)0, streamId, body.AsSpan(offset, length));
        }
    }

    /// <summary>The next frame, or null when the server closed the connection.</summary>
    public async Task<Frame?> ReadFrameAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(ReadTimeout);
        var header = new byte[Http2Wire.FrameHeaderLength];
        try
        {
            await _stream.ReadExactlyAsync(header, timeout.Token);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var payload = new byte[length];
            await _stream.ReadExactlyAsync(payload, timeout.Token);
            return new Frame((Http2FrameType)header[3], header[4], BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue, payload);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return null;
        }
    }

    /// <summary>Frames until one matches (bounded: at most 1000 frames); null when the connection closed first.</summary>
    public async Task<Frame?> ReadUntilAsync(Func<Frame, bool> match)
    {
        for (var i = 0; i < 1000; i++)
        {
            var frame = await ReadFrameAsync();
            if (frame is null || match(frame))
            {
                return frame;
            }
        }

        throw new InvalidOperationException("no matching frame in 1000");
    }

    public Task<Frame?> ReadGoAwayAsync() => ReadUntilAsync(f => f.Type == Http2FrameType.GoAway);

    /// <summary>True when the server closes the connection (after whatever frames it sent).</summary>
    public async Task<bool> ClosedAsync()
    {
        for (var i = 0; i < 1000; i++)
        {
            if (await ReadFrameAsync() is null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads one stream's answer: headers, data, trailers, or its RST_STREAM.</summary>
    public async Task<Response> ReadResponseAsync(int streamId)
    {
        var headers = new List<(string, string)>();
        var trailers = new List<(string, string)>();
        var data = new List<byte>();
        var seenHeaders = false;
        while (true)
        {
            var frame = await ReadFrameAsync() ?? throw new InvalidOperationException("the connection closed before the response ended");
            if (frame.StreamId != streamId)
            {
                if (frame.Type == Http2FrameType.GoAway)
                {
                    throw new InvalidOperationException($"GOAWAY {frame.ErrorCode} before the response ended");
                }

                continue;
            }

            switch (frame.Type)
            {
                case Http2FrameType.Headers:
                    (seenHeaders ? trailers : headers).AddRange(_decoder.Decode(frame.Payload, 64 * 1024).Fields);
                    seenHeaders = true;
                    break;
                case Http2FrameType.Data:
                    data.AddRange(frame.Payload);
                    break;
                case Http2FrameType.RstStream:
                    return new Response(headers, [.. data], trailers, frame.ErrorCode);
            }

            if ((frame.Flags & Http2Wire.FlagEndStream) != 0 && frame.Type is Http2FrameType.Headers or Http2FrameType.Data)
            {
                return new Response(headers, [.. data], trailers, null);
            }
        }
    }

    /// <summary>A gRPC length-prefixed message (not compressed).</summary>
    public static byte[] GrpcMessage(byte[] message, bool compressed = false)
    {
        var framed = new byte[5 + message.Length];
        framed[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed, 5);
        return framed;
    }

    public static byte[] WindowUpdate(uint increment)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, increment);
        return payload;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
