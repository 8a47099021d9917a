using Pipeline.Core.Sampling;
using Pipeline.Functions.Ingest;
using Pipeline.Functions.Ingest.Stages;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest.Stages;

public sealed class DecideStageTests
{
    [Fact]
    public async Task Decide_TailAndHeadKeptTraces_NotLookedUpOnlyUncertainOnesAre()
    {
        var fault = SegmentBuilder.Segment(seed: 20).WithFault();
        var plain = SegmentBuilder.Segment(seed: 21);
        var batch = await StageBatches.ValidatedAsync(fault.ToUtf8(), plain.ToUtf8());
        var store = new RecordingDecisionStore();

        await Stage(rate: 0.0, store).RunAsync(batch, StageBatches.Context());

        store.LookedUp.Should().ContainSingle().Which.Should().BeEquivalentTo([plain.TraceId.ToLowerInvariant()]);
        batch.Decisions.Select(d => d.Keep).Should().Equal(true, false);
        batch.ToRemember.Keys.Should().Equal(fault.TraceId.ToLowerInvariant());
    }

    [Fact]
    public async Task Decide_RateOne_NothingToLookUp()
    {
        var batch = await StageBatches.ValidatedAsync(SegmentBuilder.Segment(seed: 22).ToUtf8());
        var store = new RecordingDecisionStore();

        await Stage(rate: 1.0, store).RunAsync(batch, StageBatches.Context());

        store.LookedUp.Should().BeEmpty();
        batch.Decisions.Should().ContainSingle().Which.Keep.Should().BeTrue();
    }

    [Fact]
    public async Task Decide_RememberedKeep_KeepsALateSegment()
    {
        var late = SegmentBuilder.IndependentSubsegment("db", seed: 23);
        var store = new RecordingDecisionStore();
        await store.PutAsync(late.TraceId.ToLowerInvariant(), new TraceDecision(true, SamplingReason.TailError, StageBatches.Now), TimeSpan.FromHours(1), TestContext.Current.CancellationToken);
        var batch = await StageBatches.ValidatedAsync(late.ToUtf8());

        await Stage(rate: 0.0, store).RunAsync(batch, StageBatches.Context());

        var decision = batch.Decisions.Should().ContainSingle().Subject;
        (decision.Keep, decision.Reason).Should().Be((true, SamplingReason.Remembered));
        batch.Remembered.Should().ContainKey(late.TraceId.ToLowerInvariant());
    }

    [Fact]
    public async Task Decide_StoreDown_CountedAndTailStillDecides()
    {
        var fault = SegmentBuilder.Segment(seed: 24).WithFault();
        var batch = await StageBatches.ValidatedAsync(fault.ToUtf8(), SegmentBuilder.Segment(seed: 25).ToUtf8());
        var stage = Stage(rate: 0.0, new BrokenDecisionStore());

        await stage.RunAsync(batch, StageBatches.Context());
        await stage.RememberAsync(batch, StageBatches.Context());

        batch.Decisions.Select(d => d.Keep).Should().Equal(true, false);
        batch.Metrics.DecisionStoreErrors.Should().Be(2, "one failed read, one failed write");
        batch.Failed.Should().BeFalse();
    }

    [Fact]
    public async Task Remember_NewTailKeep_StoredWithThePolicysTimeToLive()
    {
        var fault = SegmentBuilder.Segment(seed: 26).WithFault();
        var batch = await StageBatches.ValidatedAsync(fault.ToUtf8());
        var store = new RecordingDecisionStore();
        var stage = Stage(rate: 0.0, store);

        await stage.RunAsync(batch, StageBatches.Context());
        await stage.RememberAsync(batch, StageBatches.Context());

        var stored = await store.GetAsync(fault.TraceId.ToLowerInvariant(), TestContext.Current.CancellationToken);
        stored!.Value.Reason.Should().Be(SamplingReason.TailFault);
        store.TimesToLive.Should().Equal(TimeToLive);
    }

    [Fact]
    public async Task Decide_CountsTheDecisionTableKeysReadAndItemsWritten_ForTheCostReport()
    {
        var faults = Enumerable.Range(0, 3).Select(i => SegmentBuilder.Segment(seed: 30 + i).WithFault()).ToList();
        var plain = Enumerable.Range(0, 5).Select(i => SegmentBuilder.Segment(seed: 40 + i)).ToList();
        var sibling = SegmentBuilder.Segment("other", seed: 50).WithTraceId(plain[0].TraceId);
        var batch = await StageBatches.ValidatedAsync([.. faults.Select(f => f.ToUtf8()), .. plain.Select(p => p.ToUtf8()), sibling.ToUtf8()]);
        var store = new RecordingDecisionStore();
        var stage = Stage(rate: 0.0, store);

        await stage.RunAsync(batch, StageBatches.Context());
        await stage.RememberAsync(batch, StageBatches.Context());

        var usage = batch.Usage.ToRecord("shardId-0", "1", "9", StageBatches.Now, 1, 1024);
        usage.DecisionReads.Should().Be(store.LookedUp.Sum(l => l.Count)).And.Be(5, "the five uncertain traces, the sibling's trace once");
        usage.DecisionWrites.Should().Be(store.Written).And.Be(3, "the three tail keeps");
    }

    private static readonly TimeSpan TimeToLive = TimeSpan.FromHours(3);

    private static DecideStage Stage(double rate, ITraceDecisionStore store) =>
        new(new TraceSampler(new SamplingPolicy { Rules = [IngestOptions.FallbackRule(rate)], DecisionTimeToLive = TimeToLive }), store);

    /// <summary>The in-memory store, recording which traces were asked for and with which TTL decisions were stored.</summary>
    private sealed class RecordingDecisionStore : ITraceDecisionStore
    {
        private readonly InMemoryTraceDecisionStore _inner = new(TestInvocation.Clock());

        public List<IReadOnlyCollection<string>> LookedUp { get; } = [];

        public List<TimeSpan> TimesToLive { get; } = [];

        public int Written { get; private set; }

        public ValueTask<TraceDecision?> GetAsync(string traceId, CancellationToken cancellationToken = default) => _inner.GetAsync(traceId, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, TraceDecision>> GetManyAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default)
        {
            LookedUp.Add([.. traceIds]);
            return _inner.GetManyAsync(traceIds, cancellationToken);
        }

        public ValueTask PutAsync(string traceId, TraceDecision decision, TimeSpan timeToLive, CancellationToken cancellationToken = default) => _inner.PutAsync(traceId, decision, timeToLive, cancellationToken);

        public ValueTask PutManyAsync(IReadOnlyCollection<KeyValuePair<string, TraceDecision>> decisions, TimeSpan timeToLive, CancellationToken cancellationToken = default)
        {
            TimesToLive.Add(timeToLive);
            Written += decisions.Count;
            return _inner.PutManyAsync(decisions, timeToLive, cancellationToken);
        }
    }
}
