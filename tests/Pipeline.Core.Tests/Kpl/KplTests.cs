using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Core.Kpl;

namespace Pipeline.Core.Tests.Kpl;

public sealed class KplAggregatorTests
{
    [Fact]
    public void Build_OneRecord_MatchesTheHandEncodedWireFormat()
    {
        // AggregatedRecord{ partition_key_table:["a"], records:[{partition_key_index:0, data:"xy"}] }
        // encoded by hand from the protobuf spec: 0A 01 'a' | 1A 06 { 08 00 1A 02 'x' 'y' }.
        byte[] protobuf = [0x0A, 0x01, 0x61, 0x1A, 0x06, 0x08, 0x00, 0x1A, 0x02, 0x78, 0x79];
#pragma warning disable CA5351 // The KPL format's checksum.
        byte[] expected = [0xF3, 0x89, 0x9A, 0xC2, .. protobuf, .. MD5.HashData(protobuf)];
#pragma warning restore CA5351
        var aggregator = new KplAggregator();

        aggregator.TryAdd("a", null, "xy"u8.ToArray()).Should().BeTrue();

        aggregator.Build().Should().Equal(expected);
        aggregator.SizeBytes.Should().Be(expected.Length);
        aggregator.PartitionKey.Should().Be("a");
    }

    [Fact]
    public void Build_SharedKeysAndHashKeys_AreStoredOnceInTheTables()
    {
        var aggregator = new KplAggregator();
        aggregator.TryAdd("k1", "123", "one"u8.ToArray());
        aggregator.TryAdd("k2", null, "two"u8.ToArray());
        aggregator.TryAdd("k1", "123", "three"u8.ToArray());

        var built = aggregator.Build();
        var result = KplDeaggregator.Deaggregate(built, "outer");

        result.Status.Should().Be(KplStatus.Aggregated);
        result.Records.Select(r => (r.PartitionKey, r.ExplicitHashKey, Encoding.UTF8.GetString(r.Data.Span), r.SubSequenceNumber))
            .Should().Equal(("k1", "123", "one", 0), ("k2", (string?)null, "two", 1), ("k1", "123", "three", 2));
        Encoding.UTF8.GetString(built).Split("k1").Should().HaveCount(2, "the key is in the table once");
    }

    [Fact]
    public void TryAdd_PastTheCap_RefusesAndKeepsTheRecordUnderTheCap()
    {
        var aggregator = new KplAggregator(maxRecordBytes: 1000);
        var data = new byte[100];
        var added = 0;
        while (aggregator.TryAdd("trace", null, data))
        {
            added++;
        }

        added.Should().BeGreaterThan(5);
        (aggregator.Build().Length + "trace".Length).Should().BeLessThanOrEqualTo(1000);
    }

    [Fact]
    public void TryAdd_RecordLargerThanTheCap_IsRefusedEvenWhenEmpty()
    {
        var aggregator = new KplAggregator(maxRecordBytes: 1000);

        aggregator.TryAdd("trace", null, new byte[1000]).Should().BeFalse();
        aggregator.Count.Should().Be(0);
    }

    [Fact]
    public void Build_Empty_Throws()
    {
        var act = () => new KplAggregator().Build();

        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Reset_StartsAFreshRecord()
    {
        var aggregator = new KplAggregator();
        aggregator.TryAdd("a", null, "1"u8.ToArray());
        aggregator.Build();

        aggregator.Reset();
        aggregator.TryAdd("b", null, "2"u8.ToArray());

        var records = KplDeaggregator.Deaggregate(aggregator.Build(), "x").Records;
        records.Should().ContainSingle().Which.PartitionKey.Should().Be("b");
    }
}

public sealed class KplDeaggregatorTests
{
    [Fact]
    public void Deaggregate_PlainRecord_ReturnsItUnchanged()
    {
        var data = "{\"trace_id\":\"1-x\"}"u8.ToArray();

        var result = KplDeaggregator.Deaggregate(data, "pk", "42");

        result.Status.Should().Be(KplStatus.NotAggregated);
        result.IsCorrupt.Should().BeFalse();
        var single = result.Records.Should().ContainSingle().Subject;
        single.PartitionKey.Should().Be("pk");
        single.ExplicitHashKey.Should().Be("42");
        single.SubSequenceNumber.Should().Be(0);
        single.Data.ToArray().Should().Equal(data);
    }

    [Fact]
    public void Deaggregate_BadChecksum_IsRejected()
    {
        var aggregator = new KplAggregator();
        aggregator.TryAdd("a", null, "payload"u8.ToArray());
        var built = aggregator.Build();
        built[^1] ^= 0xFF;

        var result = KplDeaggregator.Deaggregate(built, "a");

        result.Status.Should().Be(KplStatus.BadChecksum);
        result.IsCorrupt.Should().BeTrue();
        result.Records.Should().BeEmpty();
    }

