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

    // AggregatedRecord field numbers.
    internal const int FieldPartitionKeyTable = 1;
    internal const int FieldExplicitHashKeyTable = 2;
    internal const int FieldRecords = 3;

    // Record field numbers.
    internal const int FieldPartitionKeyIndex = 1;
    internal const int FieldExplicitHashKeyIndex = 2;
    internal const int FieldData = 3;
}
