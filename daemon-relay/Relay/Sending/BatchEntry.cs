using Pipeline.Aws.Kinesis;

namespace Relay.Sending;

/// <summary>
/// One Kinesis record to put: a segment, or (with --aggregate) a KPL record holding
/// <paramref name="Segments"/> of them. The same shape is written to and read from the spool.
/// </summary>
public sealed record BatchEntry(string PartitionKey, string? ExplicitHashKey, ReadOnlyMemory<byte> Data, int Segments)
{
    /// <summary>What PutRecords counts against its 5 MiB: data plus partition key. Source: PutRecords API reference.</summary>
    public int PutSize => Data.Length + PartitionKey.Length;

    public PutRecordsEntry ToPutRecordsEntry() => new(Data, PartitionKey, ExplicitHashKey);
}

/// <summary>PutRecords limits. Source: Kinesis PutRecords API reference.</summary>
public static class PutRecordsLimits
{
    public const int MaxRecords = 500;
    public const int MaxBytes = 5 * 1024 * 1024;
}
