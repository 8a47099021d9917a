using System.Diagnostics.Metrics;

namespace Pipeline.Runtime.Telemetry;

/// <summary>What an instrument is, as the renderers need to know it.</summary>
public enum MetricKind
{
    /// <summary>Counter or ObservableCounter: a sum that only grows.</summary>
    Counter,

    /// <summary>UpDownCounter, ObservableUpDownCounter or ObservableGauge: a value now.</summary>
    Gauge,

    /// <summary>Histogram: count, sum and bucket counts.</summary>
    Histogram,
}

/// <summary>
/// Whether a collection reports totals since start (Prometheus scrapes) or what happened since the
/// previous collection (an EMF line per invocation: CloudWatch sums the lines).
/// </summary>
public enum MetricTemporality
{
    Cumulative,
    Delta,
}

/// <summary>A histogram's state: <see cref="BucketCounts"/>[i] counts values ≤ <see cref="Bounds"/>[i] (and above the previous bound); the last entry counts the rest.</summary>
public sealed record HistogramValue(IReadOnlyList<double> Bounds, IReadOnlyList<long> BucketCounts, long Count, double Sum);

/// <summary>One instrument's value for one combination of tags (tags sorted by key).</summary>
public sealed record MetricPoint(
    string Name,
    string? Unit,
    string? Description,
    MetricKind Kind,
    IReadOnlyList<KeyValuePair<string, string>> Tags,
    double Value,
    HistogramValue? Histogram = null);

/// <summary>
/// Listens to the instruments of the named meters (System.Diagnostics.Metrics) and keeps their
/// values per tag combination, for <see cref="PrometheusWriter"/> (the relay's /metrics) and
/// <see cref="EmfWriter"/> (the functions' EMF lines) to render. Bounded: at most
/// <see cref="MaxSeries"/> instrument/tag combinations, more are counted in
/// <see cref="DroppedSeries"/>, never kept. Measurements are aggregated under one lock: meant for
/// counters off the per-segment path (retries, give-ups, per-batch totals), not per-byte events.
/// </summary>
public sealed class MetricsCollector : IDisposable
{
    /// <summary>Series (instrument × tag values) kept at most; the daemon-sized default, far above what our tags produce.</summary>
    public const int MaxSeries = 2000;

    /// <summary>Bucket bounds of a histogram that gives no advice (OpenTelemetry's default explicit buckets, in the instrument's unit).</summary>
    public static readonly IReadOnlyList<double> DefaultBounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly MeterListener _listener = new();
    private readonly HashSet<string> _meters;
    private readonly MetricTemporality _temporality;
    private readonly Lock _lock = new();
    private readonly Dictionary<SeriesKey, Series> _series = [];
    private long _droppedSeries;

    public MetricsCollector(MetricTemporality temporality, params string[] meterNames)
    {
        ArgumentNullException.ThrowIfNull(meterNames);
        _temporality = temporality;
        _meters = new HashSet<string>(meterNames.Length == 0 ? [PipelineMetrics.MeterName] : meterNames, StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Contains(instrument.Meter.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Instrument/tag combinations refused because <see cref="MaxSeries"/> were already kept.</summary>
    public long DroppedSeries => Interlocked.Read(ref _droppedSeries);

    /// <summary>
    /// The values now, series in a stable order (name, then tags). Observable instruments are read
    /// first. With <see cref="MetricTemporality.Delta"/> counters and histograms restart from zero
    /// and series that did not move are left out.
    /// </summary>
    public IReadOnlyList<MetricPoint> Collect()
    {
        _listener.RecordObservableInstruments();
        lock (_lock)
        {
            var points = new List<MetricPoint>(_series.Count);
            foreach (var (key, series) in _series)
            {
                if (_temporality == MetricTemporality.Delta && series.Kind != MetricKind.Gauge && !series.Moved)
                {
                    continue;
                }

                points.Add(series.ToPoint(key));
                if (_temporality == MetricTemporality.Delta)
                {
                    series.Reset();
                }
            }

            points.Sort(static (a, b) =>
            {
                var byName = string.CompareOrdinal(a.Name, b.Name);
                return byName != 0 ? byName : string.CompareOrdinal(TagText(a.Tags), TagText(b.Tags));
            });
            return points;
        }
    }

    public void Dispose() => _listener.Dispose();

    private static string TagText(IReadOnlyList<KeyValuePair<string, string>> tags) => string.Join('\u001f', tags.Select(t => t.Key + "=" + t.Value));

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sorted = new KeyValuePair<string, string>[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            sorted[i] = new(tags[i].Key, Convert.ToString(tags[i].Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty);
        }

        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var key = new SeriesKey(instrument, TagText(sorted));
        lock (_lock)
        {
            if (!_series.TryGetValue(key, out var series))
            {
                if (_series.Count >= MaxSeries)
                {
                    _droppedSeries++;
                    return;
                }

                series = new Series(instrument, sorted);
                _series[key] = series;
            }

            series.Add(value);
        }
    }

    private readonly record struct SeriesKey(Instrument Instrument, string Tags);

    private sealed class Series
    {
        private readonly Instrument _instrument;
        private readonly KeyValuePair<string, string>[] _tags;
        private readonly double[] _bounds;
        private readonly long[] _buckets;
        private double _value;
        private double _reported;
        private long _count;

        public Series(Instrument instrument, KeyValuePair<string, string>[] tags)
        {
            _instrument = instrument;
            _tags = tags;
            Kind = KindOf(instrument);
            _bounds = Kind == MetricKind.Histogram ? BoundsOf(instrument) : [];
            _buckets = Kind == MetricKind.Histogram ? new long[_bounds.Length + 1] : [];
        }

        public MetricKind Kind { get; }

        public bool Moved => _count > 0;

        public void Add(double value)
        {
            _count++;
            switch (Kind)
            {
                case MetricKind.Histogram:
                    _value += value;
                    var bucket = Array.FindIndex(_bounds, b => value <= b);
                    _buckets[bucket < 0 ? _bounds.Length : bucket]++;
                    break;
                default:
                    // Observable instruments report their current total or level: keep the last, not the sum.
                    _value = _instrument.IsObservable ? value : _value + value;
                    break;
            }
        }

        /// <summary>After a delta collection: counters and histograms restart; an observable counter's next delta is taken from its total now.</summary>
        public void Reset()
        {
            _count = 0;
            if (Kind == MetricKind.Gauge)
            {
                return;
            }

            if (_instrument.IsObservable)
            {
                _reported = _value;
                return;
            }

            _value = 0;
            Array.Clear(_buckets);
        }

        public MetricPoint ToPoint(SeriesKey key) => new(
            _instrument.Name,
            _instrument.Unit,
            _instrument.Description,
            Kind,
            _tags,
            _value - _reported,
            Kind == MetricKind.Histogram ? new HistogramValue(_bounds, [.. _buckets], _buckets.Sum(), _value) : null);

        private static MetricKind KindOf(Instrument instrument) => instrument switch
        {
            Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> => MetricKind.Counter,
            Histogram<long> or Histogram<int> or Histogram<double> => MetricKind.Histogram,
            _ => MetricKind.Gauge,
        };

        private static double[] BoundsOf(Instrument instrument) => instrument switch
        {
            Histogram<double> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds],
            Histogram<long> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds.Select(b => (double)b)],
            Histogram<int> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds.Select(b => (double)b)],
            _ => [.. DefaultBounds],
        };
    }
}
