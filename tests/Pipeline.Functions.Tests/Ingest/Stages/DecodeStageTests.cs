using System.Text;
using Pipeline.Core.Kpl;
using Pipeline.Functions.Ingest.Stages;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest.Stages;

public sealed class DecodeStageTests
{
    [Fact]
    public async Task Decode_PlainRecords_OneDocumentEachWithItsRecord()
    {
        var segments = IngestHarness.Segments(2);
        var batch = StageBatches.Of([.. segments.Select(s => s.ToUtf8())]);

        await new DecodeStage().RunAsync(batch, StageBatches.Context());

        batch.Documents.Select(d => Encoding.UTF8.GetString(d.Body.Span)).Should().Equal(segments.Select(s => s.ToJson()));
        batch.Documents.Select(d => d.Record.SequenceNumber).Should().Equal(IngestHarness.Sequence(0), IngestHarness.Sequence(1));
        batch.QuarantinedCount.Should().Be(0);
    }

    [Fact]
    public async Task Decode_DaemonHeaderLine_BodyWithoutHeaderOriginalWithIt()
    {
        var segment = SegmentBuilder.Segment(seed: 5);
        var batch = StageBatches.Of(segment.ToDatagram());

        await new DecodeStage().RunAsync(batch, StageBatches.Context());

        var document = batch.Documents.Should().ContainSingle().Subject;
        Encoding.UTF8.GetString(document.Body.Span).Should().Be(segment.ToJson());
        document.Original.ToArray().Should().Equal(segment.ToDatagram());
    }

    [Fact]
    public async Task Decode_KplAggregate_EachUserRecordADocumentOfTheSameKinesisRecord()
    {
        var segments = IngestHarness.Segments(3);
        var aggregator = new KplAggregator();
        foreach (var s in segments)
        {
            aggregator.TryAdd(s.TraceId, null, s.ToUtf8()).Should().BeTrue();
        }

        var batch = StageBatches.Of(aggregator.Build());

        await new DecodeStage().RunAsync(batch, StageBatches.Context());

        batch.Documents.Select(d => Encoding.UTF8.GetString(d.Body.Span)).Should().Equal(segments.Select(s => s.ToJson()));
        batch.Documents.Should().OnlyContain(d => d.Record.SequenceNumber == IngestHarness.Sequence(0));
    }

    [Fact]
    public async Task Decode_KplBadChecksum_QuarantinedWholeAndNoDocument()
    {
        var aggregator = new KplAggregator();
        aggregator.TryAdd("pk", null, SegmentBuilder.Segment(seed: 6).ToUtf8());
        var corrupt = aggregator.Build();
        corrupt[^1] ^= 0xFF;
        var batch = StageBatches.Of(corrupt);

        await new DecodeStage().RunAsync(batch, StageBatches.Context());

        batch.Documents.Should().BeEmpty();
        batch.QuarantinedCount.Should().Be(1);
        batch.Metrics.Rejects.Should().ContainKey("kpl_bad_checksum");
        Encoding.UTF8.GetString(batch.QuarantineLines).Should().Contain(Convert.ToBase64String(corrupt));
    }

    [Fact]
    public async Task Decode_NotJson_PassedOnForValidateToJudge()
    {
        var batch = StageBatches.Of([0xFF, 0x00]);

        await new DecodeStage().RunAsync(batch, StageBatches.Context());

        batch.Documents.Should().ContainSingle().Which.Body.ToArray().Should().Equal(0xFF, 0x00);
        batch.QuarantinedCount.Should().Be(0);
    }
}
