namespace Pipeline.Core.Kpl;

/// <summary>
/// Facts of the Kinesis Producer Library aggregated record format. Source: the KPL's
/// aggregation-format.md (amazon-kinesis-producer) and the KCL's de-aggregation: a record is
/// the 4-byte magic, a protobuf <c>AggregatedRecord</c>, then the 16-byte MD5 of that protobuf.
/// <code>
/// message AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2; repeated Record records = 3; }
/// message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2; required bytes data = 3; repeated Tag tags = 4; }
/// message Tag { required string key = 1; optional string value = 2; }
/// </code>
/// </summary>
public static class KplFormat
{
    public static ReadOnlySpan<byte> Magic => [0xF3, 0x89, 0x9A, 0xC2];

    public const int MagicLength = 4;

    /// <summary>MD5 digest length.</summary>
    public const int ChecksumLength = 16;

    /// <summary>Kinesis caps a record (data plus partition key) at 1 MiB. Source: PutRecords API reference.</summary>
    public const int MaxKinesisRecordBytes = 1024 * 1024;

    // Protobuf wire types (protobuf encoding guide).
    internal const int WireVarint = 0;
    internal const int WireFixed64 = 1;
    internal const int WireLengthDelimited = 2;
    internal const int WireFixed32 = 5;

    // AggregatedRecord field numbers.
    internal const int FieldPartitionKeyTable = 1;
    internal const int FieldExplicitHashKeyTable = 2;
    internal const int FieldRecords = 3;

    // Record field numbers.
    internal const int FieldPartitionKeyIndex = 1;
    internal const int FieldExplicitHashKeyIndex = 2;
    internal const int FieldData = 3;

    internal static byte Tag(int field, int wireType) => (byte)((field << 3) | wireType);

    internal static int VarintLength(ulong value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    internal static int WriteVarint(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads a varint; false when it runs past the end or past 10 bytes.</summary>
    internal static bool TryReadVarint(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= source.Length)
            {
                return false;
            }

            var b = source[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
