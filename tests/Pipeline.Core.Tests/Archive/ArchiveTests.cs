using System.Buffers;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Archive;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Tests.Archive;

public sealed class ArchiveTests
{
    private const string Shard = "shardId-000000000003";
    private const string Seq = "49590338271490256608559692538361571095921575989136588898";
    private static readonly DateTimeOffset Arrival = new(2026, 11, 25, 23, 59, 59, 999, TimeSpan.Zero);

    [Fact]
    public void Keys_FollowTheDesignLayout()
    {
        ArchiveKeys.Segments(Shard, Seq, Arrival).Should().Be($"segments/dt=2026-11-25/hour=23/{Shard}-{Seq}.ndjson.gz");
        ArchiveKeys.Quarantine(Shard, Seq, Arrival).Should().Be($"quarantine/dt=2026-11-25/{Shard}-{Seq}.ndjson.gz");
        ArchiveKeys.Usage(Shard, Seq, Arrival).Should().Be($"usage/dt=2026-11-25/{Shard}-{Seq}.json");
        ArchiveKeys.XRayRetry(Shard, Seq, Arrival).Should().Be($"xray-retry/dt=2026-11-25/{Shard}-{Seq}.ndjson");
    }

    [Fact]
    public void Keys_UseUtcOfTheArrivalTime()
    {
        var local = new DateTimeOffset(2026, 11, 26, 1, 30, 0, TimeSpan.FromHours(2));

        ArchiveKeys.Segments(Shard, "1", local).Should().Be($"segments/dt=2026-11-25/hour=23/{Shard}-1.ndjson.gz");
    }

    [Fact]
    public void Keys_RetryShapes_LongerRetryOverwritesAndBisectedHalfGetsItsOwnKey()
    {
        var original = ArchiveKeys.Segments(Shard, "100", Arrival);
        var longerRetry = ArchiveKeys.Segments(Shard, "100", Arrival);
        var secondHalf = ArchiveKeys.Segments(Shard, "150", Arrival.AddMilliseconds(5));

        longerRetry.Should().Be(original);
        secondHalf.Should().NotBe(original);
    }

    [Theory]
    [InlineData("shard/../x", "1")]
    [InlineData("", "1")]
    [InlineData("shardId-1", "12a")]
    [InlineData("shardId-1", "")]
    public void Keys_UnsafeShardOrSequence_Throw(string shard, string seq)
    {
        var act = () => ArchiveKeys.Segments(shard, seq, Arrival);

        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void WriteSegment_CompactDocument_IsWrittenByteForByte()
    {
        var doc = """{"id": "a", "name": "x y"}"""u8.ToArray();
        var output = new ArrayBufferWriter<byte>();

        ArchiveLines.WriteSegment(output, doc);

        output.WrittenSpan.ToArray().Should().Equal([.. doc, (byte)'\n']);
    }

    [Fact]
    public void WriteSegment_PrettyPrintedDocument_BecomesOneLineWithStringsIntact()
    {
        var doc = "{\r\n  \"name\" : \"a  b\\\" \\n c\",\n  \"n\": [1, 2]\n}"u8.ToArray();
        var output = new ArrayBufferWriter<byte>();

        ArchiveLines.WriteSegment(output, doc);

        Encoding.UTF8.GetString(output.WrittenSpan).Should().Be("{\"name\":\"a  b\\\" \\n c\",\"n\":[1,2]}\n");
    }

    [Fact]
    public void WriteQuarantine_LineCarriesReasonPathAndOriginalBytes()
    {
        byte[] original = [0xff, (byte)'{', (byte)'\n'];
        var entry = QuarantineEntry.FromRejection(new SegmentRejection(SegmentRejectReason.InvalidTraceId, "$.trace_id"), Seq, Arrival, original);
        var output = new ArrayBufferWriter<byte>();

        ArchiveLines.WriteQuarantine(output, entry);

        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        text.Should().EndWith("\n").And.NotContain("\n{");
        using var json = JsonDocument.Parse(text);
        json.RootElement.GetProperty("reason").GetString().Should().Be("invalid_trace_id");
        json.RootElement.GetProperty("reason_code").GetInt32().Should().Be(11);
        json.RootElement.GetProperty("path").GetString().Should().Be("$.trace_id");
        json.RootElement.GetProperty("sequence_number").GetString().Should().Be(Seq);
        json.RootElement.GetProperty("arrival_time").GetString().Should().Be("2026-11-25T23:59:59.999Z");
        json.RootElement.GetProperty("size").GetInt32().Should().Be(3);
        json.RootElement.GetProperty("original_base64").GetBytesFromBase64().Should().Equal(original);
    }

    [Fact]
    public void Keys_ListingPrefixes_AreThePrefixesOfTheObjectKeys()
    {
        ArchiveKeys.Segments(Shard, Seq, Arrival).Should().StartWith(ArchiveKeys.SegmentsHourPrefix(new DateTimeOffset(2026, 11, 25, 23, 0, 0, TimeSpan.Zero)));
        ArchiveKeys.SegmentsHourPrefix(Arrival).Should().Be("segments/dt=2026-11-25/hour=23/");
        ArchiveKeys.Usage(Shard, Seq, Arrival).Should().StartWith(ArchiveKeys.UsageDayPrefix(new DateOnly(2026, 11, 25)));
    }

    [Fact]
    public void Objects_GzipThenRead_SameLinesBackAndPlainObjectsReadAsIs()
    {
        var ndjson = "{\"a\":1}\n\n{\"b\":2}\n"u8.ToArray();
        using var gzipped = ArchiveObjects.Gzip(ndjson);
        var stored = gzipped.WrittenMemory.ToArray();

        ArchiveObjects.IsGzip(stored).Should().BeTrue();
        ArchiveObjects.Content(stored).Should().Equal(ndjson);
        ArchiveObjects.IsGzip(ndjson).Should().BeFalse();
        ArchiveObjects.Content(ndjson).Should().Equal(ndjson);
        using var reader = new StreamReader(ArchiveObjects.OpenRead(stored));
        reader.ReadToEnd().Should().Be(Encoding.UTF8.GetString(ndjson));
        ArchiveObjects.Lines(ndjson).Select(l => Encoding.UTF8.GetString(l.Span)).Should().Equal("{\"a\":1}", "{\"b\":2}");
    }

    [Fact]
    public void Objects_EmptyInput_IsAValidEmptyGzip()
    {
        using var gzipped = ArchiveObjects.Gzip([]);

        ArchiveObjects.Content(gzipped.WrittenSpan).Should().BeEmpty();
    }
}
