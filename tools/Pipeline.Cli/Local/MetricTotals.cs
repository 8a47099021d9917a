using System.Globalization;
using System.Text.Json;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Cli.Local;

/// <summary>
/// Running totals of the functions' CloudWatch embedded-metric-format (EMF) lines: what CloudWatch
/// would chart, summed in memory for the live summary and <c>pipeline status</c>. Source of the
/// format: CloudWatch "Embedded metric format specification" (metric names under
/// <c>_aws.CloudWatchMetrics[].Metrics[].Name</c>, values as top-level members).
/// </summary>
internal sealed class MetricTotals : IMetricsSink
{
    /// <summary>Distinct metric names kept; more are counted in <see cref="Ignored"/>.</summary>
    public const int MaxMetrics = 256;

    /// <summary>Totals of quarantine reasons are named <c>Rejected.&lt;reason_code&gt;</c>.</summary>
    public const string RejectPrefix = "Rejected.";

    private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _ignored;

    /// <summary>Lines that were not EMF objects, or metrics beyond <see cref="MaxMetrics"/>.</summary>
    public long Ignored => Interlocked.Read(ref _ignored);

    public void WriteLine(ReadOnlySpan<byte> utf8Json) => AddEmfLine(utf8Json);

    public void AddEmfLine(ReadOnlySpan<byte> line)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("_aws", out var aws)
                || !aws.TryGetProperty("CloudWatchMetrics", out var directives)
                || directives.ValueKind != JsonValueKind.Array)
            {
                Interlocked.Increment(ref _ignored);
                return;
            }

            lock (_gate)
            {
                foreach (var directive in directives.EnumerateArray())
                {
                    if (!directive.TryGetProperty("Metrics", out var metrics) || metrics.ValueKind != JsonValueKind.Array)
                    {
                        continue;
                    }

                    foreach (var metric in metrics.EnumerateArray())
                    {
                        if (metric.TryGetProperty("Name", out var name) && name.GetString() is { } key
                            && root.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number)
                        {
                            Add(key, (long)value.GetDouble());
                        }
                    }
                }

                // The ingest's quarantine reasons ride along as a plain member (not a metric).
                if (root.TryGetProperty("Rejects", out var rejects) && rejects.ValueKind == JsonValueKind.Object)
                {
                    foreach (var reason in rejects.EnumerateObject())
                    {
                        if (reason.Value.ValueKind == JsonValueKind.Number)
                        {
                            Add(RejectPrefix + reason.Name, (long)reason.Value.GetDouble());
                        }
                    }
                }
            }
        }
        catch (JsonException)
        {
            Interlocked.Increment(ref _ignored);
        }
    }

    public void Add(string name, long value)
    {
        lock (_gate)
        {
            if (_totals.TryGetValue(name, out var total))
            {
                _totals[name] = total + value;
            }
            else if (_totals.Count < MaxMetrics)
            {
                _totals[name] = value;
            }
            else
            {
                Interlocked.Increment(ref _ignored);
            }
        }
    }

    public long Get(string name)
    {
        lock (_gate)
        {
            return _totals.GetValueOrDefault(name);
        }
    }

    public IReadOnlyDictionary<string, long> Snapshot()
    {
        lock (_gate)
        {
            return new SortedDictionary<string, long>(_totals, StringComparer.Ordinal);
        }
    }
}

/// <summary>Reads the relay's Prometheus <c>/metrics</c> (text format 0.0.4): samples by full name, labels included.</summary>
internal static class PrometheusText
{
    public static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            if (space > 0 && double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                samples[line[..space]] = value;
            }
        }

        return samples;
    }

    public static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http, Uri metricsUrl, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        var text = await http.GetStringAsync(metricsUrl, timeout.Token).ConfigureAwait(false);
        return Parse(text);
    }
}
