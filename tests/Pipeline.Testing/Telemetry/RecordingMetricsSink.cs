using System.Text;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Testing.Telemetry;

/// <summary>The EMF sink test double: keeps every line written (thread-safe), as text.</summary>
public sealed class RecordingMetricsSink : IMetricsSink
{
    private readonly List<string> _lines = [];

    /// <summary>The lines so far, in the order written (a copy).</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public void WriteLine(ReadOnlySpan<byte> utf8Json)
    {
        var line = Encoding.UTF8.GetString(utf8Json);
        lock (_lines)
        {
            _lines.Add(line);
        }
    }
}
