namespace Pipeline.Core.Graph;

/// <summary>
/// A mergeable response-time histogram with logarithmic buckets (the DDSketch idea: bucket i
/// holds values in (γ^(i-1)·m, γ^i·m]); a quantile is answered with the bucket's midpoint
/// 2γ^i·m/(γ+1), which is within <see cref="RelativeAccuracy"/> of the true (nearest-rank) value
/// for every value at or above <see cref="MinValue"/>. Values below it (and zero) share one bucket
/// answered as <see cref="MinValue"/>/2 (absolute error ≤ 50 µs). Memory: one long per bucket between
/// the smallest and largest seen, at most <see cref="MaxBuckets"/> (a 10 µs .. 1 h edge spans ≈ 1,000).
/// </summary>
public sealed class LatencySketch
{
    /// <summary>α: every reported quantile q̂ of a value q ≥ <see cref="MinValue"/> satisfies |q̂ − q| ≤ α·q.</summary>
    public const double RelativeAccuracy = 0.01;

    /// <summary>Smallest value (seconds) resolved with relative accuracy: 0.1 ms.</summary>
    public const double MinValue = 1e-4;

    /// <summary>Values above this (seconds) are clamped into the last bucket: a day is no longer a latency.</summary>
    public const double MaxValue = 86_400;

    /// <summary>γ = (1+α)/(1−α).</summary>
    public static readonly double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);

    private static readonly double LogGamma = Math.Log(Gamma);

    /// <summary>Index of the bucket of <see cref="MaxValue"/>: the largest index a value can get.</summary>
    public static readonly int MaxIndex = (int)Math.Ceiling(Math.Log(MaxValue / MinValue) / LogGamma);

    /// <summary>Buckets 1..MaxIndex plus the zero bucket 0.</summary>
    public static int MaxBuckets => MaxIndex + 1;

    private long[] _counts = [];
    private int _offset;

    public long Count { get; private set; }

    /// <summary>Bucket index of a value in seconds: 0 for values below <see cref="MinValue"/>.</summary>
    public static int IndexOf(double seconds)
    {
        if (!(seconds >= MinValue))
        {
            return 0;
        }

        if (seconds >= MaxValue)
        {
            return MaxIndex;
        }

        // Bucket 1 holds [m, mγ]; Ceiling keeps exact powers in the lower bucket.
        var i = (int)Math.Ceiling(Math.Log(seconds / MinValue) / LogGamma);
        return Math.Clamp(i, 1, MaxIndex);
    }

    /// <summary>The value a bucket answers with (seconds).</summary>
    public static double ValueOf(int index) =>
        index <= 0 ? MinValue / 2 : 2 * MinValue * Math.Pow(Gamma, index) / (Gamma + 1);

    public void Add(double seconds) => AddToBucket(IndexOf(seconds), 1);

    /// <summary>Adds <paramref name="count"/> values to one bucket (merging, or rows of a grouped query).</summary>
    public void AddToBucket(int index, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        index = Math.Clamp(index, 0, MaxIndex);
        if (count == 0)
        {
            return;
        }

        if (_counts.Length == 0)
        {
            _counts = new long[4];
            _offset = Math.Max(0, index - 1);
        }

        if (index < _offset || index >= _offset + _counts.Length)
        {
            Grow(index);
        }

        _counts[index - _offset] += count;
        Count += count;
    }

    public void Merge(LatencySketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < other._counts.Length; i++)
        {
            AddToBucket(other._offset + i, other._counts[i]);
        }
    }

    /// <summary>
    /// The nearest-rank quantile: the value at rank ⌈q·n⌉ (1-based) of the sorted values, within the
    /// stated accuracy; NaN when empty.
    /// </summary>
    public double Quantile(double q)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(q, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(q, 1);
        if (Count == 0)
        {
            return double.NaN;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return ValueOf(_offset + i);
            }
        }

        return ValueOf(_offset + _counts.Length - 1);
    }

    /// <summary>The non-empty buckets, smallest first, as (value the bucket answers with, count).</summary>
    public IEnumerable<(int Index, double Value, long Count)> Buckets()
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0)
            {
                yield return (_offset + i, ValueOf(_offset + i), _counts[i]);
            }
        }
    }

    private void Grow(int index)
    {
        var low = Math.Min(_offset, index);
        var high = Math.Max(_offset + _counts.Length - 1, index);
        // Room to grow in the direction we grew, so a slowly widening range is not copied each time.
        var slack = Math.Max(8, (high - low + 1) / 2);
        var newLow = index < _offset ? Math.Max(0, low - slack) : low;
        var newHigh = index > _offset ? Math.Min(MaxIndex, high + slack) : high;
        var grown = new long[newHigh - newLow + 1];
        Array.Copy(_counts, 0, grown, _offset - newLow, _counts.Length);
        _counts = grown;
        _offset = newLow;
    }
}
