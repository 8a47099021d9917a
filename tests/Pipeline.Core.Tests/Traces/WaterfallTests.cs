using System.Text.RegularExpressions;
using Pipeline.Core.Traces;
using Pipeline.Testing.Builders;
using static Pipeline.Core.Tests.Traces.TraceFixtures;

namespace Pipeline.Core.Tests.Traces;

public sealed partial class WaterfallTests
{
    [Fact]
    public void Rows_FaultedTrace_SpansInTreeOrderWithOffsetsAndDurations()
    {
        var tree = Assemble(FaultedTrace());

        var rows = WaterfallLayout.Rows(tree, withGaps: false);

        rows.Select(r => (tree.Spans[r.Span].Id, r.Depth, Math.Round(r.OffsetMs), Math.Round(r.DurationMs))).Should().Equal(
            (SegmentA, 0, 0d, 300d), (CallB, 1, 20d, 230d), (SegmentB, 2, 30d, 210d), (Dynamo, 3, 40d, 190d), (Independent, 1, 260d, 30d));
        rows.Should().OnlyContain(r => r.Critical);
    }

    [Fact]
    public void Rows_WithGaps_ShowsUntracedTimeOfAtLeastFivePercent()
    {
        var tree = Assemble(FaultedTrace());

        var gaps = WaterfallLayout.Rows(tree).Where(r => r.Kind == WaterfallRowKind.Gap)
            .Select(r => (tree.Spans[r.Span].Id, r.Depth, Math.Round(r.OffsetMs), Math.Round(r.DurationMs))).ToList();

        // service-a works 20 ms before calling service-b; the 10 ms pieces are under 5 % of 300 ms.
        gaps.Should().Equal((SegmentA, 1, 0d, 20d));
    }

    [Fact]
    public void Rows_TrailingGaps_ComeAfterTheLastDescendantInnerFirst()
    {
        var root = SegmentBuilder.Segment("api").WithTraceId(TraceId).WithId(SegmentA).WithTimes(T(0), T(100))
            .WithSubsegment(SegmentBuilder.Embedded("child", seed: 7).WithId(CallB).WithTimes(T(10), T(20))
                .WithSubsegment(SegmentBuilder.Embedded("leaf", seed: 8).WithId(Dynamo).WithTimes(T(10), T(12))));
        var tree = Assemble([root.ToJson()]);

        var rows = WaterfallLayout.Rows(tree).Select(r => (r.Kind, tree.Spans[r.Span].Name, Math.Round(r.OffsetMs), Math.Round(r.DurationMs)));

        rows.Should().Equal(
            (WaterfallRowKind.Span, "api", 0d, 100d),
            (WaterfallRowKind.Gap, "api", 0d, 10d),
            (WaterfallRowKind.Span, "child", 10d, 10d),
            (WaterfallRowKind.Span, "leaf", 10d, 2d),
            (WaterfallRowKind.Gap, "child", 12d, 8d),
            (WaterfallRowKind.Gap, "api", 20d, 80d));
    }

    [Theory]
    [InlineData(0, 300, 300, 100, 0, 100)]
    [InlineData(150, 0.001, 300, 100, 50, 1)]
    [InlineData(299.9, 50, 300, 100, 99, 1)]
    [InlineData(-10, 20, 300, 100, 0, 4)]
    public void Bar_ScalesToColumns(double offset, double duration, double total, int width, int start, int length)
    {
        WaterfallLayout.Bar(offset, duration, total, width).Should().Be((start, length));
    }

    [Fact]
    public void Render_FaultedTrace_PrintsEveryRowWithStatusAndMarks()
    {
        var tree = Assemble(FaultedTrace());

        var text = WaterfallText.Render(tree, new WaterfallTextOptions(120), readSummary: "1 hour partition(s)");
        var lines = text.Split('\n');

        lines[0].Should().StartWith("trace " + TraceId).And.Contain("300.0 ms").And.Contain("2 segment(s), 5 span(s)").And.EndWith("fault");
        lines.Should().Contain(l => l.StartsWith("read 1 hour partition(s)", StringComparison.Ordinal));
        var dynamo = lines.Single(l => l.Contains("DynamoDB", StringComparison.Ordinal));
        dynamo.Should().StartWith("service-b").And.Contain("      DynamoDB").And.Contain("40.0 ms").And.Contain("190.0 ms").And.Contain("F*");
        lines.Single(l => l.Contains("  service-b  ", StringComparison.Ordinal) && l.StartsWith("service-b", StringComparison.Ordinal))
            .Should().Contain("500").And.Contain("FX*");
        lines.Count(l => l.Contains("(untraced)", StringComparison.Ordinal)).Should().Be(1);
        text.Should().NotContain("\u001b");
    }

    [Fact]
    public void Render_Color_OnlyAddsSgrSequences()
    {
        var tree = Assemble(FaultedTrace());

        var text = WaterfallText.Render(tree, new WaterfallTextOptions(120, Color: true));

        text.Should().Contain("\u001b[1m");
        SgrSequence().Replace(text, "").Should().NotContain("\u001b");
    }

    [Theory]
    [InlineData("\u001b]0;pwned\u0007")]
    [InlineData("\u001b[2J\u001b[H")]
    [InlineData("evil\u202egnp.exe")]
    [InlineData("zero\u200bwidth\u2066iso\u2069")]
    [InlineData("c1\u009b31m")]
    [InlineData("tab\tnew\nline\rcr")]
    public void Render_HostileStrings_NeverReachTheTerminalRaw(string hostile)
    {
        var root = SegmentBuilder.Segment("svc").WithTraceId(TraceId).WithId(SegmentA).WithTimes(T(0), T(10))
            .Set("name", hostile).WithHttp("GET", "http://x/" + hostile, 200).WithAnnotation("k", hostile)
            .WithSubsegment(SegmentBuilder.Embedded("sub").WithId(CallB).WithTimes(T(1), T(2)).Set("name", hostile));

        var tree = Assemble([root.ToJson()]);
        var plain = WaterfallText.Render(tree, new WaterfallTextOptions(120));
        var color = SgrSequence().Replace(WaterfallText.Render(tree, new WaterfallTextOptions(120, Color: true)), "");

        foreach (var text in new[] { plain, color })
        {
            text.Where(c => c != '\n' && (char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format)).Should().BeEmpty();
        }

        plain.Should().Contain(DisplayText.Escape(hostile)[..Math.Min(8, DisplayText.Escape(hostile).Length)]);
    }

    [Fact]
    public void Escape_KeepsOrdinaryUnicode()
    {
        DisplayText.Escape("café ✓ 日本 🚀").Should().Be("café ✓ 日本 🚀");
        DisplayText.Escape("a\u001bb").Should().Be("a\\x1bb");
        DisplayText.Escape("\ud800x").Should().Be("\\ud800x");
        DisplayText.Fit("abcdef", 4).Should().Be("abc…");
    }

    [GeneratedRegex("\u001b\\[[0-9;]*m")]
    private static partial Regex SgrSequence();
}
