using System.Diagnostics.Metrics;

namespace Pipeline.Runtime.Telemetry;

/// <summary>
/// The counters every executable shares, on one <see cref="System.Diagnostics.Metrics.Meter"/>
/// ("Pipeline"), so one listener (the relay's /metrics, the functions' EMF line, local mode's
/// summary) sees them all.
/// </summary>
public static class PipelineMetrics
{
    public const string MeterName = "Pipeline";

    /// <summary>CloudWatch namespace of every EMF metric the functions write (template.yaml's alarms and dashboards read it).</summary>
    public const string CloudWatchNamespace = "XRayPipeline";

    /// <summary>The dimension naming the function that wrote an EMF line (its _HANDLER name).</summary>
    public const string FunctionDimension = "Function";

    /// <summary>Tag naming the retried call, e.g. "kinesis.PutRecords", "xray.PutTraceSegments".</summary>
    public const string OperationTag = "operation";

    public static readonly Meter Meter = new(MeterName);

    /// <summary>Attempts made again after a retryable failure (<see cref="Resilience.Backoff"/>).</summary>
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("pipeline.retries", unit: "{attempt}", description: "Attempts retried after a retryable failure");

    /// <summary>Calls that failed after their last allowed attempt or before a deadline the next wait would pass.</summary>
    public static readonly Counter<long> RetryGiveUps = Meter.CreateCounter<long>("pipeline.retry_give_ups", unit: "{call}", description: "Calls given up after the last attempt or at the deadline");

    /// <summary>Counts one retry of <paramref name="operation"/>.</summary>
    public static void CountRetry(string operation) => Retries.Add(1, new KeyValuePair<string, object?>(OperationTag, operation));

    /// <summary>Counts one give-up of <paramref name="operation"/>.</summary>
    public static void CountGiveUp(string operation) => RetryGiveUps.Add(1, new KeyValuePair<string, object?>(OperationTag, operation));
}
