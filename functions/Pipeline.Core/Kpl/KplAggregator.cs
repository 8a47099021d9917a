using Pipeline.Core.Wire;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Core.Kpl;

/// <summary>
/// Packs user records into one KPL aggregated record (magic + protobuf + MD5), written by hand so
/// that no protobuf runtime is needed. Add records until <see cref="TryAdd"/> says the next one
/// would not fit, then <see cref="Build"/> and <see cref="Reset"/>. Not thread-safe.
/// </summary>
public sealed class KplAggregator
{
    private readonly int _maxRecordBytes;
    private readonly List<string> _partitionKeys = [];
    private readonly Dictionary<string, int> _partitionKeyIndex = new(StringComparer.Ordinal);
    private readonly List<string> _explicitHashKeys = [];
    private readonly Dictionary<string, int> _explicitHashKeyIndex = new(StringComparer.Ordinal);
    private readonly List<(int PartitionKeyIndex, int ExplicitHashKeyIndex, ReadOnlyMemory<byte> Data)> _records = [];
    private int _protobufBytes;

    /// <param name="maxRecordBytes">Cap on the aggregated record plus its partition key (Kinesis: 1 MiB).</param>
    public KplAggregator(int maxRecordBytes = KplFormat.MaxKinesisRecordBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecordBytes, 64);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRecordBytes, KplFormat.MaxKinesisRecordBytes);
        _maxRecordBytes = maxRecordBytes;
    }

    public int Count => _records.Count;

    /// <summary>The partition key to put the aggregated record under: the first user record's.</summary>
    public string? PartitionKey => _partitionKeys.Count > 0 ? _partitionKeys[0] : null;

    /// <summary>Size of <see cref="Build"/>'s output.</summary>
    public int SizeBytes => KplFormat.MagicLength + _protobufBytes + KplFormat.ChecksumLength;

    /// <summary>
    /// Adds a record unless that would push the aggregated record over the cap. An empty
    /// aggregator always takes one record that fits the cap on its own; a record too large even
    /// alone is refused (the caller sends it unaggregated or drops it).
    /// </summary>
    public bool TryAdd(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(partitionKey);
        var added = 0;
        var newPartitionKey = !_partitionKeyIndex.TryGetValue(partitionKey, out var pkIndex);
        if (newPartitionKey)
        {
            pkIndex = _partitionKeys.Count;
            added += StringFieldLength(partitionKey);
        }

        var ehkIndex = -1;
        var newHashKey = false;
        if (explicitHashKey is not null)
        {
            newHashKey = !_explicitHashKeyIndex.TryGetValue(explicitHashKey, out ehkIndex);
            if (newHashKey)
            {
                ehkIndex = _explicitHashKeys.Count;
                added += StringFieldLength(explicitHashKey);
            }
        }

        var inner = InnerRecordLength(pkIndex, ehkIndex, data.Length);
        added += 1 + Protobuf.VarintLength((ulong)inner) + inner;
        var outerKeyBytes = Encoding.UTF8.GetByteCount(PartitionKey ?? partitionKey);
        if (SizeBytes + added + outerKeyBytes > _maxRecordBytes)
        {
            return false;
        }

        if (newPartitionKey)
        {
            _partitionKeyIndex.Add(partitionKey, pkIndex);
            _partitionKeys.Add(partitionKey);
        }

        if (newHashKey)
        {
            _explicitHashKeyIndex.Add(explicitHashKey!, ehkIndex);
            _explicitHashKeys.Add(explicitHashKey!);
        }

        _records.Add((pkIndex, ehkIndex, data));
        _protobufBytes += added;
        return true;
    }

    /// <summary>Writes the aggregated record: magic, protobuf, MD5 of the protobuf.</summary>
    public byte[] Build()
    {
        if (_records.Count == 0)
        {
            throw new InvalidOperationException("nothing to aggregate");
        }

        var output = new byte[SizeBytes];
        KplFormat.Magic.CopyTo(output);
        var span = output.AsSpan(KplFormat.MagicLength, _protobufBytes);
        var position = 0;
        foreach (var key in _partitionKeys)
        {
            position += WriteStringField(span[position..], KplFormat.FieldPartitionKeyTable, key);
        }

        foreach (var key in _explicitHashKeys)
        {
            position += WriteStringField(span[position..], KplFormat.FieldExplicitHashKeyTable, key);
        }

        foreach (var (pkIndex, ehkIndex, data) in _records)
        {
            span[position++] = (byte)Protobuf.Tag(KplFormat.FieldRecords, Protobuf.WireLengthDelimited);
            position += Protobuf.WriteVarint(span[position..], (ulong)InnerRecordLength(pkIndex, ehkIndex, data.Length));
            span[position++] = (byte)Protobuf.Tag(KplFormat.FieldPartitionKeyIndex, Protobuf.WireVarint);
            position += Protobuf.WriteVarint(span[position..], (ulong)pkIndex);
            if (ehkIndex >= 0)
            {
                span[position++] = (byte)Protobuf.Tag(KplFormat.FieldExplicitHashKeyIndex, Protobuf.WireVarint);
                position += Protobuf.WriteVarint(span[position..], (ulong)ehkIndex);
            }

            span[position++] = (byte)Protobuf.Tag(KplFormat.FieldData, Protobuf.WireLengthDelimited);
            position += Protobuf.WriteVarint(span[position..], (ulong)data.Length);
            data.Span.CopyTo(span[position..]);
            position += data.Length;
        }

        if (position != _protobufBytes)
        {
            throw new InvalidOperationException("aggregated record size bookkeeping is off");
        }

#pragma warning disable CA5351 // The KPL format fixes MD5 as an integrity checksum; nothing here is security.
        MD5.HashData(span, output.AsSpan(KplFormat.MagicLength + _protobufBytes));
#pragma warning restore CA5351
        return output;
    }

    public void Reset()
    {
        _partitionKeys.Clear();
        _partitionKeyIndex.Clear();
        _explicitHashKeys.Clear();
        _explicitHashKeyIndex.Clear();
        _records.Clear();
        _protobufBytes = 0;
    }

    private static int InnerRecordLength(int pkIndex, int ehkIndex, int dataLength)
    {
        var length = 1 + Protobuf.VarintLength((ulong)pkIndex);
        if (ehkIndex >= 0)
        {
            length += 1 + Protobuf.VarintLength((ulong)ehkIndex);
        }

        return length + 1 + Protobuf.VarintLength((ulong)dataLength) + dataLength;
    }

    private static int StringFieldLength(string value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        return 1 + Protobuf.VarintLength((ulong)bytes) + bytes;
    }

    private static int WriteStringField(Span<byte> destination, int field, string value)
    {
        destination[0] = (byte)Protobuf.Tag(field, Protobuf.WireLengthDelimited);
        var bytes = Encoding.UTF8.GetByteCount(value);
        var position = 1 + Protobuf.WriteVarint(destination[1..], (ulong)bytes);
        return position + Encoding.UTF8.GetBytes(value, destination[position..]);
    }
}
