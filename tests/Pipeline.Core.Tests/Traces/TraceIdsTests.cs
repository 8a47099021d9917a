using Pipeline.Core.Traces;

namespace Pipeline.Core.Tests.Traces;

public sealed class TraceIdsTests
{
    [Theory]
    [InlineData("1-69255570-000000000000000000000001", "1-69255570-000000000000000000000001")]
    [InlineData(" 1-6925557A-00000000000000000000000F ", "1-6925557a-00000000000000000000000f")]
    [InlineData("692555700123456789abcdef01234567", "1-69255570-0123456789abcdef01234567")]
    public void TryNormalize_XRayOrW3C_GivesLowercaseXRayForm(string text, string expected)
    {
        TraceIds.TryNormalize(text, out var id).Should().BeTrue();
        id.Should().Be(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1-6925557-000000000000000000000001")]
    [InlineData("2-69255570-000000000000000000000001")]
    [InlineData("1-69255570-00000000000000000000000g")]
    [InlineData("1-69255570-000000000000000000000001'; DROP TABLE segments")]
    [InlineData("692555700123456789abcdef0123456")]
    public void TryNormalize_NotATraceId_IsFalse(string? text)
    {
        TraceIds.TryNormalize(text, out _).Should().BeFalse();
    }

    [Fact]
    public void Epoch_IsTheFirstEightHexDigits()
    {
        TraceIds.Epoch("1-69255570-000000000000000000000001").Should().Be(DateTimeOffset.FromUnixTimeSeconds(0x69255570));
    }

    [Fact]
    public void IsPlausibleEpoch_FollowsTheIngestsRule()
    {
        var now = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);

        TraceIds.IsPlausibleEpoch(now.AddHours(-3), now).Should().BeTrue();
        TraceIds.IsPlausibleEpoch(DateTimeOffset.FromUnixTimeSeconds(1), now).Should().BeFalse();
        TraceIds.IsPlausibleEpoch(now.AddDays(2), now).Should().BeFalse();
    }

    [Fact]
    public void LookupSql_NamesEachDaysHoursAndTheLowercaseId()
    {
        var hours = ArchiveHour.Covering(new DateTimeOffset(2026, 11, 24, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));

        var sql = TraceLookupSql.Build("1-6925557A-00000000000000000000000F", hours);

        sql.Should().Be(
            "SELECT line FROM segments_raw\n" +
            "WHERE ((dt = '2026-11-24' AND \"hour\" IN ('23')) OR (dt = '2026-11-25' AND \"hour\" IN ('00')))\n" +
            "  AND strpos(lower(line), '1-6925557a-00000000000000000000000f') > 0");
    }
}
