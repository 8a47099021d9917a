using System.Globalization;

namespace Pipeline.Core.Otlp;

/// <summary>One frame of an X-Ray <c>cause.exceptions[].stack</c>.</summary>
internal readonly record struct StackFrame(string Label, string Path, int Line);

/// <summary>
/// Reads the frames of an <c>exception.stacktrace</c> text for X-Ray's <c>stack</c> (the whole text
/// stays in metadata with its event). Understands the common shapes: V8/Node
/// (<c>at label (path:line:col)</c>, <c>at path:line:col</c>), Java (<c>at label(File.java:line)</c>),
/// .NET (<c>at label in path:line N</c>) and Python (<c>File "path", line N, in label</c>).
/// Other lines are skipped.
/// </summary>
internal static class StackFrames
{
    public static List<StackFrame> Parse(string stacktrace, int maxFrames, out int total)
    {
        var frames = new List<StackFrame>();
        total = 0;
        foreach (var raw in stacktrace.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            StackFrame? frame = null;
            if (line.StartsWith("at "))
            {
                frame = ParseAt(line[3..]);
            }
            else if (line.StartsWith("File \""))
            {
                frame = ParsePython(line);
            }

            if (frame is { } found)
            {
                total++;
                if (frames.Count < maxFrames)
                {
                    frames.Add(found);
                }
            }
        }

        return frames;
    }

    private static StackFrame ParseAt(ReadOnlySpan<char> rest)
    {
        var inIndex = rest.IndexOf(" in ", StringComparison.Ordinal);
        if (inIndex > 0)
        {
            // .NET: "Label(args) in /path/File.cs:line 42"
            var location = rest[(inIndex + 4)..];
            var lineMarker = location.LastIndexOf(":line ", StringComparison.Ordinal);
            var number = lineMarker >= 0 && int.TryParse(location[(lineMarker + 6)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            return new StackFrame(rest[..inIndex].ToString(), (lineMarker >= 0 ? location[..lineMarker] : location).ToString(), number);
        }

        var open = rest.IndexOf('(');
        if (open >= 0 && rest.EndsWith(")"))
        {
            var (path, number) = PathAndLine(rest[(open + 1)..^1]);
            return new StackFrame(rest[..open].Trim().ToString(), path, number);
        }

        var (barePath, bareLine) = PathAndLine(rest);
        return new StackFrame(string.Empty, barePath, bareLine);
    }

    /// <summary><c>path:line:col</c> or <c>path:line</c>; a path with no number stays whole.</summary>
    private static (string Path, int Line) PathAndLine(ReadOnlySpan<char> location)
    {
        var colon = location.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(location[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var last))
        {
            return (location.ToString(), 0);
        }

        var before = location[..colon];
        var previous = before.LastIndexOf(':');
        return previous > 0 && int.TryParse(before[(previous + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var line)
            ? (before[..previous].ToString(), line)
            : (before.ToString(), last);
    }

    private static StackFrame? ParsePython(ReadOnlySpan<char> line)
    {
        // File "path", line 12, in label
        var rest = line[6..];
        var quote = rest.IndexOf('"');
        if (quote < 0)
        {
            return null;
        }

        var path = rest[..quote].ToString();
        rest = rest[(quote + 1)..];
        var number = 0;
        var lineIndex = rest.IndexOf("line ", StringComparison.Ordinal);
        if (lineIndex >= 0)
        {
            var digits = rest[(lineIndex + 5)..];
            var end = digits.IndexOf(',');
            _ = int.TryParse(end >= 0 ? digits[..end] : digits, NumberStyles.None, CultureInfo.InvariantCulture, out number);
        }

        var inIndex = rest.IndexOf(" in ", StringComparison.Ordinal);
        var label = inIndex >= 0 ? rest[(inIndex + 4)..].ToString() : string.Empty;
        return new StackFrame(label, path, number);
    }
}
