using Pipeline.Core.Sampling;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Tests;

public sealed class ReasonCountersTests
{
    [Fact]
    public void Increment_CountsPerReason_AndSnapshotsOnlyNonZero()
    {
        var counters = new ReasonCounters<SegmentRejectReason>();

        counters.Increment(SegmentRejectReason.InvalidJson);
        counters.Increment(SegmentRejectReason.InvalidJson);
        counters.Increment(SegmentRejectReason.InvalidNamespace, by: 5);

        counters[SegmentRejectReason.InvalidJson].Should().Be(2);
        counters.Snapshot().Should().BeEquivalentTo(new Dictionary<SegmentRejectReason, long>
        {
            [SegmentRejectReason.InvalidJson] = 2,
            [SegmentRejectReason.InvalidNamespace] = 5,
        });
        counters.Overflow.Should().Be(0);
    }

    [Fact]
    public void Increment_ValueOutsideTheTable_CountedAsOverflow()
    {
        var counters = new ReasonCounters<SamplingReason>();

        counters.Increment((SamplingReason)1000);

        counters.Overflow.Should().Be(1);
        counters.Snapshot().Should().BeEmpty();
    }

    [Fact]
    public async Task Increment_FromManyThreads_LosesNothing()
    {
        var counters = new ReasonCounters<SamplingReason>();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counters.Increment(SamplingReason.Head);
            }
        }, TestContext.Current.CancellationToken)));

        counters[SamplingReason.Head].Should().Be(40_000);
    }
}
