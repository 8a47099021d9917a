using Pipeline.Core.Usage;
using static Pipeline.Core.Tests.Cost.UsageBuilder;

namespace Pipeline.Core.Tests.Cost;

public sealed class DailyRollupTests
{
    private static readonly DateOnly Day3 = new(2026, 11, 3);

    [Fact]
    public void Fold_FileUnderAnotherDaysPartition_IsSkippedWithAReason()
    {
        var files = new ReadOnlyMemory<byte>[]
        {
            UsageJson.Serialize(Record("s", 1, 5, new DateTimeOffset(2026, 11, 3, 1, 0, 0, TimeSpan.Zero), traces: 5)),
            UsageJson.Serialize(Record("s", 6, 9, new DateTimeOffset(2026, 11, 4, 1, 0, 0, TimeSpan.Zero), traces: 4)),
            "{"u8.ToArray(),
        };

        var rollup = DailyRollup.Fold(Day3, files);

        rollup.Usage!.TracesSeen.Should().Be(5);
        rollup.Skipped.Should().Equal(new Dictionary<UsageSkip, long> { [UsageSkip.WrongPartition] = 1, [UsageSkip.Malformed] = 1 });
    }

    [Fact]
    public void Serialize_RoundTrips()
    {
        var rollup = DailyRollup.Fold(Day3, [UsageJson.Serialize(Record("s", 1, 5, new DateTimeOffset(2026, 11, 3, 1, 0, 0, TimeSpan.Zero)))]);

        var back = DailyRollup.TryDeserialize(DailyRollup.Serialize(rollup));

        back.Should().BeEquivalentTo(rollup);
        DailyRollup.TryDeserialize("[]"u8).Should().BeNull();
        DailyRollup.TryDeserialize(DailyRollup.Serialize(rollup with { Version = DailyRollup.CurrentVersion + 1 })).Should().BeNull();
    }

    [Theory]
    [InlineData(23, true)]
    [InlineData(24, false)]
    [InlineData(25, false)]
    public void IsSettled_TwoDaysBeforeTheReportDay(int day, bool settled) =>
        DailyRollup.IsSettled(new DateOnly(2026, 11, day), new DateOnly(2026, 11, 25)).Should().Be(settled);

    [Fact]
    public void With_AddsRollupDaysAndSkipCounts_AndRefusesADayTwice()
    {
        var folded = new UsageAggregator();
        folded.Add(Record("s", 1, 1, new DateTimeOffset(2026, 11, 4, 1, 0, 0, TimeSpan.Zero), traces: 7));
        folded.Add("x"u8);
        var rollup = new DailyRollup
        {
            Day = Day3,
            Usage = new DailyUsage { Day = Day3, TracesSeen = 3 },
            Skipped = new Dictionary<UsageSkip, long> { [UsageSkip.Malformed] = 2 },
        };

        var fold = folded.Fold().With([rollup, new DailyRollup { Day = new DateOnly(2026, 11, 2) }]);

        fold.Days.Select(d => d.TracesSeen).Should().Equal(3, 7);
        fold.SkippedCount(UsageSkip.Malformed).Should().Be(3);
        var act = () => fold.With([rollup]);
        act.Should().Throw<ArgumentException>();
    }
}
