using System.Globalization;
using System.Numerics;
using System.Text;
using Pipeline.Aws.Kinesis;
using Pipeline.LocalAws.Esm;

namespace Pipeline.Testing.Builders;

/// <summary>
/// Builds the Kinesis event-source event exactly as Lambda delivers it (JSON bytes), so handler
/// tests feed the same wire format as production. Written by the harness's one
/// <see cref="KinesisEventWriter"/> (also local mode's), independently of the functions' event
/// model, so the model's parsing is tested against a second implementation.
/// </summary>
public sealed class KinesisEventBuilder
{
    public const string DefaultRegion = "us-east-1";
    public const string DefaultAccount = "123456789012";
    public const string DefaultStreamName = "xray-segments";
    public const string DefaultShardId = "shardId-000000000000";

    // Sequence numbers are 56-digit decimals in practice; start from a realistic one.
    private static readonly BigInteger FirstSequenceNumber =
        BigInteger.Parse("49590338271490256608559692538361571095921575989136588898", CultureInfo.InvariantCulture);

    private readonly List<Entry> _records = [];
    private string _region = DefaultRegion;
    private string _streamArn = StreamArn(DefaultRegion, DefaultAccount, DefaultStreamName);
    private string _shardId = DefaultShardId;
    private DateTimeOffset _arrival = new(2026, 11, 25, 14, 0, 0, TimeSpan.Zero);
    private BigInteger _nextSequence = FirstSequenceNumber;

    /// <summary>The sequence numbers of the records added so far, in order.</summary>
    public IReadOnlyList<string> SequenceNumbers => [.. _records.Select(r => r.SequenceNumber)];

    public static string StreamArn(string region, string account, string streamName) =>
        $"arn:aws:kinesis:{region}:{account}:stream/{streamName}";

    public KinesisEventBuilder FromStream(string streamName, string region = DefaultRegion, string account = DefaultAccount)
    {
        _region = region;
        _streamArn = StreamArn(region, account, streamName);
        return this;
    }

    public KinesisEventBuilder FromShard(string shardId)
    {
        _shardId = shardId;
        return this;
    }

    /// <summary>Arrival time of records added after this call (each later record arrives 1 ms later).</summary>
    public KinesisEventBuilder ArrivingAt(DateTimeOffset arrival)
    {
        _arrival = arrival;
        return this;
    }

    /// <summary>The sequence number the next added record gets (decimal string).</summary>
    public KinesisEventBuilder StartingAtSequence(string sequenceNumber)
    {
        _nextSequence = BigInteger.Parse(sequenceNumber, NumberStyles.None, CultureInfo.InvariantCulture);
        return this;
    }

    public KinesisEventBuilder AddRecord(ReadOnlySpan<byte> data, string? partitionKey = null, string? sequenceNumber = null)
    {
        var sequence = sequenceNumber ?? _nextSequence.ToString(CultureInfo.InvariantCulture);
        _nextSequence = BigInteger.Parse(sequence, NumberStyles.None, CultureInfo.InvariantCulture) + 1;
        _records.Add(new Entry(data.ToArray(), partitionKey ?? "pk-" + _records.Count.ToString(CultureInfo.InvariantCulture), sequence, _shardId, _streamArn, _region, _arrival));
        _arrival = _arrival.AddMilliseconds(1);
        return this;
    }

    /// <summary>Adds a record whose data is <paramref name="text"/> in UTF-8 (e.g. a segment document).</summary>
    public KinesisEventBuilder AddRecord(string text, string? partitionKey = null, string? sequenceNumber = null) =>
        AddRecord(Encoding.UTF8.GetBytes(text), partitionKey, sequenceNumber);

    public byte[] BuildUtf8() =>
        KinesisEventWriter.Write([.. _records.Select(r => new KinesisEventEntry(r.StreamArn, r.ShardId, r.Region, new KinesisRecord(r.SequenceNumber, r.PartitionKey, r.Data, r.Arrival)))]);

    public string BuildJson() => Encoding.UTF8.GetString(BuildUtf8());

    /// <summary>The event as a readable stream, the way a handler receives it.</summary>
    public MemoryStream BuildStream() => new(BuildUtf8(), writable: false);

    private sealed record Entry(byte[] Data, string PartitionKey, string SequenceNumber, string ShardId, string StreamArn, string Region, DateTimeOffset Arrival);
}
