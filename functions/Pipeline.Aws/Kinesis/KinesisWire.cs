using System.Text.Json.Serialization;

namespace Pipeline.Aws.Kinesis;

// Kinesis Data Streams JSON 1.1 shapes (API reference, version 2013-12-02): only the members we use.
// Property names are the wire names; byte[] members are base64 on the wire.

internal sealed record CreateStreamRequest(string StreamName, int ShardCount);

internal sealed record StreamNameRequest(string StreamName);

internal sealed record DescribeStreamSummaryResponse(StreamDescriptionSummaryWire? StreamDescriptionSummary);

internal sealed record StreamDescriptionSummaryWire(string? StreamName, string? StreamARN, string? StreamStatus, int OpenShardCount);

internal sealed record ListShardsRequest
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? StreamName { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? NextToken { get; init; }
}

internal sealed record ListShardsResponse(IReadOnlyList<ShardWire>? Shards, string? NextToken);

internal sealed record ShardWire(string ShardId, HashKeyRangeWire? HashKeyRange);

internal sealed record HashKeyRangeWire(string StartingHashKey, string EndingHashKey);

internal sealed record PutRecordsRequestWire(string StreamName, IReadOnlyList<PutRecordsRequestEntryWire> Records);

internal sealed record PutRecordsRequestEntryWire(
    ReadOnlyMemory<byte> Data,
    string PartitionKey,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ExplicitHashKey);

internal sealed record PutRecordsResponseWire(int FailedRecordCount, IReadOnlyList<PutRecordsResultEntryWire>? Records);

internal sealed record PutRecordsResultEntryWire(string? SequenceNumber, string? ShardId, string? ErrorCode, string? ErrorMessage);

internal sealed record GetShardIteratorRequest(
    string StreamName,
    string ShardId,
    string ShardIteratorType,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StartingSequenceNumber);

internal sealed record GetShardIteratorResponse(string? ShardIterator);

internal sealed record GetRecordsRequest(string ShardIterator, int Limit);

internal sealed record GetRecordsResponse(IReadOnlyList<RecordWire>? Records, string? NextShardIterator, long MillisBehindLatest);

/// <summary>ApproximateArrivalTimestamp is epoch seconds with a fraction.</summary>
internal sealed record RecordWire(string SequenceNumber, string PartitionKey, byte[] Data, double ApproximateArrivalTimestamp);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, MaxDepth = 16)]
[JsonSerializable(typeof(CreateStreamRequest))]
[JsonSerializable(typeof(StreamNameRequest))]
[JsonSerializable(typeof(DescribeStreamSummaryResponse))]
[JsonSerializable(typeof(ListShardsRequest))]
[JsonSerializable(typeof(ListShardsResponse))]
[JsonSerializable(typeof(PutRecordsRequestWire))]
[JsonSerializable(typeof(PutRecordsResponseWire))]
[JsonSerializable(typeof(GetShardIteratorRequest))]
[JsonSerializable(typeof(GetShardIteratorResponse))]
[JsonSerializable(typeof(GetRecordsRequest))]
[JsonSerializable(typeof(GetRecordsResponse))]
internal sealed partial class KinesisJsonContext : JsonSerializerContext;
