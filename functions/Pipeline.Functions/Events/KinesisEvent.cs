using Pipeline.Runtime.Serialization;
using System.Text.Json.Serialization;

namespace Pipeline.Functions.Events;

/// <summary>
/// The event a Kinesis event-source mapping sends to a function.
/// Source: AWS Lambda developer guide, "Using Lambda with Kinesis Data Streams" (example event).
/// </summary>
public sealed record KinesisEvent
{
    [JsonPropertyName("Records")]
    public required IReadOnlyList<KinesisEventRecord> Records { get; init; }
}

public sealed record KinesisEventRecord
{
    /// <summary><c>shardId-000000000000:&lt;sequence number&gt;</c>.</summary>
    [JsonPropertyName("eventID")]
    public required string EventId { get; init; }

    [JsonPropertyName("eventSourceARN")]
    public required string EventSourceArn { get; init; }

    [JsonPropertyName("kinesis")]
    public required KinesisRecordData Kinesis { get; init; }

    /// <summary><c>aws:kinesis</c>.</summary>
    [JsonPropertyName("eventSource")]
    public string? EventSource { get; init; }

    /// <summary><c>1.0</c>.</summary>
    [JsonPropertyName("eventVersion")]
    public string? EventVersion { get; init; }

    /// <summary><c>aws:kinesis:record</c>.</summary>
    [JsonPropertyName("eventName")]
    public string? EventName { get; init; }

    [JsonPropertyName("invokeIdentityArn")]
    public string? InvokeIdentityArn { get; init; }

    [JsonPropertyName("awsRegion")]
    public string? AwsRegion { get; init; }

    /// <summary>The shard part of <see cref="EventId"/>, e.g. <c>shardId-000000000000</c>.</summary>
    [JsonIgnore]
    public string ShardId
    {
        get
        {
            var colon = EventId.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 ? EventId[..colon] : EventId;
        }
    }
}

public sealed record KinesisRecordData
{
    /// <summary>The record payload; base64 on the wire.</summary>
    [JsonPropertyName("data")]
    public required ReadOnlyMemory<byte> Data { get; init; }

    [JsonPropertyName("partitionKey")]
    public required string PartitionKey { get; init; }

    /// <summary>A decimal string of up to 128 digits; compare with <see cref="KinesisSequenceNumber"/>.</summary>
    [JsonPropertyName("sequenceNumber")]
    public required string SequenceNumber { get; init; }

    /// <summary>When Kinesis accepted the record; epoch seconds with a fraction on the wire.</summary>
    [JsonPropertyName("approximateArrivalTimestamp")]
    [JsonConverter(typeof(EpochSecondsConverter))]
    public required DateTimeOffset ApproximateArrivalTimestamp { get; init; }

    /// <summary><c>1.0</c>.</summary>
    [JsonPropertyName("kinesisSchemaVersion")]
    public string? KinesisSchemaVersion { get; init; }
}

/// <summary>
/// The ReportBatchItemFailures response. Lambda retries from the lowest listed sequence number;
/// an empty list means the whole batch succeeded.
/// Source: AWS Lambda developer guide, "Reporting batch item failures for Kinesis".
/// </summary>
public sealed record KinesisBatchResponse
{
    public static KinesisBatchResponse Success { get; } = new() { BatchItemFailures = [] };

    [JsonPropertyName("batchItemFailures")]
    public required IReadOnlyList<BatchItemFailure> BatchItemFailures { get; init; }

    /// <summary>A response that makes Lambda retry from <paramref name="sequenceNumber"/>.</summary>
    public static KinesisBatchResponse RetryFrom(string sequenceNumber) =>
        new() { BatchItemFailures = [new BatchItemFailure(sequenceNumber)] };
}

/// <param name="ItemIdentifier">The sequence number of a record that failed.</param>
public sealed record BatchItemFailure([property: JsonPropertyName("itemIdentifier")] string ItemIdentifier);

/// <summary>Orders Kinesis sequence numbers (decimal strings without leading zeros).</summary>
public static class KinesisSequenceNumber
{
    public static int Compare(string left, string right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        var byLength = left.Length.CompareTo(right.Length);
        return byLength != 0 ? byLength : string.CompareOrdinal(left, right);
    }
}
