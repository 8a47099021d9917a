using System.Diagnostics.Metrics;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Runtime.Tests.Telemetry;

public sealed class MetricsCollectorTests
{
    [Fact]
    public void Collect_CountersByTag_SumsEachTagCombinationApartInNameAndTagOrder()
    {
        using var meter = new Meter(nameof(Collect_CountersByTag_SumsEachTagCombinationApartInNameAndTagOrder));
        using var collector = new MetricsCollector(MetricTemporality.Cumulative, meter.Name);
        var retries = meter.CreateCounter<long>("pipeline.retries", "{attempt}", "Retried attempts");

        retries.Add(2, new KeyValuePair<string, object?>("operation", "xray.PutTraceSegments"));
        retries.Add(1, new KeyValuePair<string, object?>("operation", "kinesis.PutRecords"));
        retries.Add(3, new KeyValuePair<string, object?>("operation", "xray.PutTraceSegments"));

        var points = collector.Collect();

        points.Select(p => (p.Name, p.Kind, p.Tags.Single().Value, p.Value)).Should().Equal(
            ("pipeline.retries", MetricKind.Counter, "kinesis.PutRecords", 1d),
            ("pipeline.retries", MetricKind.Counter, "xray.PutTraceSegments", 5d));
        points[0].Unit.Should().Be("{attempt}");
        points[0].Description.Should().Be("Retried attempts");
    }

    [Fact]
    public void Collect_TagsInAnyOrder_AreOneSeries()
    {
        using var meter = new Meter(nameof(Collect_TagsInAnyOrder_AreOneSeries));
        using var collector = new MetricsCollector(MetricTemporality.Cumulative, meter.Name);
        var counter = meter.CreateCounter<int>("c");

        counter.Add(1, new("a", "1"), new("b", "2"));
        counter.Add(1, new("b", "2"), new("a", "1"));

        var point = collector.Collect().Should().ContainSingle().Subject;
        point.Value.Should().Be(2);
        point.Tags.Select(t => t.Key).Should().Equal("a", "b");
    }

    [Fact]
    public void Collect_Delta_ReportsWhatMovedSinceTheLastCollectionOnly()
    {
        using var meter = new Meter(nameof(Collect_Delta_ReportsWhatMovedSinceTheLastCollectionOnly));
        using var collector = new MetricsCollector(MetricTemporality.Delta, meter.Name);
        var counter = meter.CreateCounter<long>("c");
        var level = meter.CreateUpDownCounter<long>("level");

        counter.Add(4);
        level.Add(10);
        collector.Collect().Select(p => (p.Name, p.Value)).Should().Equal(("c", 4d), ("level", 10d));

        level.Add(-3);
        collector.Collect().Select(p => (p.Name, p.Value)).Should().Equal(("level", 7d));

        counter.Add(1);
        collector.Collect().Select(p => (p.Name, p.Value)).Should().Equal(("c", 1d), ("level", 7d));
    }

    [Fact]
    public void Collect_ObservableCounterInDelta_ReportsTheGrowthOfItsTotal()
    {
        using var meter = new Meter(nameof(Collect_ObservableCounterInDelta_ReportsTheGrowthOfItsTotal));
        long total = 10;
        meter.CreateObservableCounter("observed", () => total);
        using var collector = new MetricsCollector(MetricTemporality.Delta, meter.Name);

        collector.Collect().Single().Value.Should().Be(10);
        total = 15;
        collector.Collect().Single().Value.Should().Be(5);
    }

    [Fact]
    public void Collect_Histogram_CountsIntoTheAdvisedBucketsWithSumAndCount()
    {
        using var meter = new Meter(nameof(Collect_Histogram_CountsIntoTheAdvisedBucketsWithSumAndCount));
        using var collector = new MetricsCollector(MetricTemporality.Cumulative, meter.Name);
        var latency = meter.CreateHistogram<double>("latency", "s", null, null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1] });

        foreach (var value in new[] { 0.05, 0.1, 0.5, 2, 3 })
        {
            latency.Record(value);
        }

        var histogram = collector.Collect().Single().Histogram!;
        histogram.Bounds.Should().Equal(0.1, 1);
        histogram.BucketCounts.Should().Equal(2, 1, 2);
        histogram.Count.Should().Be(5);
        histogram.Sum.Should().BeApproximately(5.65, 1e-9);
    }

    [Fact]
    public void Collect_OtherMeters_AreNotListenedTo()
    {
        using var mine = new Meter(nameof(Collect_OtherMeters_AreNotListenedTo) + ".mine");
        using var other = new Meter(nameof(Collect_OtherMeters_AreNotListenedTo) + ".other");
        using var collector = new MetricsCollector(MetricTemporality.Cumulative, mine.Name);

        other.CreateCounter<long>("theirs").Add(1);
        mine.CreateCounter<long>("ours").Add(1);

        collector.Collect().Select(p => p.Name).Should().Equal("ours");
    }

    [Fact]
    public void Collect_MoreSeriesThanTheBound_KeepsTheBoundAndCountsTheRest()
    {
        using var meter = new Meter(nameof(Collect_MoreSeriesThanTheBound_KeepsTheBoundAndCountsTheRest));
        using var collector = new MetricsCollector(MetricTemporality.Cumulative, meter.Name);
        var counter = meter.CreateCounter<long>("c");

        for (var i = 0; i < MetricsCollector.MaxSeries + 7; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("id", i));
        }

        collector.Collect().Should().HaveCount(MetricsCollector.MaxSeries);
        collector.DroppedSeries.Should().Be(7);
    }
}
