namespace Pipeline.Core.Traces;

public enum WaterfallRowKind
{
    Span,

    /// <summary>Time inside a span that none of its children covers (its own untraced work, or network and queueing).</summary>
    Gap,
}

/// <summary>One row of the waterfall: a span, or a gap inside its parent. Times relative to the trace start.</summary>
/// <param name="Span">The span's index, or for a gap the span it lies in.</param>
/// <param name="Critical">For a span: it holds part of the critical path.</param>
public sealed record WaterfallRow(WaterfallRowKind Kind, int Span, int Depth, double OffsetMs, double DurationMs, bool Open, bool Critical);

/// <summary>
/// The waterfall of a trace as rows and bar geometry, independent of the medium: the terminal,
/// the HTML page and the JSON output all draw from this.
/// </summary>
public static class WaterfallLayout
{
    /// <summary>A gap is shown when it is at least this share of the trace (and at least <see cref="MinGapMs"/>).</summary>
    public const double MinGapShare = 0.05;

    public const double MinGapMs = 1.0;

    public static IReadOnlyList<WaterfallRow> Rows(TraceTree tree, bool withGaps = true)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var rows = new List<WaterfallRow>(tree.Spans.Count);
        if (tree.IsEmpty)
        {
            return rows;
        }

        var critical = tree.CriticalPath.Select(c => c.Span).ToHashSet();
        var minGap = Math.Max(MinGapMs, tree.Duration * 1000 * MinGapShare);
        var pendingGaps = new Dictionary<int, List<WaterfallRow>>();
        var trailingGaps = new Dictionary<int, WaterfallRow>();
        foreach (var span in tree.Spans)
        {
            if (withGaps && span.Children.Count > 0)
            {
                CollectGaps(tree, span, minGap, pendingGaps, trailingGaps);
            }
        }

        // Pre-order rows; a gap goes before the child it precedes, a trailing gap after the span's last descendant.
        var closeAfter = new Dictionary<int, List<WaterfallRow>>();
        foreach (var span in tree.Spans)
        {
            if (pendingGaps.Remove(span.Index, out var before))
            {
                rows.AddRange(before);
            }

            rows.Add(new WaterfallRow(WaterfallRowKind.Span, span.Index, span.Depth, Ms(span.Start - tree.Start), Ms(tree.EffectiveEnd(span) - span.Start), span.End is null, critical.Contains(span.Index)));
            if (trailingGaps.Remove(span.Index, out var trailing))
            {
                var last = LastDescendant(tree, span.Index);
                if (!closeAfter.TryGetValue(last, out var list))
                {
                    closeAfter[last] = list = [];
                }

                list.Insert(0, trailing);
            }

            if (closeAfter.Remove(span.Index, out var closing))
            {
                rows.AddRange(closing);
            }
        }

        return rows;
    }

    /// <summary>Start column and length (≥ 1) of a bar in <paramref name="width"/> columns for a trace of <paramref name="totalMs"/>.</summary>
    public static (int Start, int Length) Bar(double offsetMs, double durationMs, double totalMs, int width)
    {
        if (width <= 0)
        {
            return (0, 0);
        }

        if (totalMs <= 0 || double.IsNaN(totalMs))
        {
            return (0, width);
        }

        var start = (int)Math.Floor(Math.Clamp(offsetMs / totalMs, 0, 1) * width);
        var end = (int)Math.Ceiling(Math.Clamp((offsetMs + durationMs) / totalMs, 0, 1) * width);
        start = Math.Min(start, width - 1);
        return (start, Math.Max(1, end - start));
    }

    private static void CollectGaps(TraceTree tree, TraceSpan span, double minGapMs, Dictionary<int, List<WaterfallRow>> before, Dictionary<int, WaterfallRow> trailing)
    {
        var covered = span.Start;
        var end = tree.EffectiveEnd(span);
        foreach (var c in span.Children)
        {
            var child = tree.Spans[c];
            if (Ms(child.Start - covered) >= minGapMs && child.Start <= end)
            {
                if (!before.TryGetValue(c, out var list))
                {
                    before[c] = list = [];
                }

                list.Add(new WaterfallRow(WaterfallRowKind.Gap, span.Index, span.Depth + 1, Ms(covered - tree.Start), Ms(child.Start - covered), false, false));
            }

            covered = Math.Max(covered, tree.EffectiveEnd(child));
        }

        if (Ms(end - covered) >= minGapMs)
        {
            trailing[span.Index] = new WaterfallRow(WaterfallRowKind.Gap, span.Index, span.Depth + 1, Ms(covered - tree.Start), Ms(end - covered), false, false);
        }
    }

    private static int LastDescendant(TraceTree tree, int index)
    {
        var at = index;
        while (tree.Spans[at].Children.Count > 0)
        {
            at = tree.Spans[at].Children[^1];
        }

        return at;
    }

    private static double Ms(double seconds) => seconds * 1000;
}
