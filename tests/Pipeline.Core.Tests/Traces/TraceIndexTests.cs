using System.Text;
using Pipeline.Core.Archive;
using Pipeline.Core.Traces;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Traces;

public sealed class TraceIndexTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 7, 15, 0, TimeSpan.Zero);
    private static readonly string A = DemoTrace.TraceId(Start, seed: 1);
    private static readonly string B = DemoTrace.TraceId(Start, seed: 2);
    private static readonly string C = DemoTrace.TraceId(Start, seed: 3);

    [Fact]
    public void Build_ObjectsOf_NamesExactlyTheObjectsHoldingTheTrace()
    {
        var first = Gzip(Doc(A, 1), Doc(B, 2));
        var second = Gzip(Doc(B, 3), "not json at all", "{\"metadata\":{\"trace_id\":\"" + C + "\"}}");
        var index = TraceIndex.TryParse(TraceIndex.Build([("segments/k2", second.Length, second), ("segments/k1", first.Length, first)]))!;

        index.Objects.Should().Equal(new IndexedObject("segments/k1", first.Length), new IndexedObject("segments/k2", second.Length));
        index.ObjectsOf(A).Should().Equal(0);
        index.ObjectsOf(B).Should().Equal(0, 1);
        index.ObjectsOf(C).Should().BeEmpty("only a top-level trace_id makes a line part of a trace");
        index.ObjectsOf(DemoTrace.TraceId(Start, seed: 4)).Should().BeEmpty();
    }

    [Fact]
    public void Build_UppercaseTraceIdInADocument_IsFoundByTheNormalisedId()
    {
        var stored = Gzip(Doc(A.ToUpperInvariant(), 1));
        var index = TraceIndex.TryParse(TraceIndex.Build([("segments/k", stored.Length, stored)]))!;

        TraceIds.TryNormalize(A.ToUpperInvariant(), out var id).Should().BeTrue();
        index.ObjectsOf(id).Should().Equal(0);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# pipeline trace-index v0\n")]
    [InlineData("# pipeline trace-index v1\no twelve segments/k\n")]
    [InlineData("# pipeline trace-index v1\no 12")]
    public void TryParse_NotAnIndex_IsNull(string text)
    {
        using var gz = ArchiveObjects.Gzip(Encoding.UTF8.GetBytes(text));
        TraceIndex.TryParse(gz.WrittenSpan.ToArray()).Should().BeNull();
    }

    [Fact]
    public void TryParse_TruncatedGzip_IsNull()
    {
        var stored = TraceIndex.Build([("segments/k", 3, Gzip(Doc(A, 1)))]);
        TraceIndex.TryParse(stored[..(stored.Length / 2)]).Should().BeNull();
    }

    [Fact]
    public void Key_IsOutsideTheSegmentsTable()
    {
        var key = TraceIndex.Key(new ArchiveHour(Start));
        key.Should().Be("trace-index/dt=2026-11-25/hour=07/index.tsv.gz");
        key.Should().NotStartWith(ArchiveKeys.SegmentsPrefix);
    }

    private static string Doc(string traceId, int seed) =>
        SegmentBuilder.Segment("svc", seed, Start).WithTraceId(traceId).ToJson();

    private static byte[] Gzip(params string[] lines)
    {
        using var gz = ArchiveObjects.Gzip(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
        return gz.WrittenSpan.ToArray();
    }
}
