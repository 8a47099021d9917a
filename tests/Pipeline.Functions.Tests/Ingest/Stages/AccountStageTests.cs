using System.Text.Json;
using Pipeline.Core.Archive;
using Pipeline.Core.Sampling;
using Pipeline.Core.Usage;
using Pipeline.Functions.Ingest;
using Pipeline.Functions.Ingest.Stages;
using Pipeline.Testing.Builders;
using Pipeline.Testing.Telemetry;

namespace Pipeline.Functions.Tests.Ingest.Stages;

public sealed class AccountStageTests
{
    private static readonly string UsageKey = ArchiveKeys.Usage(IngestHarness.Shard, IngestHarness.Sequence(0), IngestHarness.FirstArrival);

    [Fact]
    public async Task Account_SucceededBatch_UsageRecordAndOneEmfLine()
    {
        var root = SegmentBuilder.Segment("front", seed: 30).WithFault();
        var child = SegmentBuilder.IndependentSubsegment("db", seed: 31).WithTraceId(root.TraceId);
        var batch = await KeptAsync([root.ToUtf8(), child.ToUtf8(), SegmentBuilder.Segment("front", seed: 32).ToUtf8()], [true, true, false], SamplingReason.TailFault);
        var (stage, store, sink) = Stage();

        await stage.RunAsync(batch, StageBatches.Context());

        var usage = UsageJson.TryDeserialize(store.Get(IngestHarness.Bucket, UsageKey))!;
        (usage.SegmentsValid, usage.SegmentsKept, usage.TracesSeen, usage.TracesKept, usage.KeptByReason.TailFault).Should().Be((3, 2, 2, 1, 1));
        usage.S3Puts.Should().Be(1, "only the usage file itself: the archive stage did not run here");
        usage.LastSequence.Should().Be(IngestHarness.Sequence(2));
        using var emf = JsonDocument.Parse(sink.Lines.Should().ContainSingle().Subject);
        emf.RootElement.GetProperty("SegmentsKept").GetInt32().Should().Be(2);
        emf.RootElement.GetProperty("TracesSeen").GetInt32().Should().Be(2);
    }

    [Fact]
    public async Task Account_FailedBatch_EmfLineWithRetryFromAndNoUsageRecord()
    {
        var batch = await KeptAsync([SegmentBuilder.Segment(seed: 33).ToUtf8()], [true], SamplingReason.Head);
        batch.RetryFromFirstRecord();
        var (stage, store, sink) = Stage();

        await stage.RunAsync(batch, StageBatches.Context());

        store.PutKeys.Should().BeEmpty();
        using var emf = JsonDocument.Parse(sink.Lines.Should().ContainSingle().Subject);
        emf.RootElement.GetProperty("RetryFrom").GetString().Should().Be(IngestHarness.Sequence(0));
    }

    [Fact]
    public async Task Account_UsageWriteFails_CountedInTheEmfLineAndNotThrown()
    {
        var batch = await KeptAsync([SegmentBuilder.Segment(seed: 34).ToUtf8()], [false], SamplingReason.None);
        var (stage, store, sink) = Stage();
        store.FailingPrefixes.Add(ArchiveKeys.UsagePrefix);

        await stage.RunAsync(batch, StageBatches.Context());

        batch.Failed.Should().BeFalse();
        using var emf = JsonDocument.Parse(sink.Lines.Should().ContainSingle().Subject);
        emf.RootElement.GetProperty("UsageWriteErrors").GetInt32().Should().Be(1);
    }

    [Theory]
    [InlineData(SamplingReason.TailHttpStatus, SamplingReason.None, KeepReason.TailFault)]
    [InlineData(SamplingReason.TailSlow, SamplingReason.None, KeepReason.TailSlow)]
    [InlineData(SamplingReason.Remembered, SamplingReason.TailError, KeepReason.TailError)]
    [InlineData(SamplingReason.Remembered, SamplingReason.None, KeepReason.Head)]
    [InlineData(SamplingReason.HeadReservoir, SamplingReason.None, KeepReason.Head)]
    public void ToKeepReason_SamplingReason_TheUsageRecordsCoarserReason(SamplingReason reason, SamplingReason remembered, KeepReason expected) =>
        AccountStage.ToKeepReason(reason, remembered).Should().Be(expected);

    private static (AccountStage Stage, InMemoryObjectStore Store, RecordingMetricsSink Sink) Stage()
    {
        var time = TestInvocation.Clock();
        var store = new InMemoryObjectStore(time);
        var sink = new RecordingMetricsSink();
        return (new AccountStage(store, new IngestOptions { ArchiveBucket = IngestHarness.Bucket, FunctionMemoryMb = 512 }, sink, time), store, sink);
    }

    /// <summary>A validated batch whose segments were kept (or not) for X-Ray, as decide and forward would have left it.</summary>
    private static async Task<IngestBatch> KeptAsync(byte[][] records, bool[] kept, SamplingReason reason)
    {
        var batch = await StageBatches.ValidatedAsync(records);
        batch.Decisions = [.. kept.Select(k => new SamplingDecision(k, k ? reason : SamplingReason.None))];
        batch.Kept = kept;
        return batch;
    }
}
