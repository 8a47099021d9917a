using System.Buffers;
using System.Threading.Channels;
using Relay.Telemetry;

namespace Relay.Buffering;

/// <summary>
/// One accepted segment: its document bytes in a pooled array, and its partition key. The array
/// belongs to the <see cref="RecordBuffer"/> until <see cref="RecordBuffer.Release"/> is called
/// once the record is sent, spooled or dropped.
/// </summary>
public readonly record struct SegmentRecord(byte[] Array, int Length, string PartitionKey)
{
    public ReadOnlyMemory<byte> Data => Array.AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => Array.AsSpan(0, Length);
}

/// <summary>
/// The bytes-bounded hand-off between the receive loop and the sender. Every record held in
/// memory (queued, in a batch being built, or in flight) counts against the cap until it is
/// released, so a slow or unreachable Kinesis fills the buffer and new segments are dropped and
/// counted instead of growing the heap. The queue itself is a single-reader/single-writer channel.
/// </summary>
public sealed class RecordBuffer
{
    /// <summary>Bookkeeping charged per record on top of its bytes, so tiny datagrams are bounded too.</summary>
    public const int PerRecordOverhead = 64;

    private readonly Channel<SegmentRecord> _channel = Channel.CreateUnbounded<SegmentRecord>(new UnboundedChannelOptions
    {
        SingleReader = true,
        // The UDP loop and the OTLP receivers' handlers write.
        SingleWriter = false,
        AllowSynchronousContinuations = false,
    });

    private readonly long _capacityBytes;
    private long _bytes;

    public RecordBuffer(long capacityBytes, RelayMetrics metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 1);
        ArgumentNullException.ThrowIfNull(metrics);
        _capacityBytes = capacityBytes;
        metrics.ObserveBufferBytes(() => Bytes);
    }

    public long CapacityBytes => _capacityBytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public ChannelReader<SegmentRecord> Reader => _channel.Reader;

    /// <summary>Copies the document into a pooled array and queues it; false when the cap would be exceeded.</summary>
    public bool TryAdd(ReadOnlySpan<byte> document, string partitionKey)
    {
        var cost = document.Length + PerRecordOverhead;
        var after = Interlocked.Add(ref _bytes, cost);
        if (after > _capacityBytes)
        {
            Interlocked.Add(ref _bytes, -cost);
            return false;
        }

        var array = ArrayPool<byte>.Shared.Rent(document.Length);
        document.CopyTo(array);
        if (!_channel.Writer.TryWrite(new SegmentRecord(array, document.Length, partitionKey)))
        {
            // Completed: the relay is stopping and no longer accepts.
            ArrayPool<byte>.Shared.Return(array);
            Interlocked.Add(ref _bytes, -cost);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Queues every record or none (an OTLP request is accepted whole or answered retryable): the
    /// bytes of all are reserved against the cap first.
    /// </summary>
    public bool TryAddAll(IReadOnlyList<(byte[] Data, string PartitionKey)> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        long cost = 0;
        foreach (var (data, _) in records)
        {
            cost += data.Length + PerRecordOverhead;
        }

        if (Interlocked.Add(ref _bytes, cost) > _capacityBytes)
        {
            Interlocked.Add(ref _bytes, -cost);
            return false;
        }

        for (var i = 0; i < records.Count; i++)
        {
            var (data, key) = records[i];
            var array = ArrayPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(array, 0);
            if (!_channel.Writer.TryWrite(new SegmentRecord(array, data.Length, key)))
            {
                // Completed while adding: give back what was not queued (the queued part drains as usual).
                ArrayPool<byte>.Shared.Return(array);
                for (var j = i; j < records.Count; j++)
                {
                    Interlocked.Add(ref _bytes, -(records[j].Data.Length + PerRecordOverhead));
                }

                return false;
            }
        }

        return true;
    }

    /// <summary>Gives the record's memory back; call exactly once per record taken from <see cref="Reader"/>.</summary>
    public void Release(in SegmentRecord record)
    {
        ArrayPool<byte>.Shared.Return(record.Array);
        Interlocked.Add(ref _bytes, -(record.Length + PerRecordOverhead));
    }

    /// <summary>No more records will be added (the receive loop stopped).</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
