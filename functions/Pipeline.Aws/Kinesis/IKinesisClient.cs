namespace Pipeline.Aws.Kinesis;

/// <summary>
/// The Kinesis Data Streams calls the pipeline makes (JSON 1.1, target prefix Kinesis_20131202).
/// AWSSDK.Kinesis is not served here, so this is our own small client; the interface is shaped
/// so the official package could replace it.
/// </summary>
public interface IKinesisClient
{
    Task CreateStreamAsync(string streamName, int shardCount, CancellationToken cancellationToken = default);

    Task<StreamSummary> DescribeStreamSummaryAsync(string streamName, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Shard>> ListShardsAsync(string streamName, CancellationToken cancellationToken = default);

    /// <summary>
    /// One PutRecords call (≤ 500 records, ≤ 5 MiB). Partial failure is not an exception: the
    /// result has one entry per request record, in order, with an error code where it failed.
    /// </summary>
    Task<PutRecordsResult> PutRecordsAsync(string streamName, IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default);

    Task<string> GetShardIteratorAsync(string streamName, string shardId, ShardIteratorType type, string? startingSequenceNumber = null, CancellationToken cancellationToken = default);

    Task<GetRecordsResult> GetRecordsAsync(string shardIterator, int limit = 10_000, CancellationToken cancellationToken = default);
}

public sealed record StreamSummary(string StreamName, string StreamArn, string StreamStatus, int OpenShardCount);

public sealed record Shard(string ShardId, string StartingHashKey, string EndingHashKey);

/// <summary>A record to put. <paramref name="Data"/> is the raw payload (base64 is the client's job).</summary>
public sealed record PutRecordsEntry(ReadOnlyMemory<byte> Data, string PartitionKey, string? ExplicitHashKey = null);

public sealed record PutRecordsResult(int FailedRecordCount, IReadOnlyList<PutRecordsResultEntry> Records);

/// <summary>Either a sequence number and shard id, or an error code (e.g. ProvisionedThroughputExceededException).</summary>
public sealed record PutRecordsResultEntry(string? SequenceNumber, string? ShardId, string? ErrorCode, string? ErrorMessage)
{
    public bool Succeeded => ErrorCode is null;
}

public enum ShardIteratorType
{
    TrimHorizon,
    Latest,
    AtSequenceNumber,
    AfterSequenceNumber,
}

public sealed record KinesisRecord(string SequenceNumber, string PartitionKey, ReadOnlyMemory<byte> Data, DateTimeOffset ApproximateArrivalTimestamp);

public sealed record GetRecordsResult(IReadOnlyList<KinesisRecord> Records, string? NextShardIterator, long MillisBehindLatest);
