using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Runtime.Telemetry;
using Pipeline.Testing.Telemetry;

namespace Pipeline.Runtime.Tests.Telemetry;

public sealed class EmfWriterTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Write_Metrics_IsOneEmfObjectWithDirectiveDimensionsValuesAndProperties()
    {
        var line = EmfWriter.Write(
            "XRayPipeline",
            [new("Function", "ingest")],
            At,
            [new EmfMetric("SegmentsIn", "Count", 12), new EmfMetric("BytesArchived", "Bytes", 4096)],
            json => json.WriteString("Shard", "shardId-000"));

        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var directive = root.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0];
        root.GetProperty("_aws").GetProperty("Timestamp").GetInt64().Should().Be(At.ToUnixTimeMilliseconds());
        directive.GetProperty("Namespace").GetString().Should().Be("XRayPipeline");
        directive.GetProperty("Dimensions")[0].EnumerateArray().Select(d => d.GetString()).Should().Equal("Function");
        directive.GetProperty("Metrics").EnumerateArray().Select(m => (m.GetProperty("Name").GetString(), m.GetProperty("Unit").GetString()))
            .Should().Equal(("SegmentsIn", "Count"), ("BytesArchived", "Bytes"));
        root.GetProperty("Function").GetString().Should().Be("ingest");
        root.GetProperty("SegmentsIn").GetDouble().Should().Be(12);
        root.GetProperty("BytesArchived").GetDouble().Should().Be(4096);
        root.GetProperty("Shard").GetString().Should().Be("shardId-000");
    }

    [Fact]
    public void Write_MoreMetricsThanOneDirectiveMayName_IsRefused()
    {
        var metrics = Enumerable.Range(0, EmfWriter.MaxMetricsPerDocument + 1).Select(i => new EmfMetric("m" + i, "Count", i)).ToList();

        var act = () => EmfWriter.Write("ns", [], At, metrics);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Write_Points_OneLinePerTagCombinationWithTagsAsDimensionsAndNonFiniteLeftOut()
    {
        MetricPoint[] points =
        [
            new("pipeline.retries", "{attempt}", null, MetricKind.Counter, [new("operation", "kinesis.PutRecords")], 3),
            new("pipeline.retry_give_ups", "{call}", null, MetricKind.Counter, [new("operation", "kinesis.PutRecords")], 1),
            new("pipeline.retries", "{attempt}", null, MetricKind.Counter, [new("operation", "xray.PutTraceSegments")], 2),
            new("pipeline.level", "s", null, MetricKind.Gauge, [], double.NaN),
        ];

        var lines = EmfWriter.Write("XRayPipeline", [new("Function", "ingest")], At, points).Select(l => JsonDocument.Parse(l)).ToList();

        lines.Should().HaveCount(2);
        var kinesis = lines[0].RootElement;
        kinesis.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0].GetProperty("Dimensions")[0].EnumerateArray().Select(d => d.GetString())
            .Should().Equal("Function", "operation");
        kinesis.GetProperty("operation").GetString().Should().Be("kinesis.PutRecords");
        kinesis.GetProperty("pipeline.retries").GetDouble().Should().Be(3);
        kinesis.GetProperty("pipeline.retry_give_ups").GetDouble().Should().Be(1);
        lines[1].RootElement.GetProperty("pipeline.retries").GetDouble().Should().Be(2);
        lines.ForEach(l => l.Dispose());
    }

    [Fact]
    public void Write_ManyPoints_SplitsIntoLinesOfAtMostTheLimit()
    {
        var points = Enumerable.Range(0, 250).Select(i => new MetricPoint("m" + i, null, null, MetricKind.Counter, [], i)).ToList();

        var lines = EmfWriter.Write("ns", [], At, points).ToList();

        lines.Select(l =>
        {
            using var document = JsonDocument.Parse(l);
            return document.RootElement.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0].GetProperty("Metrics").GetArrayLength();
        }).Should().Equal(100, 100, 50);
    }

    [Fact]
    public void Flush_SharedCountersMoved_WritesTheirDeltaOnceThenNothing()
    {
        var sink = new RecordingMetricsSink();
        using var publisher = new EmfPublisher([new(PipelineMetrics.FunctionDimension, "ingest")], sink, new FakeTimeProvider(At));
        var operation = nameof(Flush_SharedCountersMoved_WritesTheirDeltaOnceThenNothing);

        PipelineMetrics.Retries.Add(2, new KeyValuePair<string, object?>(PipelineMetrics.OperationTag, operation));
        publisher.Flush();
        publisher.Flush();

        // Other tests may move the shared counters at the same time: look at this test's operation only.
        var mine = sink.Lines.Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.TryGetProperty(PipelineMetrics.OperationTag, out var op) && op.GetString() == operation)
            .ToList();
        var line = mine.Should().ContainSingle().Subject;
        line.GetProperty("pipeline.retries").GetDouble().Should().Be(2);
        line.GetProperty(PipelineMetrics.FunctionDimension).GetString().Should().Be("ingest");
        line.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0].GetProperty("Namespace").GetString().Should().Be(PipelineMetrics.CloudWatchNamespace);
    }
}
