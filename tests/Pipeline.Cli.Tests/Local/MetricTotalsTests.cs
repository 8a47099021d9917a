using Pipeline.Cli.Local;
using Pipeline.Functions.Ingest;

namespace Pipeline.Cli.Tests.Local;

/// <summary>The live summary's totals of the functions' EMF lines, fed by the ingest's own metrics writer.</summary>
public sealed class MetricTotalsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AddEmfLine_IngestLines_SumsEveryMetricAndEveryRejectReason()
    {
        var totals = new MetricTotals();
        foreach (var valid in new[] { 5, 7 })
        {
            var metrics = new IngestMetrics { Shard = "shardId-000000000000", FirstSequence = "1", SegmentsValid = valid, SegmentsInvalid = 1, TracesKept = 2 };
            metrics.Reject("missing_name");
            totals.AddEmfLine(metrics.ToEmf("ingest", Now));
        }

        totals.Get("SegmentsValid").Should().Be(12);
        totals.Get("SegmentsInvalid").Should().Be(2);
        totals.Get("TracesKept").Should().Be(4);
        totals.Get(MetricTotals.RejectPrefix + "missing_name").Should().Be(2);
        totals.Ignored.Should().Be(0);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"SegmentsValid\":3}")]
    [InlineData("[1,2]")]
    public void AddEmfLine_NotEmf_IsCountedAsIgnored(string line)
    {
        var totals = new MetricTotals();

        totals.AddEmfLine(System.Text.Encoding.UTF8.GetBytes(line));

        totals.Ignored.Should().Be(1);
        totals.Snapshot().Should().BeEmpty();
    }

    [Fact]
    public void Add_BeyondMaxMetrics_IsBoundedAndCounted()
    {
        var totals = new MetricTotals();

        for (var i = 0; i <= MetricTotals.MaxMetrics; i++)
        {
            totals.Add($"m{i}", 1);
        }

        totals.Snapshot().Should().HaveCount(MetricTotals.MaxMetrics);
        totals.Ignored.Should().Be(1);
    }

    [Fact]
    public void PrometheusText_Parse_ReadsSamplesWithLabels()
    {
        var samples = PrometheusText.Parse("""
            # HELP xray_relay_received_datagrams_total Datagrams.
            # TYPE xray_relay_received_datagrams_total counter
            xray_relay_received_datagrams_total 42
            xray_relay_dropped_segments_total{reason="buffer_full"} 3
            """);

        samples["xray_relay_received_datagrams_total"].Should().Be(42);
        samples["xray_relay_dropped_segments_total{reason=\"buffer_full\"}"].Should().Be(3);
    }
}
