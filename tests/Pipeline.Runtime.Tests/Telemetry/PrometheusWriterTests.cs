using System.Diagnostics.Metrics;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Runtime.Tests.Telemetry;

public sealed class PrometheusWriterTests
{
    [Fact]
    public void Write_CounterWithTags_IsOneFamilyNamedTheOpenTelemetryWay()
    {
        using var meter = new Meter(nameof(Write_CounterWithTags_IsOneFamilyNamedTheOpenTelemetryWay));
        using var collector = new MetricsCollector(MetricTemporality.Cumulative, meter.Name);
        var retries = meter.CreateCounter<long>("pipeline.retries", "{attempt}", "Attempts retried");
        retries.Add(2, new KeyValuePair<string, object?>("operation", "kinesis.PutRecords"));
        retries.Add(1, new KeyValuePair<string, object?>("operation", "xray.PutTraceSegments"));

        var text = new PrometheusWriter().Write(collector.Collect()).ToString();

        text.Should().Be("""
            # HELP pipeline_retries_total Attempts retried
            # TYPE pipeline_retries_total counter
            pipeline_retries_total{operation="kinesis.PutRecords"} 2
            pipeline_retries_total{operation="xray.PutTraceSegments"} 1

            """.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Write_Histogram_WritesCumulativeBucketsSumAndCountWithTheUnitInTheName()
    {
        using var meter = new Meter(nameof(Write_Histogram_WritesCumulativeBucketsSumAndCountWithTheUnitInTheName));
        using var collector = new MetricsCollector(MetricTemporality.Cumulative, meter.Name);
        var latency = meter.CreateHistogram<double>("put.latency", "s", "PutRecords latency", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1] });
        latency.Record(0.25);
        latency.Record(0.75);
        latency.Record(4);

        var text = new PrometheusWriter().Write(collector.Collect()).ToString();

        text.Should().Be("""
            # HELP put_latency_seconds PutRecords latency
            # TYPE put_latency_seconds histogram
            put_latency_seconds_bucket{le="0.5"} 1
            put_latency_seconds_bucket{le="1"} 2
            put_latency_seconds_bucket{le="+Inf"} 3
            put_latency_seconds_sum 5
            put_latency_seconds_count 3

            """.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Sample_HostileLabelValueAndHelp_AreEscapedSoNoLineBreaks()
    {
        var text = new PrometheusWriter()
            .Family("x_total", "counter", "line\none \\ two")
            .Sample("x_total", 1, new KeyValuePair<string, string>("path", "a\"b\\c\nd"))
            .ToString();

        text.Should().Be("# HELP x_total line\\none \\\\ two\n# TYPE x_total counter\nx_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(0.1, "0.1")]
    [InlineData(12345678901d, "12345678901")]
    public void Sample_Values_UseTheFormatsSpelling(double value, string expected)
    {
        new PrometheusWriter().Sample("g", value).ToString().Should().Be($"g {expected}\n");
    }

    [Theory]
    [InlineData("pipeline.retries", null, MetricKind.Counter, "pipeline_retries_total")]
    [InlineData("relay.spool", "By", MetricKind.Gauge, "relay_spool_bytes")]
    [InlineData("queue_bytes", "By", MetricKind.Gauge, "queue_bytes")]
    [InlineData("sent_total", null, MetricKind.Counter, "sent_total")]
    [InlineData("9lives-left", null, MetricKind.Gauge, "_lives_left")]
    public void NameOf_InstrumentNames_BecomeValidPrometheusNames(string name, string? unit, MetricKind kind, string expected)
    {
        PrometheusWriter.NameOf(new MetricPoint(name, unit, null, kind, [], 0)).Should().Be(expected);
    }
}
