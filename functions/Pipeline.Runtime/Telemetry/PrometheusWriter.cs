using System.Globalization;
using System.Text;

namespace Pipeline.Runtime.Telemetry;

/// <summary>
/// Writes the Prometheus text exposition format 0.0.4 (source: prometheus.io "Exposition formats"):
/// the relay's /metrics. <see cref="Write(IEnumerable{MetricPoint})"/> renders collected
/// System.Diagnostics.Metrics instruments, named the way OpenTelemetry's Prometheus exporter names
/// them ("pipeline.retries" counter → <c>pipeline_retries_total</c>, unit "s" → <c>_seconds</c>);
/// <see cref="Family"/> and <see cref="Sample"/> write hand-kept values in the same text. Help
/// texts and label values are escaped (backslash, quote, newline), so no value can break a line.
/// </summary>
public sealed class PrometheusWriter
{
    private readonly StringBuilder _text;

    public PrometheusWriter(StringBuilder? text = null) => _text = text ?? new StringBuilder(4096);

    /// <summary>The # HELP and # TYPE lines of a family; <paramref name="type"/> is counter, gauge, histogram or untyped.</summary>
    public PrometheusWriter Family(string name, string type, string help)
    {
        _text.Append("# HELP ").Append(name).Append(' ');
        Escape(help, quoted: false);
        _text.Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    /// <summary>One sample line: <c>name{label="value",…} value</c>.</summary>
    public PrometheusWriter Sample(string name, double value, params ReadOnlySpan<KeyValuePair<string, string>> labels)
    {
        _text.Append(name);
        if (labels.Length > 0)
        {
            _text.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                {
                    _text.Append(',');
                }

                _text.Append(labels[i].Key).Append("=\"");
                Escape(labels[i].Value, quoted: true);
                _text.Append('"');
            }

            _text.Append('}');
        }

        _text.Append(' ').Append(Number(value)).Append('\n');
        return this;
    }

    /// <summary>Every point, one family per instrument name (points of one name must be adjacent, as <see cref="MetricsCollector.Collect"/> returns them).</summary>
    public PrometheusWriter Write(IEnumerable<MetricPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        string? family = null;
        foreach (var point in points)
        {
            var name = NameOf(point);
            if (!string.Equals(name, family, StringComparison.Ordinal))
            {
                Family(name, point.Kind switch { MetricKind.Counter => "counter", MetricKind.Histogram => "histogram", _ => "gauge" }, point.Description ?? point.Name);
                family = name;
            }

            var labels = point.Tags.Select(t => new KeyValuePair<string, string>(Sanitize(t.Key), t.Value)).ToArray();
            if (point.Histogram is not { } histogram)
            {
                Sample(name, point.Value, labels);
                continue;
            }

            long cumulative = 0;
            for (var i = 0; i <= histogram.Bounds.Count; i++)
            {
                cumulative += histogram.BucketCounts[i];
                var le = i < histogram.Bounds.Count ? Number(histogram.Bounds[i]) : "+Inf";
                Sample(name + "_bucket", cumulative, [.. labels, new("le", le)]);
            }

            Sample(name + "_sum", histogram.Sum, labels);
            Sample(name + "_count", histogram.Count, labels);
        }

        return this;
    }

    public override string ToString() => _text.ToString();

    /// <summary>
    /// The Prometheus name of an instrument: characters outside [a-zA-Z0-9_:] become '_', the unit's
    /// word is appended unless the name ends with it, counters end in <c>_total</c>.
    /// </summary>
    public static string NameOf(MetricPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var name = Sanitize(point.Name);
        var unit = UnitWord(point.Unit);
        if (unit is not null && !name.EndsWith("_" + unit, StringComparison.Ordinal))
        {
            name += "_" + unit;
        }

        return point.Kind == MetricKind.Counter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    /// <summary>UCUM units (as System.Diagnostics.Metrics instruments give them) to Prometheus' base-unit words; annotations ("{segment}") and "1" add nothing.</summary>
    private static string? UnitWord(string? unit) => unit switch
    {
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        _ => null,
    };

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            var valid = char.IsAsciiLetter(c) || c == '_' || c == ':' || (i > 0 && char.IsAsciiDigit(c));
            if (!valid)
            {
                chars[i] = '_';
            }
        }

        return chars.Length == 0 ? "_" : new string(chars);
    }

    private static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private void Escape(string text, bool quoted)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\':
                    _text.Append("\\\\");
                    break;
                case '\n':
                    _text.Append("\\n");
                    break;
                case '"' when quoted:
                    _text.Append("\\\"");
                    break;
                default:
                    _text.Append(c);
                    break;
            }
        }
    }
}
