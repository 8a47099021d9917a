using Pipeline.Core.Usage;
using static Pipeline.Core.Tests.Cost.UsageBuilder;

namespace Pipeline.Core.Tests.Cost;

public sealed class UsageAggregatorTests
{
    [Fact]
    public void Fold_SameBatchWrittenTwice_CountsItOnce()
    {
        var aggregator = new UsageAggregator();
        var json = UsageJson.Serialize(Record("shardId-000000000000", 1, 10));
        aggregator.Add(json).Should().Be(UsageSkip.None);
        aggregator.Add(json).Should().Be(UsageSkip.None);

        var fold = aggregator.Fold();

        fold.Days.Should().ContainSingle().Which.TracesSeen.Should().Be(10);
        fold.SkippedCount(UsageSkip.CoveredByRetry).Should().Be(1);
    }

    [Fact]
    public void Fold_StaleRecordAndBisectedRetryHalves_CountsTheRangeOnce()
    {
        // First attempt wrote [1..10] then failed; the bisected retry wrote [1..5] (same key, but the
        // listing may still show the old bytes) and [6..10] under its own key.
        var aggregator = new UsageAggregator();
        aggregator.Add(Record("s", 1, 10, traces: 100));
        aggregator.Add(Record("s", 6, 10, traces: 40));

        var fold = aggregator.Fold();

        fold.Days.Single().TracesSeen.Should().Be(100);
        fold.Days.Single().Invocations.Should().Be(1);
        fold.SkippedCount(UsageSkip.CoveredByRetry).Should().Be(1);
    }

    [Fact]
    public void Fold_AdjacentBatches_CountsBoth()
    {
        var aggregator = new UsageAggregator();
        aggregator.Add(Record("s", 1, 5, traces: 60));
        aggregator.Add(Record("s", 6, 10, traces: 40));

        aggregator.Fold().Days.Single().TracesSeen.Should().Be(100);
    }

    [Fact]
    public void Fold_SequencesCompareAsNumbersNotText()
    {
        // "9" > "10" as text; the aggregator must see [9..9] and [10..12] as disjoint.
        var aggregator = new UsageAggregator();
        aggregator.Add(Record("s", 10, 12, traces: 3));
        aggregator.Add(Record("s", 9, 9, traces: 1));

        var fold = aggregator.Fold();

        fold.Days.Single().TracesSeen.Should().Be(4);
        fold.Skipped.Should().BeEmpty();
    }

    [Fact]
    public void Fold_SameSequenceOnDifferentShards_CountsBoth()
    {
        var aggregator = new UsageAggregator();
        aggregator.Add(Record("shardId-000000000000", 1, 5, traces: 7));
        aggregator.Add(Record("shardId-000000000001", 1, 5, traces: 8));

        var day = aggregator.Fold().Days.Single();
        day.TracesSeen.Should().Be(15);
        day.Shards.Should().Be(2);
    }

    [Fact]
    public void Fold_PartialOverlap_DropsTheLaterRecordWithAReason()
    {
        var aggregator = new UsageAggregator();
        aggregator.Add(Record("s", 1, 10, traces: 10));
        aggregator.Add(Record("s", 6, 15, traces: 10));

        var fold = aggregator.Fold();

        fold.Days.Single().TracesSeen.Should().Be(10);
        fold.SkippedCount(UsageSkip.PartialOverlap).Should().Be(1);
    }

    [Fact]
    public void Add_GarbageNewerVersionAndBadSequence_AreSkippedWithReasons()
    {
        var aggregator = new UsageAggregator();

        aggregator.Add("not json"u8).Should().Be(UsageSkip.Malformed);
        aggregator.Add("{}"u8).Should().Be(UsageSkip.Malformed);
        aggregator.Add(Record("s", 1, 2) with { Version = UsageRecord.CurrentVersion + 1 }).Should().Be(UsageSkip.UnsupportedVersion);
        aggregator.Add(Record("s", 1, 2) with { FirstSequence = "12a" }).Should().Be(UsageSkip.BadSequence);
        aggregator.Add(Record("s", 5, 2)).Should().Be(UsageSkip.BadSequence);

        var fold = aggregator.Fold();
        fold.Days.Should().BeEmpty();
        fold.SkippedCount(UsageSkip.Malformed).Should().Be(2);
    }

    [Fact]
    public void Fold_GroupsByUtcArrivalDay_AndSumsServicesAndGbSeconds()
    {
        var aggregator = new UsageAggregator();
        var late = new DateTimeOffset(2026, 11, 3, 23, 59, 59, TimeSpan.Zero);
        var nextDay = new DateTimeOffset(2026, 11, 3, 20, 0, 0, TimeSpan.FromHours(-5)); // 01:00Z on the 4th
        aggregator.Add(Record("s", 1, 1, late) with
        {
            Services = [new ServiceUsage { Name = "a", Segments = 2, Traces = 1, Kept = new KeptByReason { TailError = 1 } }],
        });
        aggregator.Add(Record("s", 2, 2, late) with
        {
            LambdaDurationMs = 500,
            LambdaMemoryMb = 512,
            Services =
            [
                new ServiceUsage { Name = "a", Segments = 3, Traces = 2, Kept = new KeptByReason { Head = 1 } },
                new ServiceUsage { Name = "b", Segments = 1, Traces = 1 },
            ],
        });
        aggregator.Add(Record("s", 3, 3, nextDay));

        var days = aggregator.Fold().Days;

        days.Select(d => d.Day).Should().Equal(new DateOnly(2026, 11, 3), new DateOnly(2026, 11, 4));
        days[0].LambdaGbSeconds.Should().Be(1.25m);
        days[0].Services.Should().BeEquivalentTo(
        [
            new ServiceUsage { Name = "a", Segments = 5, Traces = 3, Kept = new KeptByReason { Head = 1, TailError = 1 } },
            new ServiceUsage { Name = "b", Segments = 1, Traces = 1 },
        ]);
    }
}
