using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Cli.Send;
using Pipeline.Core.Segments;

namespace Pipeline.Cli.Tests.Local;

/// <summary>`pipeline send`'s generated documents, checked with the ingest's own validator.</summary>
public sealed class SyntheticTracesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Trace_IsValid_AndEachServiceIsTheChildOfItsCallersSubsegment(int services)
    {
        var generator = new SyntheticTraces(new Random(7), new FakeTimeProvider(Now));

        var documents = generator.Trace(services, fault: true);

        documents.Should().HaveCount(services);
        var parsed = documents.Select(d => JsonDocument.Parse(d).RootElement).ToList();
        foreach (var document in documents)
        {
            var result = SegmentValidator.ParseAndValidate(document, Now);
            result.IsOk.Should().BeTrue(result.Rejection.Reason.ToString());
        }

        parsed.Select(p => p.GetProperty("trace_id").GetString()).Distinct().Should().ContainSingle();
        parsed[0].TryGetProperty("parent_id", out _).Should().BeFalse("the first service is the root");
        for (var k = 1; k < services; k++)
        {
            var callId = parsed[k - 1].GetProperty("subsegments")[0].GetProperty("id").GetString();
            parsed[k].GetProperty("parent_id").GetString().Should().Be(callId);
            parsed[k].GetProperty("name").GetString().Should().Be($"svc-{k}");
        }

        parsed[^1].GetProperty("fault").GetBoolean().Should().BeTrue();
        parsed[^1].GetProperty("http").GetProperty("response").GetProperty("status").GetInt32().Should().Be(500);
    }

    [Theory]
    [InlineData(nameof(InvalidKind.MissingName), SegmentRejectReason.MissingName)]
    [InlineData(nameof(InvalidKind.BadId), SegmentRejectReason.InvalidId)]
    [InlineData(nameof(InvalidKind.NoEndTime), SegmentRejectReason.MissingEndTime)]
    public void Invalid_IsRejectedForItsReason(string kind, SegmentRejectReason expected)
    {
        var generator = new SyntheticTraces(new Random(7), new FakeTimeProvider(Now));

        var result = SegmentValidator.ParseAndValidate(generator.Invalid(Enum.Parse<InvalidKind>(kind)), Now);

        result.IsOk.Should().BeFalse();
        result.Rejection.Reason.Should().Be(expected);
    }

    [Fact]
    public void NewTraceId_CarriesTheClockAndIsUniquePerCall()
    {
        var generator = new SyntheticTraces(new Random(7), new FakeTimeProvider(Now));

        var ids = Enumerable.Range(0, 100).Select(_ => generator.NewTraceId()).ToList();

        ids.Should().OnlyHaveUniqueItems().And.AllSatisfy(id => id.Should().MatchRegex("^1-[0-9a-f]{8}-[0-9a-f]{24}$").And.StartWith($"1-{Now.ToUnixTimeSeconds():x8}-"));
    }
}
