namespace Pipeline.Runtime.Telemetry;

/// <summary>
/// Where CloudWatch embedded-metric-format (EMF) lines go (<see cref="EmfWriter"/> writes them): stdout in Lambda (CloudWatch Logs
/// extracts the metrics from a log line that is the EMF JSON object itself), a list in tests.
/// </summary>
public interface IMetricsSink
{
    /// <summary>Writes one complete JSON object as one line.</summary>
    void WriteLine(ReadOnlySpan<byte> utf8Json);
}

/// <summary>Writes each line with one Write call (line and newline together) so lines never interleave.</summary>
public sealed class StreamMetricsSink(Stream output) : IMetricsSink
{
    private readonly Lock _gate = new();

    public void WriteLine(ReadOnlySpan<byte> utf8Json)
    {
        var line = new byte[utf8Json.Length + 1];
        utf8Json.CopyTo(line);
        line[^1] = (byte)'\n';
        lock (_gate)
        {
            output.Write(line);
            output.Flush();
        }
    }
}
