using System.Globalization;
using System.Text;

namespace Pipeline.Core.Traces;

/// <summary>How to draw the terminal waterfall.</summary>
/// <param name="Width">Total line width in columns.</param>
/// <param name="Color">Use ANSI colours (only for a terminal); without, the critical path is marked with '*'.</param>
public sealed record WaterfallTextOptions(int Width = 120, bool Color = false)
{
    public const int MinWidth = 60;
    public const int MaxWidth = 400;
}

/// <summary>
/// The trace as a terminal waterfall: one line per span (service, indented name, start offset,
/// duration, a bar on the trace's timeline, HTTP status, marks), gaps as dotted rows, the critical
/// path in bold colour (or '*' without colour). Every application string goes through
/// <see cref="DisplayText"/>; the only escape sequences in the output are the colours added here.
/// </summary>
public static class WaterfallText
{
    public const char CriticalCell = '█';
    public const char SpanCell = '▒';
    public const char GapCell = '·';

    private const string Reset = "\u001b[0m";
    private const string Bold = "\u001b[1m";
    private const string Dim = "\u001b[2m";
    private const string Red = "\u001b[31m";
    private const string Yellow = "\u001b[33m";
    private const string Magenta = "\u001b[35m";
    private const string Cyan = "\u001b[36m";

    public static string Render(TraceTree tree, WaterfallTextOptions? options = null, string? readSummary = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var o = options ?? new WaterfallTextOptions();
        var width = Math.Clamp(o.Width, WaterfallTextOptions.MinWidth, WaterfallTextOptions.MaxWidth);
        var b = new StringBuilder();
        Header(b, tree, o.Color);
        if (readSummary is not null)
        {
            b.Append("read ").Append(DisplayText.Escape(readSummary)).Append('\n');
        }

        if (tree.IsEmpty)
        {
            return b.ToString();
        }

        var rows = WaterfallLayout.Rows(tree);
        var serviceWidth = Math.Clamp(tree.Spans.Max(s => DisplayText.Escape(s.Service).Length), 7, 20);
        var nameWidth = Math.Clamp(tree.Spans.Max(s => (2 * s.Depth) + DisplayText.Escape(s.Name).Length), 4, 40);
        const int StartWidth = 10;
        const int DurationWidth = 11;
        const int StatusWidth = 6;
        const int MarksWidth = 5;
        var barWidth = Math.Max(10, width - serviceWidth - nameWidth - StartWidth - DurationWidth - StatusWidth - MarksWidth - 7);
        var totalMs = tree.Duration * 1000;

        b.Append('\n')
            .Append(DisplayText.Column("SERVICE", serviceWidth)).Append(' ')
            .Append(DisplayText.Column("NAME", nameWidth)).Append(' ')
            .Append("START".PadLeft(StartWidth)).Append(' ')
            .Append("DURATION".PadLeft(DurationWidth)).Append("  ")
            .Append(DisplayText.Column("TIMELINE 0.." + Duration(totalMs), barWidth)).Append(' ')
            .Append("STATUS".PadRight(StatusWidth)).Append("MARKS")
            .Append('\n');

        foreach (var row in rows)
        {
            var span = tree.Spans[row.Span];
            if (row.Kind == WaterfallRowKind.Gap)
            {
                b.Append(new string(' ', serviceWidth)).Append(' ')
                    .Append(DisplayText.Column(new string(' ', 2 * row.Depth) + "(untraced)", nameWidth)).Append(' ')
                    .Append(Duration(row.OffsetMs).PadLeft(StartWidth)).Append(' ')
                    .Append(Duration(row.DurationMs).PadLeft(DurationWidth)).Append("  ");
                AppendBar(b, row, span, tree, totalMs, barWidth, o.Color);
                b.Append('\n');
                continue;
            }

            var marks = Marks(span, row.Critical && !o.Color);
            var status = span.HttpStatus?.ToString(CultureInfo.InvariantCulture) ?? "";
            b.Append(DisplayText.Column(span.Service, serviceWidth)).Append(' ');
            if (o.Color && row.Critical)
            {
                b.Append(Bold);
            }

            b.Append(DisplayText.Column(new string(' ', 2 * span.Depth) + DisplayText.Escape(span.Name), nameWidth));
            if (o.Color && row.Critical)
            {
                b.Append(Reset);
            }

            b.Append(' ')
                .Append(Duration(row.OffsetMs).PadLeft(StartWidth)).Append(' ')
                .Append((row.Open ? "≥" + Duration(row.DurationMs) : Duration(row.DurationMs)).PadLeft(DurationWidth)).Append("  ");
            AppendBar(b, row, span, tree, totalMs, barWidth, o.Color);
            b.Append(' ');
            var statusColor = o.Color ? StatusColor(span) : null;
            b.Append(statusColor).Append(status.PadRight(StatusWidth)).Append(marks).Append(statusColor is null ? "" : Reset);
            b.Append('\n');
        }

        b.Append('\n').Append(o.Color ? $"{Bold}{Yellow}{CriticalCell}{Reset}" : $"{CriticalCell}").Append(" critical path  ")
            .Append(SpanCell).Append(" span  ").Append(GapCell).Append(" untraced  ")
            .Append("marks: E error, F fault, T throttle, X exception, … in progress, ! parent not in archive")
            .Append(o.Color ? "" : ", * critical path").Append('\n');
        Notes(b, tree);
        return b.ToString();
    }

