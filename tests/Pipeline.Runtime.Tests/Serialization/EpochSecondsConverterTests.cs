using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Runtime.Serialization;

namespace Pipeline.Runtime.Tests.Serialization;

public sealed class EpochSecondsConverterTests
{
    private sealed record Stamp([property: JsonConverter(typeof(EpochSecondsConverter))] DateTimeOffset At);

    private sealed record OptionalStamp([property: JsonConverter(typeof(NullableEpochSecondsConverter))] DateTimeOffset? At);

    private static DateTimeOffset Read(string json) => JsonSerializer.Deserialize<Stamp>($$"""{"At":{{json}}}""")!.At;

    [Theory]
    [InlineData("1545084650", 1545084650000)]
    [InlineData("1545084650.987", 1545084650987)]
    [InlineData("1545084650.9874", 1545084650987)]
    [InlineData("1545084650.9875", 1545084650988)] // half away from zero, not to even
    [InlineData("1545084650.0005", 1545084650001)] // binary doubles would read this as …0.000499…
    [InlineData("1.5e9", 1500000000000)]
    public void Number_IsRoundedHalfAwayFromZeroToTheMillisecond(string json, long expectedMilliseconds) =>
        Read(json).ToUnixTimeMilliseconds().Should().Be(expectedMilliseconds);

    [Fact]
    public void LastMillisecondOfAnHour_RoundsIntoTheNextHour_TheArchiveKeyFollowsOneRule()
    {
        // 2026-12-04T14:59:59.9996Z: the arrival time decides dt=/hour=, so the rounding is part of the key.
        var at = Read("1796396399.9996");

        at.Should().Be(new DateTimeOffset(2026, 12, 4, 15, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void IsoString_IsAccepted_AsUtcWhenItHasNoOffset()
    {
        Read("\"2026-12-04T15:00:00.250Z\"").ToUnixTimeMilliseconds().Should().Be(1796396400250);
        Read("\"2026-12-04T15:00:00\"").Offset.Should().Be(TimeSpan.Zero);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("\"soon\"")]
    [InlineData("1e300")]
    [InlineData("-1e20")]
    public void NotATime_IsAJsonExceptionThatSaysWhy(string json)
    {
        var act = () => Read(json);

        act.Should().Throw<JsonException>();
    }

    [Fact]
    public void Write_IsEpochSecondsWithMilliseconds_AndRoundTrips()
    {
        var stamp = new Stamp(DateTimeOffset.FromUnixTimeMilliseconds(1545084650987));

        var json = JsonSerializer.Serialize(stamp);

        json.Should().Be("""{"At":1545084650.987}""");
        JsonSerializer.Deserialize<Stamp>(json)!.Should().Be(stamp);
    }

    [Fact]
    public void Nullable_ReadsNullAndNumbers()
    {
        JsonSerializer.Deserialize<OptionalStamp>("""{"At":null}""")!.At.Should().BeNull();
        JsonSerializer.Deserialize<OptionalStamp>("""{"At":1545084650.5}""")!.At!.Value.ToUnixTimeMilliseconds().Should().Be(1545084650500);
        JsonSerializer.Serialize(new OptionalStamp(null)).Should().Be("""{"At":null}""");
    }
}
