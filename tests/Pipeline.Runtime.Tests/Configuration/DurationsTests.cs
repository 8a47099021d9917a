using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Runtime.Tests.Configuration;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData(" 2M ", 120_000)]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    public void TryParse_UnitsAsPeopleWriteThem_Parse(string text, long milliseconds)
    {
        Durations.TryParse(text, out var value, out var error).Should().BeTrue(error);
        value.Should().Be(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Theory]
    [InlineData("5", "has no unit")]
    [InlineData("20", "has no unit")]
    [InlineData("", "is empty")]
    [InlineData("soon", "is not a duration")]
    [InlineData("-5s", "is not a duration")]
    [InlineData("1e12s", "unknown unit")]
    [InlineData("5w", "unknown unit 'w'")]
    [InlineData("1h30", "every number needs a unit")]
    [InlineData("1..5s", "is not a duration")]
    [InlineData("99999999999999999999d", "too long")]
    public void TryParse_NotADuration_IsRefusedWithTheReason(string text, string reason)
    {
        Durations.TryParse(text, out _, out var error).Should().BeFalse();
        error.Should().Contain(reason);
    }

    [Fact]
    public void Parse_BadValue_NamesTheSourceAndTheValue()
    {
        var act = () => Durations.Parse("--drain-timeout", "1e12");

        act.Should().Throw<ConfigurationException>().WithMessage("--drain-timeout: '1e12'*");
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(500, "500ms")]
    [InlineData(30_000, "30s")]
    [InlineData(900_000, "15m")]
    [InlineData(3_600_000, "1h")]
    [InlineData(5_400_000, "1h30m")]
    [InlineData(86_400_000, "1d")]
    [InlineData(1_500, "1s500ms")]
    public void Format_WritesTheShortestText(long milliseconds, string expected) =>
        Durations.Format(TimeSpan.FromMilliseconds(milliseconds)).Should().Be(expected);

    [Property(MaxTest = 500)]
    public Property Format_AnyDuration_ParsesBackToItself() =>
        Prop.ForAll(
            Gen.Choose(0, int.MaxValue).Select(ms => TimeSpan.FromMilliseconds(ms)).ToArbitrary(),
            value => Durations.TryParse(Durations.Format(value), out var back, out _) && back == value);
}