    /// <summary>A duration in the unit that reads best: µs, ms or s.</summary>
    public static string Duration(double ms) => ms switch
    {
        < 0 => "-" + Duration(-ms),
        < 1 => string.Create(CultureInfo.InvariantCulture, $"{ms * 1000:0} µs"),
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{ms:0.0} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:0.000} s"),
    };

    private static void Header(StringBuilder b, TraceTree tree, bool color)
    {
        b.Append(color ? Bold : "").Append("trace ").Append(tree.TraceId).Append(color ? Reset : "");
        if (tree.IsEmpty)
        {
            b.Append(": not found\n");
            return;
        }

        var status = tree.HasFault ? "fault" : tree.HasError ? "error" : tree.HasThrottle ? "throttle" : "ok";
        b.Append("  ").Append(Duration(tree.Duration * 1000))
            .Append("  ").Append(tree.SegmentCount.ToString(CultureInfo.InvariantCulture)).Append(" segment(s), ")
            .Append(tree.Spans.Count.ToString(CultureInfo.InvariantCulture)).Append(" span(s)  ")
            .Append(color && status != "ok" ? Red : "").Append(status).Append(color && status != "ok" ? Reset : "")
            .Append('\n')
            .Append("started ").Append(Timestamp(tree.Start)).Append("  services: ")
            .Append(string.Join(", ", tree.Services.Select(DisplayText.Escape))).Append('\n');
    }

    private static void AppendBar(StringBuilder b, WaterfallRow row, TraceSpan span, TraceTree tree, double totalMs, int barWidth, bool color)
    {
        var (start, length) = WaterfallLayout.Bar(row.OffsetMs, row.DurationMs, totalMs, barWidth);
        var cells = new char[barWidth];
        Array.Fill(cells, ' ');
        var fill = row.Kind == WaterfallRowKind.Gap ? GapCell : SpanCell;
        for (var i = start; i < start + length && i < barWidth; i++)
        {
            cells[i] = fill;
        }

        var critical = new bool[barWidth];
        if (row.Kind == WaterfallRowKind.Span)
        {
            foreach (var section in tree.CriticalPath.Where(c => c.Span == span.Index))
            {
                var (cs, cl) = WaterfallLayout.Bar((section.Start - tree.Start) * 1000, (section.End - section.Start) * 1000, totalMs, barWidth);
                for (var i = cs; i < cs + cl && i < barWidth; i++)
                {
                    cells[i] = CriticalCell;
                    critical[i] = true;
                }
            }
        }

        if (!color)
        {
            b.Append(cells);
            return;
        }

        var inCritical = false;
        b.Append(row.Kind == WaterfallRowKind.Gap ? Dim : Cyan);
        for (var i = 0; i < barWidth; i++)
        {
            if (critical[i] != inCritical)
            {
                b.Append(critical[i] ? Bold + Yellow : Reset + Cyan);
                inCritical = critical[i];
            }

            b.Append(cells[i]);
        }

        b.Append(Reset);
    }

    private static string Marks(TraceSpan span, bool critical)
    {
        var m = new StringBuilder(5);
        if (span.Error)
        {
            m.Append('E');
        }

        if (span.Fault)
        {
            m.Append('F');
        }

        if (span.Throttle)
        {
            m.Append('T');
        }

        if (span.HasCause)
        {
            m.Append('X');
        }

        if (span.End is null)
        {
            m.Append('…');
        }

        if (span.MissingParent)
        {
            m.Append('!');
        }

        if (critical)
        {
            m.Append('*');
        }

        return m.ToString();
    }

    private static string? StatusColor(TraceSpan span) =>
        span.Fault || span.HttpStatus >= 500 ? Red
        : span.Throttle || span.HttpStatus == 429 ? Magenta
        : span.Error || span.HttpStatus >= 400 ? Yellow
        : null;

    private static void Notes(StringBuilder b, TraceTree tree)
    {
        var n = tree.Notes;
        void Line(int count, string what)
        {
            if (count > 0)
            {
                b.Append("note: ").Append(count.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(what).Append('\n');
            }
        }

        Line(n.MissingParents, "span(s) name a parent that is not in the archive (an untraced caller, or a segment not yet archived)");
        Line(n.DuplicateDocuments, "duplicate document(s) merged (an in-progress copy and the complete one)");
        Line(n.DuplicateEntities, "subsegment(s) seen twice, shown once");
        Line(n.UnreadableLines, "archived line(s) could not be read as a segment document");
        Line(n.SpansOverLimit, $"span(s) over the limit of {TraceAssembler.MaxSpans} not shown");
    }

    public static string Timestamp(double epochSeconds) =>
        double.IsNaN(epochSeconds) || epochSeconds is < -62135596800 or > 253402300799
            ? "?"
            : DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(epochSeconds * 1000)).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture);
}
