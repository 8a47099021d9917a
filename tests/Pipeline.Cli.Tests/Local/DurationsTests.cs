using Pipeline.Cli.Local;

namespace Pipeline.Cli.Tests.Local;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("20", 20_000)]
    public void TryParse_Units_ReadAsPeopleWriteThem(string text, int milliseconds)
    {
        Durations.TryParse(text, out var value).Should().BeTrue();
        value.Should().Be(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-5s")]
    [InlineData("0m")]
    public void TryParse_NotADuration_IsRefused(string text) => Durations.TryParse(text, out _).Should().BeFalse();

    [Theory]
    [InlineData(500, "500ms")]
    [InlineData(30_000, "30s")]
    [InlineData(900_000, "15m")]
    [InlineData(3_600_000, "1h")]
    public void Format_RoundTripsThroughTryParse(int milliseconds, string expected)
    {
        var text = Durations.Format(TimeSpan.FromMilliseconds(milliseconds));

        text.Should().Be(expected);
        Durations.TryParse(text, out var back).Should().BeTrue();
        back.Should().Be(TimeSpan.FromMilliseconds(milliseconds));
    }
}
