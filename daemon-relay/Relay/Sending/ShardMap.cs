using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Aws.Kinesis;

namespace Relay.Sending;

/// <summary>
/// Which open shard a partition key lands on: Kinesis hashes the key with MD5 into a 128-bit
/// integer and picks the shard whose hash key range holds it (Kinesis developer guide, "Partition
/// key"). Used to aggregate only records that share a shard, as the KPL does.
/// </summary>
public sealed class ShardMap
{
    private readonly UInt128[] _starts;
    private readonly UInt128[] _ends;

    private ShardMap(UInt128[] starts, UInt128[] ends)
    {
        _starts = starts;
        _ends = ends;
    }

    public int Count => _starts.Length;

    /// <summary>Builds a map from ListShards; shards whose ranges cannot be parsed make the map unusable (null).</summary>
    public static ShardMap? FromShards(IReadOnlyList<Shard> shards)
    {
        var ranges = new List<(UInt128 Start, UInt128 End)>(shards.Count);
        foreach (var shard in shards)
        {
            if (!UInt128.TryParse(shard.StartingHashKey, NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                || !UInt128.TryParse(shard.EndingHashKey, NumberStyles.None, CultureInfo.InvariantCulture, out var end))
            {
                return null;
            }

            ranges.Add((start, end));
        }

        if (ranges.Count == 0)
        {
            return null;
        }

        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        return new ShardMap([.. ranges.Select(r => r.Start)], [.. ranges.Select(r => r.End)]);
    }

    /// <summary>The index of the shard for a key, or -1 when no listed range holds it.</summary>
    public int ShardOf(string partitionKey)
    {
        var hash = HashKey(partitionKey);
        var index = Array.BinarySearch(_starts, hash);
        if (index < 0)
        {
            index = ~index - 1;
        }

        return index >= 0 && hash <= _ends[index] ? index : -1;
    }

    /// <summary>MD5 of the UTF-8 key read as a big-endian unsigned 128-bit integer.</summary>
    public static UInt128 HashKey(string partitionKey)
    {
        Span<byte> digest = stackalloc byte[16];
        Span<byte> key = stackalloc byte[Encoding.UTF8.GetMaxByteCount(partitionKey.Length)];
        var length = Encoding.UTF8.GetBytes(partitionKey, key);
#pragma warning disable CA5351 // Kinesis itself maps keys to shards with MD5; this mirrors it, nothing is secured.
        MD5.HashData(key[..length], digest);
#pragma warning restore CA5351
        return new UInt128(BitConverterBigEndian(digest[..8]), BitConverterBigEndian(digest[8..]));
    }

    private static ulong BitConverterBigEndian(ReadOnlySpan<byte> bytes) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
}
