using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

/// <summary>What the loopback Kinesis sink injects: per-answer latency and a share of failed records.</summary>
internal sealed record SinkFaults
{
    /// <summary>Delay before each PutRecords answer (0 = answer at once).</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Every Nth record of the run answers ProvisionedThroughputExceededException (0 = none).</summary>
    public int FailEvery { get; init; }

    /// <summary>Every Nth PutRecords call is refused whole with HTTP 400 ProvisionedThroughputExceededException (0 = none).</summary>
    public int ThrottleCallEvery { get; init; }
}

/// <summary>
/// A fast, bounded, loopback Kinesis-compatible HTTP/1.1 endpoint for the relay benchmark: the real
/// signed client talks to it like to Kinesis (JSON 1.1, X-Amz-Target, keep-alive, one answer per
/// record in order), and it only counts. Records are counted by their "PartitionKey" members with a
/// vectorised byte search instead of a JSON parse, so the sink costs little next to the relay it
/// measures. Bounded: at most <see cref="MaxConnections"/> connections, <see cref="MaxBodyBytes"/>
/// per request, <see cref="MaxHeaderBytes"/> of headers; anything else closes the connection.
/// </summary>
internal sealed class KinesisSink : IAsyncDisposable
{
    public const int MaxConnections = 64;
    public const int MaxHeaderBytes = 16 * 1024;

    /// <summary>PutRecords takes at most 5 MiB of data; base64 and JSON add a third and some.</summary>
    public const int MaxBodyBytes = 8 * 1024 * 1024;

    private static readonly byte[] PartitionKey = "\"PartitionKey\""u8.ToArray();
    private static readonly byte[] OkEntry = "{\"SequenceNumber\":\"49590338271490256608559692538361571095921575989136588898\",\"ShardId\":\"shardId-000000000000\"}"u8.ToArray();
    private static readonly byte[] FailedEntry = "{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":\"Rate exceeded for shard shardId-000000000000 (bench sink)\"}"u8.ToArray();
    private static readonly byte[] ListShards = """{"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}"""u8.ToArray();
    private static readonly byte[] Throttled = """{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded (bench sink)"}"""u8.ToArray();

    private readonly Socket _listener;
    private readonly SinkFaults _faults;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly List<Task> _connections = [];
    private long _records;
    private long _failedRecords;
    private long _calls;
    private long _throttledCalls;
    private long _unsigned;
    private long _recordOrdinal;
    private int _open;
    private int _maxConcurrent;
    private int _inFlight;

    public KinesisSink(SinkFaults? faults = null)
    {
        _faults = faults ?? new SinkFaults();
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(128);
        _accept = AcceptAsync();
    }

    public Uri Endpoint => new($"http://{_listener.LocalEndPoint}/");

    /// <summary>Records answered as written.</summary>
    public long Records => Interlocked.Read(ref _records);

    public long FailedRecords => Interlocked.Read(ref _failedRecords);

    public long Calls => Interlocked.Read(ref _calls);

    public long ThrottledCalls => Interlocked.Read(ref _throttledCalls);

    /// <summary>Requests without a SigV4 Authorization header (should stay 0: the real client signs).</summary>
    public long Unsigned => Interlocked.Read(ref _unsigned);

