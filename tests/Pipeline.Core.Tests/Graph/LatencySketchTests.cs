using FsCheck;
using FsCheck.Xunit;
using Pipeline.Core.Graph;

namespace Pipeline.Core.Tests.Graph;

public sealed class LatencySketchTests
{
    /// <summary>Exact nearest-rank quantile: the value at rank ⌈q·n⌉ of the sorted values.</summary>
    private static double Reference(double[] sorted, double q) => sorted[Math.Max(1, (int)Math.Ceiling(q * sorted.Length)) - 1];

    private static double[] Latencies(int[] raw, int scale) =>
        [.. raw.Select(r => LatencySketch.MinValue + (Math.Abs((long)r) % 1_000_000 * Math.Pow(10, scale % 4) / 1e6))];

    [Property(MaxTest = 300)]
    public bool Quantile_AnyValues_WithinTheStatedRelativeError(NonEmptyArray<int> raw, PositiveInt scale, PositiveInt qRaw)
    {
        var values = Latencies(raw.Get, scale.Get);
        var sketch = new LatencySketch();
        foreach (var v in values)
        {
            sketch.Add(v);
        }

        Array.Sort(values);
        var q = (qRaw.Get % 100) / 100.0;
        var exact = Reference(values, q);
        // α relative, plus a hair for floating point at bucket edges.
        return Math.Abs(sketch.Quantile(q) - exact) <= (LatencySketch.RelativeAccuracy * exact) + 1e-12;
    }

    [Property(MaxTest = 200)]
    public bool Merge_EqualsOneSketchOverAllValues(NonEmptyArray<int> a, NonEmptyArray<int> b, PositiveInt scale)
    {
        var left = new LatencySketch();
        var right = new LatencySketch();
        var all = new LatencySketch();
        foreach (var v in Latencies(a.Get, scale.Get))
        {
            left.Add(v);
            all.Add(v);
        }

        foreach (var v in Latencies(b.Get, scale.Get + 1))
        {
            right.Add(v);
            all.Add(v);
        }

        left.Merge(right);
        return left.Count == all.Count && left.Buckets().SequenceEqual(all.Buckets());
    }

    [Fact]
    public void Quantile_KnownValues_P50P90P99()
    {
        var sketch = new LatencySketch();
        for (var ms = 1; ms <= 1000; ms++)
        {
            sketch.Add(ms / 1000.0);
        }

        sketch.Quantile(0.5).Should().BeApproximately(0.500, 0.005);
        sketch.Quantile(0.9).Should().BeApproximately(0.900, 0.009);
        sketch.Quantile(0.99).Should().BeApproximately(0.990, 0.0099);
        sketch.Count.Should().Be(1000);
    }

    [Fact]
    public void Add_ZeroNegativeHugeAndNaN_LandInTheEndBuckets()
    {
        var sketch = new LatencySketch();
        sketch.Add(0);
        sketch.Add(-1);
        sketch.Add(double.NaN);
        sketch.Add(1e9);

        sketch.Count.Should().Be(4);
        sketch.Quantile(0.5).Should().Be(LatencySketch.MinValue / 2);
        sketch.Quantile(1).Should().BeApproximately(LatencySketch.MaxValue, LatencySketch.MaxValue * LatencySketch.RelativeAccuracy);
        sketch.Buckets().Count().Should().Be(2);
    }

    [Fact]
    public void Quantile_Empty_IsNaN() => double.IsNaN(new LatencySketch().Quantile(0.5)).Should().BeTrue();
}