    [Fact]
    public void Deaggregate_DamagedMagic_IsTreatedAsPlain()
    {
        var aggregator = new KplAggregator();
        aggregator.TryAdd("a", null, "payload"u8.ToArray());
        var built = aggregator.Build();
        built[0] = 0xF4;

        var result = KplDeaggregator.Deaggregate(built, "outer");

        result.Status.Should().Be(KplStatus.NotAggregated);
        result.Records.Should().ContainSingle().Which.Data.Length.Should().Be(built.Length);
    }

    [Theory]
    [InlineData(new byte[] { 0x1A, 0x05, 0x08 })] // record length past the end
    [InlineData(new byte[] { 0x1A, 0x02, 0x08, 0x00 })] // record without data
    [InlineData(new byte[] { 0x1A, 0x04, 0x08, 0x03, 0x1A, 0x00 })] // partition key index past the table
    [InlineData(new byte[] { 0x0B })] // start-group wire type
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })] // endless varint
    public void Deaggregate_MalformedProtobufWithValidChecksum_IsRejected(byte[] protobuf)
    {
        var result = KplDeaggregator.Deaggregate(Frame(protobuf), "a");

        result.Status.Should().Be(KplStatus.Malformed);
        result.Records.Should().BeEmpty();
    }

    [Fact]
    public void Deaggregate_UnknownFieldsAndTags_AreSkipped()
    {
        // table ["a"], a record with a tag {key "t"} (field 4), and an unknown top-level varint field 9.
        byte[] protobuf = [0x0A, 0x01, 0x61, 0x1A, 0x0A, 0x08, 0x00, 0x1A, 0x01, 0x7A, 0x22, 0x03, 0x0A, 0x01, 0x74, 0x48, 0x05];

        var result = KplDeaggregator.Deaggregate(Frame(protobuf), "outer");

        result.Status.Should().Be(KplStatus.Aggregated);
        result.Records.Should().ContainSingle().Which.Data.ToArray().Should().Equal((byte)'z');
    }

    [Fact]
    public void Deaggregate_ReturnsSlicesOfTheInput()
    {
        var aggregator = new KplAggregator();
        aggregator.TryAdd("a", null, "payload"u8.ToArray());
        var built = aggregator.Build();

        var record = KplDeaggregator.Deaggregate(built, "a").Records[0];

        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(record.Data, out var segment).Should().BeTrue();
        segment.Array.Should().BeSameAs(built);
    }

    [Fact]
    public void IsAggregated_ChecksTheMagic()
    {
        var aggregator = new KplAggregator();
        aggregator.TryAdd("a", null, "p"u8.ToArray());

        KplDeaggregator.IsAggregated(aggregator.Build()).Should().BeTrue();
        KplDeaggregator.IsAggregated("{\"a\":1}"u8).Should().BeFalse();
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property RoundTrip_AnyRecords_ComeBackInOrderWithSubSequenceNumbers()
    {
        var record = from key in Gen.Elements("1-5f84c7a4-000000000000000000000001", "k", "ключ", "1-5f84c7a4-00000000000000000000000f")
                     from hashKey in Gen.Elements<string?>(null, null, "0", "340282366920938463463374607431768211455")
                     from data in ArbMap.Default.GeneratorFor<byte[]>()
                     select (key, hashKey, data);
        return Prop.ForAll(Gen.NonEmptyListOf(record).ToArbitrary(), records =>
        {
            var aggregator = new KplAggregator();
            foreach (var (key, hashKey, data) in records)
            {
                aggregator.TryAdd(key, hashKey, data).Should().BeTrue();
            }

            var result = KplDeaggregator.Deaggregate(aggregator.Build(), "outer");

            result.Status.Should().Be(KplStatus.Aggregated);
            result.Records.Should().HaveCount(records.Count);
            for (var i = 0; i < records.Count; i++)
            {
                result.Records[i].PartitionKey.Should().Be(records[i].key);
                result.Records[i].ExplicitHashKey.Should().Be(records[i].hashKey);
                result.Records[i].Data.ToArray().Should().Equal(records[i].data);
                result.Records[i].SubSequenceNumber.Should().Be(i);
            }
        });
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property Deaggregate_AnyBytes_NeverThrows(byte[] data)
    {
        var framed = Frame(data);
        var result = KplDeaggregator.Deaggregate(framed, "k");
        var plain = KplDeaggregator.Deaggregate(data, "k");
        return (result.Status != KplStatus.NotAggregated && plain.Records.Count <= 1).ToProperty();
    }

    private static byte[] Frame(byte[] protobuf)
    {
#pragma warning disable CA5351 // The KPL format's checksum.
        return [0xF3, 0x89, 0x9A, 0xC2, .. protobuf, .. MD5.HashData(protobuf)];
#pragma warning restore CA5351
    }
}
