using System.Text;
using Pipeline.Core.Wire;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Wire;

public sealed class TraceIdSnifferTests
{
    [Fact]
    public void Find_TopLevelTraceId_Found()
    {
        var builder = SegmentBuilder.Segment();

        Encoding.ASCII.GetString(TraceIdSniffer.Find(builder.ToUtf8())).Should().Be(builder.TraceId);
    }

    [Fact]
    public void Find_NestedTraceIdBeforeTopLevel_IgnoresTheNestedOne()
    {
        var doc = """{"metadata":{"trace_id":"1-11111111-111111111111111111111111"},"note":"\"trace_id\": x","trace_id" : "1-5759e988-bd862e3fe1be46a994272793"}"""u8;

        Encoding.ASCII.GetString(TraceIdSniffer.Find(doc)).Should().Be("1-5759e988-bd862e3fe1be46a994272793");
    }

    [Theory]
    [InlineData("""{"id":"a"}""")]
    [InlineData("""{"trace_id":"1-5759e988-bd862e3fe1be46a99427279s"}""")]
    [InlineData("""{"trace_id":5577006791947779410}""")]
    [InlineData("""{"trace_id":"1-5759e988-bd862e3fe1be46a994272793""")]
    [InlineData("""[{"trace_id":"1-5759e988-bd862e3fe1be46a994272793"}]""")]
    public void Find_NoWellFormedTopLevelTraceId_ReturnsEmpty(string doc)
    {
        TraceIdSniffer.Find(Encoding.UTF8.GetBytes(doc)).IsEmpty.Should().BeTrue();
    }

    [Theory]
    [InlineData("1-5759e988-bd862e3fe1be46a994272793", true)]
    [InlineData("1-5759E988-BD862E3FE1BE46A994272793", true)]
    [InlineData("2-5759e988-bd862e3fe1be46a994272793", false)]
    [InlineData("1-5759e988_bd862e3fe1be46a994272793", false)]
    [InlineData("1-5759e988-bd862e3fe1be46a99427279", false)]
    public void IsWellFormed_ChecksVersionDashesAndHex(string traceId, bool expected)
    {
        TraceIdSniffer.IsWellFormed(Encoding.ASCII.GetBytes(traceId)).Should().Be(expected);
    }

    [FsCheck.Xunit.Property(MaxTest = 500)]
    public bool Find_ArbitraryBytes_NeverThrowsAndOnlyReturnsWellFormedIds(byte[] bytes)
    {
        var found = TraceIdSniffer.Find(bytes);
        return found.IsEmpty || TraceIdSniffer.IsWellFormed(found);
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public bool Find_AgreesWithTheParserOnGeneratedSegments(int seed)
    {
        var builder = SegmentBuilder.Segment(seed: seed == int.MinValue ? 0 : Math.Abs(seed)).WithMetadata("m", "trace_id", "1-11111111-111111111111111111111111");
        var doc = builder.ToUtf8();
        var parsed = Pipeline.Core.Segments.SegmentParser.Parse(doc).Segment!;
        return TraceIdSniffer.Find(doc).SequenceEqual(parsed.TraceId);
    }
}
