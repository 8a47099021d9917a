using Pipeline.Core.Archive;
using Pipeline.Core.Sampling;
using Pipeline.Functions.Ingest;
using Pipeline.Functions.Ingest.Stages;

namespace Pipeline.Functions.Tests.Ingest.Stages;

public sealed class ForwardStageTests
{
    private static readonly string ParkKey = ArchiveKeys.XRayRetry(IngestHarness.Shard, IngestHarness.Sequence(0), IngestHarness.FirstArrival);

    [Fact]
    public async Task Forward_KeptOnly_SentAndMarkedKept()
    {
        var segments = IngestHarness.Segments(3);
        var (batch, xray, store) = await DecidedAsync(segments.Select(s => s.ToUtf8()), keep: [true, false, true]);

        await Stage(xray, store).RunAsync(batch, StageBatches.Context());

        xray.Calls.Should().ContainSingle().Which.Should().Equal(segments[0].ToJson(), segments[2].ToJson());
        batch.Kept.Should().Equal(true, false, true);
        batch.Metrics.XRayCalls.Should().Be(1);
        store.PutKeys.Should().BeEmpty();
    }

    [Fact]
    public async Task Forward_ForwardingOff_NothingSentNothingKept()
    {
        var (batch, xray, store) = await DecidedAsync(IngestHarness.Segments(2).Select(s => s.ToUtf8()), keep: [true, true]);

        await Stage(xray, store, forward: false).RunAsync(batch, StageBatches.Context());

        xray.Calls.Should().BeEmpty();
        batch.Kept.Should().Equal(false, false);
    }

    [Fact]
    public async Task Forward_Refused_ParkedUnderTheBatchKeyAsPlainNdjson()
    {
        var segments = IngestHarness.Segments(2);
        var (batch, xray, store) = await DecidedAsync(segments.Select(s => s.ToUtf8()), keep: [true, true]);
        xray.AlwaysRefuse.Add(segments[1].Id);

        await Stage(xray, store).RunAsync(batch, StageBatches.Context());

        ArchiveObjects.IsGzip(store.Get(IngestHarness.Bucket, ParkKey)).Should().BeFalse();
        store.Lines(IngestHarness.Bucket, ArchiveKeys.XRayRetryPrefix).Should().Equal(segments[1].ToJson());
        batch.Metrics.XRayParked.Should().Be(1);
        batch.Failed.Should().BeFalse();
    }

    [Fact]
    public async Task Forward_OutageAndParkingFails_BatchFailedFromItsFirstRecord()
    {
        var (batch, xray, store) = await DecidedAsync(IngestHarness.Segments(1).Select(s => s.ToUtf8()), keep: [true]);
        xray.Down = true;
        store.FailingPrefixes.Add(ArchiveKeys.XRayRetryPrefix);

        await Stage(xray, store).RunAsync(batch, StageBatches.Context());

        batch.Failed.Should().BeTrue();
        batch.Metrics.RetryFrom.Should().Be(IngestHarness.Sequence(0));
    }

    [Fact]
    public async Task Forward_DeadlineWithinReserve_ParkedUnsent()
    {
        var (batch, xray, store) = await DecidedAsync(IngestHarness.Segments(2).Select(s => s.ToUtf8()), keep: [true, true]);

        await Stage(xray, store).RunAsync(batch, StageBatches.Context(remaining: TimeSpan.FromSeconds(3)));

        xray.Calls.Should().BeEmpty();
        store.Lines(IngestHarness.Bucket, ArchiveKeys.XRayRetryPrefix).Should().HaveCount(2);
    }

    private static ForwardStage Stage(FakeXRay xray, InMemoryObjectStore store, bool forward = true)
    {
        var options = new IngestOptions { ArchiveBucket = IngestHarness.Bucket, ForwardToXRay = forward, XRayRetryDelay = TimeSpan.Zero };
        return new ForwardStage(new XRayForwarder(xray, TestInvocation.Clock(), options.XRayRetryRounds, options.XRayRetryDelay), store, options);
    }

    /// <summary>A validated batch with the given decisions (as decide would have set them).</summary>
    private static async Task<(IngestBatch Batch, FakeXRay XRay, InMemoryObjectStore Store)> DecidedAsync(IEnumerable<byte[]> records, bool[] keep)
    {
        var batch = await StageBatches.ValidatedAsync([.. records]);
        batch.Decisions = [.. keep.Select(k => new SamplingDecision(k, k ? SamplingReason.Head : SamplingReason.None))];
        return (batch, new FakeXRay(), new InMemoryObjectStore(TestInvocation.Clock()));
    }
}
