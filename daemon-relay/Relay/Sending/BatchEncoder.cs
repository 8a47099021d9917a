using Pipeline.Core.Kpl;
using Relay.Buffering;

namespace Relay.Sending;

/// <summary>Turns buffered segments into PutRecords-sized lists of entries.</summary>
public interface IBatchEncoder
{
    /// <summary>Raw segment bytes the collector may gather into one batch.</summary>
    long MaxBatchBytes { get; }

    /// <summary>Segments the collector may gather into one batch.</summary>
    int MaxBatchRecords { get; }

    /// <summary>One or more chunks, each within PutRecords' 500 records and 5 MiB.</summary>
    IReadOnlyList<IReadOnlyList<BatchEntry>> Encode(IReadOnlyList<SegmentRecord> records);
}

/// <summary>One Kinesis record per segment, keyed by its trace id.</summary>
public sealed class PlainEncoder : IBatchEncoder
{
    public long MaxBatchBytes => PutRecordsLimits.MaxBytes;

    public int MaxBatchRecords => PutRecordsLimits.MaxRecords;

    public IReadOnlyList<IReadOnlyList<BatchEntry>> Encode(IReadOnlyList<SegmentRecord> records)
    {
        var entries = new BatchEntry[records.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var record = records[i];
            entries[i] = new BatchEntry(record.PartitionKey, null, record.Data, 1);
        }

        return [entries];
    }
}

/// <summary>
/// KPL aggregation: segments bound for the same shard are packed into aggregated records of up to
/// <see cref="MaxAggregatedBytes"/>, each keyed by its first segment's trace id (so it lands on that
/// shard, and every segment of a trace stays on one shard). Without a shard map, segments are
/// grouped by trace id instead, which is correct but packs less.
/// </summary>
public sealed class AggregatingEncoder(Func<ShardMap?> shardMap) : IBatchEncoder
{
    /// <summary>
    /// Per aggregated record: the KPL's default AggregationMaxSize (51,200 bytes), well under the
    /// 1 MiB record cap and under the 85,000-byte large-object-heap threshold, so the packed
    /// records are cheap gen0 garbage rather than LOH churn.
    /// </summary>
    public const int MaxAggregatedBytes = 51_200;

    /// <summary>
    /// Raw bytes per batch. One call could carry 5 MiB, but every byte is copied several times on
    /// its way out (base64, JSON, signing); 1 MiB keeps each request and its copies small (measured:
    /// 4 MiB batches took the relay's RSS past 300 MB under a blast) while a call still carries
    /// three times the segments of a plain one.
    /// </summary>
    public long MaxBatchBytes => 1024 * 1024;

    public int MaxBatchRecords => 10_000;

    public IReadOnlyList<IReadOnlyList<BatchEntry>> Encode(IReadOnlyList<SegmentRecord> records)
    {
        var map = shardMap();
        var groups = new Dictionary<int, List<SegmentRecord>>();
        var keyGroups = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            int group;
            if (map is not null && map.ShardOf(record.PartitionKey) is var shard && shard >= 0)
            {
                group = shard;
            }
            else if (!keyGroups.TryGetValue(record.PartitionKey, out group))
            {
                group = -1 - keyGroups.Count;
                keyGroups.Add(record.PartitionKey, group);
            }

            if (!groups.TryGetValue(group, out var list))
            {
                groups.Add(group, list = []);
            }

            list.Add(record);
        }

        var entries = new List<BatchEntry>();
        var aggregator = new KplAggregator(MaxAggregatedBytes);
        foreach (var list in groups.Values)
        {
            foreach (var record in list)
            {
                if (!aggregator.TryAdd(record.PartitionKey, null, record.Data))
                {
                    Emit(aggregator, entries);
                    aggregator.TryAdd(record.PartitionKey, null, record.Data);
                }
            }

            Emit(aggregator, entries);
        }

        return Chunk(entries);
    }

    private static void Emit(KplAggregator aggregator, List<BatchEntry> entries)
    {
        if (aggregator.Count > 0)
        {
            entries.Add(new BatchEntry(aggregator.PartitionKey!, null, aggregator.Build(), aggregator.Count));
            aggregator.Reset();
        }
    }

    private static List<IReadOnlyList<BatchEntry>> Chunk(List<BatchEntry> entries)
    {
        var chunks = new List<IReadOnlyList<BatchEntry>>();
        var current = new List<BatchEntry>();
        long bytes = 0;
        foreach (var entry in entries)
        {
            if (current.Count == PutRecordsLimits.MaxRecords || bytes + entry.PutSize > PutRecordsLimits.MaxBytes)
            {
                chunks.Add(current);
                current = [];
                bytes = 0;
            }

            current.Add(entry);
            bytes += entry.PutSize;
        }

        if (current.Count > 0)
        {
            chunks.Add(current);
        }

        return chunks;
    }
}