    /// <summary>Most PutRecords calls seen being handled at once.</summary>
    public int MaxConcurrentCalls => Volatile.Read(ref _maxConcurrent);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accept.ConfigureAwait(false);
        Task[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (Interlocked.Increment(ref _open) > MaxConnections)
            {
                Interlocked.Decrement(ref _open);
                client.Dispose();
                continue;
            }

            client.NoDelay = true;
            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var output = new ArrayBufferWriter<byte>(64 * 1024);
        try
        {
            var filled = 0;
            while (!_stop.IsCancellationRequested)
            {
                // Headers.
                int headerEnd;
                while ((headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    if (filled >= MaxHeaderBytes)
                    {
                        return;
                    }

                    var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    filled += read;
                }

                var head = buffer.AsSpan(0, headerEnd);
                var length = HeaderValue(head, "content-length"u8) is { Length: > 0 } cl && Utf8Parser.TryParse(cl, out int parsed, out _) ? parsed : 0;
                if (length is < 0 or > MaxBodyBytes)
                {
                    return;
                }

                var target = Encoding.ASCII.GetString(HeaderValue(head, "x-amz-target"u8));
                if (HeaderValue(head, "authorization"u8).IndexOf("AWS4-HMAC-SHA256"u8) < 0)
                {
                    Interlocked.Increment(ref _unsigned);
                }

                // Body.
                var bodyStart = headerEnd + 4;
                var total = bodyStart + length;
                if (total > buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(total);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                while (filled < total)
                {
                    var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    filled += read;
                }

                output.ResetWrittenCount();
                var status = await AnswerAsync(target, buffer.AsMemory(bodyStart, length), output).ConfigureAwait(false);
                var headers = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: bench\r\nContent-Length: {output.WrittenCount}\r\n\r\n");
                await socket.SendAsync(headers, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                await socket.SendAsync(output.WrittenMemory, SocketFlags.None, _stop.Token).ConfigureAwait(false);

                // Keep what already arrived of the next request.
                buffer.AsSpan(total, filled - total).CopyTo(buffer);
                filled -= total;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The client closed the connection or the sink stopped.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            socket.Dispose();
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task<string> AnswerAsync(string target, ReadOnlyMemory<byte> body, ArrayBufferWriter<byte> output)
    {
        switch (target)
        {
            case "Kinesis_20131202.PutRecords":
                var concurrent = Interlocked.Increment(ref _inFlight);
                try
                {
                    var seen = Volatile.Read(ref _maxConcurrent);
                    while (concurrent > seen && Interlocked.CompareExchange(ref _maxConcurrent, concurrent, seen) != seen)
                    {
                        seen = Volatile.Read(ref _maxConcurrent);
                    }

                    if (_faults.Latency > TimeSpan.Zero)
                    {
                        await Task.Delay(_faults.Latency).ConfigureAwait(false);
                    }

                    var call = Interlocked.Increment(ref _calls);
                    if (_faults.ThrottleCallEvery > 0 && call % _faults.ThrottleCallEvery == 0)
                    {
                        Interlocked.Increment(ref _throttledCalls);
                        output.Write(Throttled);
                        return "400 Bad Request";
                    }

                    PutRecords(body.Span, output);
                    return "200 OK";
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }

            case "Kinesis_20131202.ListShards":
                output.Write(ListShards);
                return "200 OK";
            default:
                output.Write("{}"u8);
                return "200 OK";
        }
    }

    private void PutRecords(ReadOnlySpan<byte> body, ArrayBufferWriter<byte> output)
    {
        var count = 0;
        var rest = body;
        int at;
        while ((at = rest.IndexOf(PartitionKey)) >= 0)
        {
            count++;
            rest = rest[(at + PartitionKey.Length)..];
        }

        var first = Interlocked.Add(ref _recordOrdinal, count) - count;
        var failed = 0;
        var entries = new ArrayBufferWriter<byte>(count * OkEntry.Length + 16);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                entries.Write(","u8);
            }

            if (_faults.FailEvery > 0 && (first + i + 1) % _faults.FailEvery == 0)
            {
                failed++;
                entries.Write(FailedEntry);
            }
            else
            {
                entries.Write(OkEntry);
            }
        }

        Interlocked.Add(ref _records, count - failed);
        Interlocked.Add(ref _failedRecords, failed);
        output.Write(Encoding.ASCII.GetBytes($"{{\"FailedRecordCount\":{failed},\"Records\":["));
        output.Write(entries.WrittenSpan);
        output.Write("]}"u8);
    }

    /// <summary>The value of a header (case-insensitive name), trimmed; empty when absent.</summary>
    private static ReadOnlySpan<byte> HeaderValue(ReadOnlySpan<byte> head, ReadOnlySpan<byte> name)
    {
        foreach (var range in head.Split("\r\n"u8))
        {
            var line = head[range];
            var colon = line.IndexOf((byte)':');
            if (colon == name.Length && Ascii.EqualsIgnoreCase(line[..colon], name))
            {
                return line[(colon + 1)..].Trim((byte)' ');
            }
        }

        return [];
    }
}
