using System.Buffers;
using System.Text.Json;
using Pipeline.Aws.Kinesis;
using Pipeline.LocalAws.Moto;

namespace Pipeline.LocalAws.Esm;

/// <summary>
/// The one Kinesis event writer (local mode's mapping, the proof tests, and the handler tests'
/// <c>KinesisEventBuilder</c>): the event a Kinesis event-source mapping sends to a function, byte
/// for byte the shape of the documented example (AWS Lambda developer guide, "Using Lambda with
/// Kinesis Data Streams", example event). Written with Utf8JsonWriter rather than through the
/// functions' own event model, so that every test of that model checks it against the wire shape.
/// </summary>
public static class KinesisEventWriter
{
    public const string EventSource = "aws:kinesis";
    public const string EventVersion = "1.0";
    public const string EventName = "aws:kinesis:record";
    public const string SchemaVersion = "1.0";

    /// <summary>The role ARN Lambda reports as the invoking identity (the function's execution role locally).</summary>
    public static readonly string InvokeIdentityArn = $"arn:aws:iam::{MotoServer.AccountId}:role/xray-pipeline-ingest-local";

    /// <summary>Bytes a record adds to the event besides its base64 data (keys, ids, ARNs): an upper bound for batching.</summary>
    public const int RecordOverheadBytes = 600;

    /// <summary>The event for one batch of one shard, as the mapping delivers it.</summary>
    public static byte[] Write(string streamArn, string shardId, string region, IReadOnlyList<KinesisRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return Write(records.Select(r => new KinesisEventEntry(streamArn, shardId, region, r)).ToList());
    }

    /// <summary>
    /// The event for records that each name their stream, shard and region (test events may mix
    /// shards; the mapping never does).
    /// </summary>
    public static byte[] Write(IReadOnlyList<KinesisEventEntry> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var buffer = new ArrayBufferWriter<byte>(1024 + records.Count * 512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("Records"u8);
            foreach (var (streamArn, shardId, region, record) in records)
            {
                json.WriteStartObject();
                json.WriteStartObject("kinesis"u8);
                json.WriteString("kinesisSchemaVersion"u8, SchemaVersion);
                json.WriteString("partitionKey"u8, record.PartitionKey);
                json.WriteString("sequenceNumber"u8, record.SequenceNumber);
                json.WriteBase64String("data"u8, record.Data.Span);
                // Epoch seconds with milliseconds as a fraction, e.g. 1545084650.987.
                json.WriteNumber("approximateArrivalTimestamp"u8, record.ApproximateArrivalTimestamp.ToUnixTimeMilliseconds() / 1000m);
                json.WriteEndObject();
                json.WriteString("eventSource"u8, EventSource);
                json.WriteString("eventVersion"u8, EventVersion);
                json.WriteString("eventID"u8, $"{shardId}:{record.SequenceNumber}");
                json.WriteString("eventName"u8, EventName);
                json.WriteString("invokeIdentityArn"u8, InvokeIdentityArn);
                json.WriteString("awsRegion"u8, region);
                json.WriteString("eventSourceARN"u8, streamArn);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The size the record adds to an event, an upper bound (base64 is 4/3 of the data).</summary>
    public static long EstimatedSize(KinesisRecord record) => ((record.Data.Length + 2) / 3 * 4) + RecordOverheadBytes;
}

/// <summary>One record of an event with where it came from.</summary>
public sealed record KinesisEventEntry(string StreamArn, string ShardId, string Region, KinesisRecord Record);
