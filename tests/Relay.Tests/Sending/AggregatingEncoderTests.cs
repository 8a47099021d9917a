using System.Text;
using Pipeline.Core.Kpl;
using Relay.Buffering;
using Relay.Sending;
using Relay.Telemetry;
using Relay.Tests.Support;

namespace Relay.Tests.Sending;

public sealed class AggregatingEncoderTests
{
    private static readonly ShardMap TwoShards = ShardMap.FromShards(new FakeKinesis().Shards)!;

    private static List<SegmentRecord> Records(int count, int padding = 0)
    {
        var buffer = new RecordBuffer(64L * 1024 * 1024, new RelayMetrics());
        for (var i = 0; i < count; i++)
        {
            buffer.TryAdd(Encoding.UTF8.GetBytes(Segments.Document(Segments.TraceId(i), i, padding)), Segments.TraceId(i));
        }

        var records = new List<SegmentRecord>();
        while (buffer.Reader.TryRead(out var record))
        {
            records.Add(record);
        }

        return records;
    }

    [Fact]
    public void Encode_WithShardMap_GroupsSegmentsByShard()
    {
        var records = Records(200);

        var chunks = new AggregatingEncoder(() => TwoShards).Encode(records);

        var entries = chunks.Should().ContainSingle().Subject;
        entries.Should().HaveCount(2, "one aggregated record per shard");
        foreach (var entry in entries)
        {
            var users = KplDeaggregator.Deaggregate(entry.Data, entry.PartitionKey).Records;
            users.Should().HaveCount(entry.Segments);
            users.Select(u => TwoShards.ShardOf(u.PartitionKey)).Should().AllBeEquivalentTo(TwoShards.ShardOf(entry.PartitionKey));
        }

        entries.Sum(e => e.Segments).Should().Be(200);
    }

    [Fact]
    public void Encode_WithoutShardMap_GroupsByTraceId()
    {
        var records = Records(10);

        var entries = new AggregatingEncoder(() => null).Encode(records).Single();

        entries.Should().HaveCount(10);
        entries.Select(e => e.PartitionKey).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Encode_LargeBatch_KeepsEveryRecordUnderOneMebibyteAndEveryCallUnderTheLimits()
    {
        var records = Records(900, padding: 4000);

        var chunks = new AggregatingEncoder(() => TwoShards).Encode(records);

        chunks.SelectMany(c => c).Should().OnlyContain(e => e.PutSize <= KplFormat.MaxKinesisRecordBytes);
        chunks.Should().OnlyContain(c => c.Count <= PutRecordsLimits.MaxRecords && c.Sum(e => e.PutSize) <= PutRecordsLimits.MaxBytes);
        chunks.SelectMany(c => c).Sum(e => e.Segments).Should().Be(900);
    }

    [Fact]
    public void ShardOf_MatchesKinesisMd5Placement()
    {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661: below 2^127, so the first of two equal shards.
        TwoShards.ShardOf("a").Should().Be(0);
        // MD5("b") = 92eb5ffee6ae2fec3ad71c777531578f: above 2^127.
        TwoShards.ShardOf("b").Should().Be(1);
        ShardMap.HashKey("a").ToString(System.Globalization.CultureInfo.InvariantCulture).Should().Be(UInt128.Parse("0cc175b9c0f1b6a831c399e269772661", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void FromShards_UnparsableRange_GivesNoMap()
    {
        ShardMap.FromShards([new Pipeline.Aws.Kinesis.Shard("s", "x", "1")]).Should().BeNull();
        ShardMap.FromShards([]).Should().BeNull();
    }
}
