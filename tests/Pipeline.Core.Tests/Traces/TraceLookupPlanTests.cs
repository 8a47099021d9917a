using Pipeline.Core.Traces;

namespace Pipeline.Core.Tests.Traces;

public sealed class TraceLookupPlanTests
{
    private static readonly DateTimeOffset MidHour = new(2026, 11, 25, 7, 30, 0, TimeSpan.Zero);

    [Fact]
    public void First_EpochMidHour_ReadsOnlyThatHour()
    {
        var plan = TraceLookupPlan.ForEpoch(MidHour);

        plan.First().Should().Equal(new ArchiveHour(MidHour));
    }

    [Fact]
    public void First_EpochNearTheHour_ReadsTheHourBeforeToo()
    {
        var plan = TraceLookupPlan.ForEpoch(new DateTimeOffset(2026, 11, 25, 0, 3, 0, TimeSpan.Zero));

        plan.First().Select(h => h.ToString()).Should().Equal("2026-11-24 23h", "2026-11-25 00h");
    }

    [Fact]
    public void Next_FoundAndEndedWithinTheHour_IsDone()
    {
        var plan = TraceLookupPlan.ForEpoch(MidHour);
        plan.First();

        plan.Next(new TraceFindings(3, MidHour.AddSeconds(2).ToUnixTimeSeconds(), 0)).Should().BeEmpty();
        plan.Rounds.Should().Be(1);
    }

    [Fact]
    public void Next_NothingFound_WidensInBoundedSteps()
    {
        var plan = TraceLookupPlan.ForEpoch(MidHour);
        plan.First();

        var second = plan.Next(default);
        var third = plan.Next(default);
        var fourth = plan.Next(default);

        second.Select(h => h.ToString()).Should().Equal("2026-11-25 06h", "2026-11-25 08h", "2026-11-25 09h", "2026-11-25 10h");
        third.Should().HaveCount(2 + 24 + 1 - 1 - 4 - 1 + 1);
        third.Min().Start.Should().Be(MidHour.AddHours(-2).AddMinutes(-30));
        third.Max().Start.Should().Be(MidHour.AddHours(24).AddMinutes(-30));
        fourth.Should().BeEmpty();
        plan.Read.Should().OnlyHaveUniqueItems().And.HaveCount(27);
    }

    [Fact]
    public void Next_SegmentRunsIntoTheNextHour_ReadsThatHourOnly()
    {
        var plan = TraceLookupPlan.ForEpoch(MidHour);
        plan.First();

        var next = plan.Next(new TraceFindings(2, MidHour.AddMinutes(29).ToUnixTimeSeconds(), 0));

        next.Select(h => h.ToString()).Should().Equal("2026-11-25 08h");
        plan.Next(new TraceFindings(3, MidHour.AddMinutes(29).ToUnixTimeSeconds(), 0)).Should().BeEmpty();
    }

    [Fact]
    public void Next_OnlyInProgressSeen_LooksAnHourFurtherOnce()
    {
        var plan = TraceLookupPlan.ForEpoch(MidHour);
        plan.First();

        var next = plan.Next(new TraceFindings(1, MidHour.ToUnixTimeSeconds(), 1));

        next.Select(h => h.ToString()).Should().Equal("2026-11-25 08h");
        plan.Next(new TraceFindings(1, MidHour.ToUnixTimeSeconds(), 1)).Should().BeEmpty();
    }

    [Fact]
    public void Next_AbsurdLatestTime_IsCappedAtADay()
    {
        var plan = TraceLookupPlan.ForEpoch(MidHour);
        plan.First();

        plan.Next(new TraceFindings(1, 1e15, 0)).Max().Should().Be(new ArchiveHour(MidHour + TraceLookupPlan.MaxAfter));
    }

    [Fact]
    public void Between_ReadsExactlyTheWindowOnce()
    {
        var plan = TraceLookupPlan.Between(MidHour, MidHour.AddHours(2), MidHour);

        plan.First().Should().HaveCount(3);
        plan.Next(default).Should().BeEmpty();
    }

    [Fact]
    public void Between_TooLong_IsRefused()
    {
        var act = () => TraceLookupPlan.Between(MidHour, MidHour.AddDays(3), MidHour);

        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Describe_RunsOfHours_ReadsLikeRanges()
    {
        var hours = ArchiveHour.Covering(new DateTimeOffset(2026, 11, 24, 22, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero))
            .Append(new ArchiveHour(MidHour));

        ArchiveHour.Describe(hours).Should().Be("2026-11-24 22h..2026-11-25 01h, 2026-11-25 07h");
    }

    [Fact]
    public void Prefix_IsTheIngestsPartition()
    {
        new ArchiveHour(MidHour).Prefix.Should().Be("segments/dt=2026-11-25/hour=07/");
    }
}
