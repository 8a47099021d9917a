namespace Pipeline.Runtime.Telemetry;

/// <summary>
/// Writes what the shared meter's instruments counted since the last flush (retries and give-ups
/// by operation, …) as EMF lines, under <see cref="PipelineMetrics.CloudWatchNamespace"/> and the
/// given dimensions. The Lambda host flushes after every invocation (a frozen sandbox must not sit
/// on counts); local mode flushes into its running totals. Owns its delta collector.
/// </summary>
public sealed class EmfPublisher : IDisposable
{
    private readonly MetricsCollector _collector;
    private readonly IReadOnlyList<KeyValuePair<string, string>> _dimensions;
    private readonly IMetricsSink _sink;
    private readonly TimeProvider _time;
    private readonly Lock _flushLock = new();

    public EmfPublisher(IReadOnlyList<KeyValuePair<string, string>> dimensions, IMetricsSink sink, TimeProvider time, params string[] meterNames)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(time);
        _dimensions = dimensions;
        _sink = sink;
        _time = time;
        _collector = new MetricsCollector(MetricTemporality.Delta, meterNames);
    }

    /// <summary>Writes the lines of what moved since the last flush; returns how many.</summary>
    public int Flush()
    {
        lock (_flushLock)
        {
            var points = _collector.Collect();
            if (points.Count == 0)
            {
                return 0;
            }

            var lines = 0;
            foreach (var line in EmfWriter.Write(PipelineMetrics.CloudWatchNamespace, _dimensions, _time.GetUtcNow(), points))
            {
                _sink.WriteLine(line);
                lines++;
            }

            return lines;
        }
    }

    public void Dispose() => _collector.Dispose();
}
