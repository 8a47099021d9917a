using System.Text;
using System.Text.Json;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest.Stages;

public sealed class ValidateStageTests
{
    [Fact]
    public async Task Validate_ValidAndInvalid_ValidKeptInOrderInvalidQuarantinedWithReasonAndOriginal()
    {
        var good = IngestHarness.Segments(2);
        var bad = SegmentBuilder.Segment(seed: 9).WithTraceId("1-nothex!-000000000000000000000000").ToUtf8();

        var batch = await StageBatches.ValidatedAsync(good[0].ToUtf8(), bad, good[1].ToUtf8());

        batch.Valid.Select(v => Encoding.UTF8.GetString(v.Document.Span)).Should().Equal(good.Select(s => s.ToJson()));
        batch.Valid.Select(v => v.TraceKey).Should().Equal(good.Select(s => s.TraceId.ToLowerInvariant()));
        using var line = JsonDocument.Parse(batch.QuarantineLines.ToArray());
        line.RootElement.GetProperty("reason").GetString().Should().Be("invalid_trace_id");
        line.RootElement.GetProperty("path").GetString().Should().Be("$.trace_id");
        line.RootElement.GetProperty("sequence_number").GetString().Should().Be(IngestHarness.Sequence(1));
        line.RootElement.GetProperty("original_base64").GetBytesFromBase64().Should().Equal(bad);
        (batch.Metrics.SegmentsIn, batch.Metrics.SegmentsValid, batch.Metrics.SegmentsInvalid).Should().Be((3, 2, 1));
    }

    [Fact]
    public async Task Validate_SecretHeader_RedactedDocumentAndCounted()
    {
        var segment = SegmentBuilder.Segment(seed: 10).WithHttp("GET", "https://api.example.com/x", 200, new Dictionary<string, string> { ["Authorization"] = "Bearer s3cr3t" });

        var batch = await StageBatches.ValidatedAsync(segment.ToUtf8());

        Encoding.UTF8.GetString(batch.Valid.Should().ContainSingle().Subject.Document.Span).Should().NotContain("s3cr3t").And.Contain("REDACTED");
        batch.Metrics.SegmentsRedacted.Should().Be(1);
    }
}
