using System.Text;
using Pipeline.Core.Archive;
using Pipeline.Functions.Ingest.Stages;

namespace Pipeline.Functions.Tests.Ingest.Stages;

public sealed class ArchiveStageTests
{
    private static readonly string SegmentsKey = ArchiveKeys.Segments(IngestHarness.Shard, IngestHarness.Sequence(0), IngestHarness.FirstArrival);
    private static readonly string QuarantineKey = ArchiveKeys.Quarantine(IngestHarness.Shard, IngestHarness.Sequence(0), IngestHarness.FirstArrival);

    [Fact]
    public async Task Archive_ValidAndQuarantined_BothObjectsGzipNdjsonUnderTheFirstRecordsKeys()
    {
        var segment = IngestHarness.Segments(1)[0];
        var batch = await StageBatches.ValidatedAsync(segment.ToUtf8(), "{"u8.ToArray());
        var store = new InMemoryObjectStore(TestInvocation.Clock());

        await new ArchiveStage(store, IngestHarness.Bucket).RunAsync(batch, StageBatches.Context());

        batch.Failed.Should().BeFalse();
        ArchiveObjects.IsGzip(store.Get(IngestHarness.Bucket, SegmentsKey)).Should().BeTrue();
        store.Lines(IngestHarness.Bucket, ArchiveKeys.SegmentsPrefix).Should().Equal(segment.ToJson());
        store.Lines(IngestHarness.Bucket, ArchiveKeys.QuarantinePrefix).Should().ContainSingle().Which.Should().Contain("\"reason\":\"invalid_json\"");
        batch.Metrics.BytesArchived.Should().Be(store.Get(IngestHarness.Bucket, SegmentsKey).Length + store.Get(IngestHarness.Bucket, QuarantineKey).Length);
    }

    [Fact]
    public async Task Archive_NoValidSegment_EmptyObjectStillWrittenSoAStaleOneIsReplaced()
    {
        var batch = await StageBatches.ValidatedAsync("{}"u8.ToArray());
        var store = new InMemoryObjectStore(TestInvocation.Clock());
        store.Put(IngestHarness.Bucket, SegmentsKey, ArchiveObjects.Gzip(Encoding.UTF8.GetBytes("stale\n")).WrittenMemory.ToArray(), StageBatches.Now);

        await new ArchiveStage(store, IngestHarness.Bucket).RunAsync(batch, StageBatches.Context());

        store.Lines(IngestHarness.Bucket, ArchiveKeys.SegmentsPrefix).Should().BeEmpty();
        store.PutKeys.Should().Equal(SegmentsKey, QuarantineKey);
    }

    [Fact]
    public async Task Archive_NothingQuarantined_NoQuarantineObject()
    {
        var batch = await StageBatches.ValidatedAsync(IngestHarness.Segments(1)[0].ToUtf8());
        var store = new InMemoryObjectStore(TestInvocation.Clock());

        await new ArchiveStage(store, IngestHarness.Bucket).RunAsync(batch, StageBatches.Context());

        store.PutKeys.Should().Equal(SegmentsKey);
    }

    [Theory]
    [InlineData("segments/")]
    [InlineData("quarantine/")]
    public async Task Archive_EitherWriteFails_BatchFailedFromItsFirstRecord(string failing)
    {
        var batch = await StageBatches.ValidatedAsync(IngestHarness.Segments(1)[0].ToUtf8(), "{"u8.ToArray());
        var store = new InMemoryObjectStore(TestInvocation.Clock());
        store.FailingPrefixes.Add(failing);

        await new ArchiveStage(store, IngestHarness.Bucket).RunAsync(batch, StageBatches.Context());

        batch.Failed.Should().BeTrue();
        batch.Metrics.RetryFrom.Should().Be(IngestHarness.Sequence(0));
        batch.Metrics.ArchiveFailures.Should().Be(1);
        batch.Metrics.BytesArchived.Should().Be(0);
    }
}
