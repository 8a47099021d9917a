using Pipeline.Functions.CostReport;
using SkiaSharp;

namespace Pipeline.Functions.Tests.CostReport;

public sealed class ReportChartTests
{
    [Fact]
    public void RenderPng_SameModelTwice_GivesTheSameBytes()
    {
        var model = ReportSamples.Model();

        var first = ReportChart.RenderPng(model);
        var second = ReportChart.RenderPng(ReportSamples.Model());

        second.Should().Equal(first);
    }

    [Fact]
    public void RenderPng_IsAPngOfTheFixedSize()
    {
        var png = ReportChart.RenderPng(ReportSamples.Model());

        png.Take(8).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A);
        using var bitmap = SKBitmap.Decode(png);
        bitmap.Should().NotBeNull();
        (bitmap.Width, bitmap.Height).Should().Be((ReportChart.Width, ReportChart.Height));
    }

    [Fact]
    public void RenderPng_DifferentData_GivesDifferentPixels()
    {
        var full = ReportChart.RenderPng(ReportSamples.Model());
        var shorter = ReportChart.RenderPng(ReportSamples.Model(days: 20));

        shorter.Should().NotEqual(full);
    }

    [Fact]
    public void RenderPng_DrawsKeptBarsInTheKeptColour()
    {
        using var bitmap = SKBitmap.Decode(ReportChart.RenderPng(ReportSamples.Model()));

        var keptPixels = 0;
        for (var y = 56; y < ReportChart.Height - 70; y++)
        {
            for (var x = 70; x < 560; x++)
            {
                if (bitmap.GetPixel(x, y) == new SKColor(0x1F, 0x4E, 0x79))
                {
                    keptPixels++;
                }
            }
        }

        keptPixels.Should().BeGreaterThan(25 * 10);
    }

    [Fact]
    public void RenderPng_EmptyMonth_StillRenders()
    {
        var model = ReportSamples.Model(days: 0);

        using var bitmap = SKBitmap.Decode(ReportChart.RenderPng(model));

        bitmap.Width.Should().Be(ReportChart.Width);
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(7, 10)]
    [InlineData(11, 20)]
    [InlineData(21, 25)]
    [InlineData(26, 50)]
    [InlineData(600_000, 1_000_000)]
    [InlineData(1_000_000, 1_000_000)]
    public void NiceCeiling_RoundsUpToAReadableAxisTop(long max, long top) =>
        ReportChart.NiceCeiling(max).Should().Be(top);
}
