using System.Buffers;
using System.Text.Json;

namespace Pipeline.Runtime.Telemetry;

/// <summary>One metric of an EMF document: name, CloudWatch unit, value.</summary>
public readonly record struct EmfMetric(string Name, string Unit, double Value);

/// <summary>
/// Writes CloudWatch embedded metric format lines (source: CloudWatch "Embedded metric format
/// specification"): one JSON object whose <c>_aws.CloudWatchMetrics</c> directive names the
/// namespace, the one dimension set and the metrics, whose values (and the dimensions' values)
/// are top-level members. The functions' EMF lines — the ingest's per-batch line and the shared
/// meter's counters (<see cref="Write(string, IReadOnlyList{KeyValuePair{string, string}}, DateTimeOffset, IEnumerable{MetricPoint})"/>) — are all written here.
/// </summary>
public static class EmfWriter
{
    /// <summary>Metrics one directive may name (EMF specification: "up to 100 metrics").</summary>
    public const int MaxMetricsPerDocument = 100;

    /// <summary>Dimensions one dimension set may have (EMF specification: "up to 30 dimensions").</summary>
    public const int MaxDimensions = 30;

    /// <summary>
    /// One EMF line for <paramref name="metrics"/> under <paramref name="dimensions"/>; <paramref name="properties"/>
    /// may add members that are not metrics (searchable in Logs Insights, not charted).
    /// </summary>
    public static byte[] Write(
        string @namespace,
        IReadOnlyList<KeyValuePair<string, string>> dimensions,
        DateTimeOffset timestamp,
        IReadOnlyList<EmfMetric> metrics,
        Action<Utf8JsonWriter>? properties = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(metrics.Count, MaxMetricsPerDocument, nameof(metrics));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimensions.Count, MaxDimensions, nameof(dimensions));
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("_aws"u8);
            json.WriteNumber("Timestamp"u8, timestamp.ToUnixTimeMilliseconds());
            json.WriteStartArray("CloudWatchMetrics"u8);
            json.WriteStartObject();
            json.WriteString("Namespace"u8, @namespace);
            json.WriteStartArray("Dimensions"u8);
            json.WriteStartArray();
            foreach (var dimension in dimensions)
            {
                json.WriteStringValue(dimension.Key);
            }

            json.WriteEndArray();
            json.WriteEndArray();
            json.WriteStartArray("Metrics"u8);
            foreach (var metric in metrics)
            {
                json.WriteStartObject();
                json.WriteString("Name"u8, metric.Name);
                json.WriteString("Unit"u8, metric.Unit);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            foreach (var dimension in dimensions)
            {
                json.WriteString(dimension.Key, dimension.Value);
            }

            foreach (var metric in metrics)
            {
                json.WriteNumber(metric.Name, metric.Value);
            }

            properties?.Invoke(json);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The collected <paramref name="points"/> as EMF lines: one line per tag combination (its tags
    /// become dimensions after <paramref name="dimensions"/>), at most <see cref="MaxMetricsPerDocument"/>
    /// metrics a line. A histogram gives its sum (<c>name</c>) and its count (<c>name.count</c>).
    /// Non-finite values are left out (EMF values are JSON numbers), and with them a line that would name no metric.
    /// </summary>
    public static IEnumerable<byte[]> Write(
        string @namespace,
        IReadOnlyList<KeyValuePair<string, string>> dimensions,
        DateTimeOffset timestamp,
        IEnumerable<MetricPoint> points)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentNullException.ThrowIfNull(points);
        var byTags = new Dictionary<string, (List<KeyValuePair<string, string>> Dimensions, List<EmfMetric> Metrics)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var point in points)
        {
            var key = string.Join('\u001f', point.Tags.Select(t => t.Key + "=" + t.Value));
            if (!byTags.TryGetValue(key, out var group))
            {
                group = ([.. dimensions, .. point.Tags], []);
                byTags[key] = group;
                order.Add(key);
            }

            var unit = UnitOf(point.Unit);
            if (point.Histogram is { } histogram)
            {
                Add(group.Metrics, new EmfMetric(point.Name, unit, histogram.Sum));
                Add(group.Metrics, new EmfMetric(point.Name + ".count", "Count", histogram.Count));
            }
            else
            {
                Add(group.Metrics, new EmfMetric(point.Name, unit, point.Value));
            }
        }

        foreach (var key in order)
        {
            var (lineDimensions, metrics) = byTags[key];
            if (metrics.Count == 0)
            {
                continue;
            }

            for (var start = 0; start < metrics.Count; start += MaxMetricsPerDocument)
            {
                yield return Write(@namespace, lineDimensions, timestamp, metrics.GetRange(start, Math.Min(MaxMetricsPerDocument, metrics.Count - start)));
            }
        }
    }

    /// <summary>CloudWatch's unit for a UCUM unit as instruments give it ("s" → Seconds, "By" → Bytes); anything else counts.</summary>
    public static string UnitOf(string? unit) => unit switch
    {
        "s" => "Seconds",
        "ms" => "Milliseconds",
        "us" => "Microseconds",
        "By" => "Bytes",
        "%" => "Percent",
        _ => "Count",
    };

    private static void Add(List<EmfMetric> metrics, EmfMetric metric)
    {
        if (double.IsFinite(metric.Value))
        {
            metrics.Add(metric);
        }
    }
}
