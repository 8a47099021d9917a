using System.Text;
using Pipeline.Core.Wire;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Wire;

public sealed class DatagramTests
{
    [Fact]
    public void TrySplit_SdkDatagram_ReturnsTheDocument()
    {
        var doc = SegmentBuilder.Segment().ToJson();
        var datagram = Encoding.UTF8.GetBytes(SegmentBuilder.DaemonHeader + "\n" + doc);

        Datagram.TrySplit(datagram, out var body).Should().Be(DatagramReject.None);

        Encoding.UTF8.GetString(datagram.AsSpan()[body]).Should().Be(doc);
    }

    [Fact]
    public void TryGetDocument_Memory_ReturnsASliceOfTheDatagram()
    {
        ReadOnlyMemory<byte> datagram = SegmentBuilder.Segment().ToDatagram();

        Datagram.TryGetDocument(datagram, out var document).Should().Be(DatagramReject.None);

        document.Span[0].Should().Be((byte)'{');
        Encoding.UTF8.GetString(document.Span).Should().Be(SegmentBuilder.Segment().ToJson());
        Datagram.TryGetDocument(ReadOnlyMemory<byte>.Empty, out var none).Should().Be(DatagramReject.Empty);
        none.IsEmpty.Should().BeTrue();
    }

    [Theory]
    [InlineData("{\"format\": \"json\", \"version\": 1}\n{\"a\":1}\n", "{\"a\":1}")]
    [InlineData(" {\"format\":\"json\",\"version\":1}\r\n  {\"a\":1}", "{\"a\":1}")]
    public void TrySplit_TolerableWhitespace_TrimmedAroundBody(string datagram, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(datagram);

        Datagram.TrySplit(bytes, out var body).Should().Be(DatagramReject.None);
        Encoding.UTF8.GetString(bytes.AsSpan()[body]).Should().Be(expected);
    }

    [Theory]
    [InlineData("", DatagramReject.Empty)]
    [InlineData("{\"a\":1}", DatagramReject.MissingHeader)]
    [InlineData("{\"format\":\"json\",\"version\":2}\n{}", DatagramReject.BadHeader)]
    [InlineData("{\"version\":1,\"format\":\"json\"}\n{}", DatagramReject.BadHeader)]
    [InlineData("{\"format\":\"json\",\"version\":1}\n", DatagramReject.EmptyBody)]
    [InlineData("{\"format\":\"json\",\"version\":1}\n \r\n ", DatagramReject.EmptyBody)]
    public void TrySplit_BadFraming_Rejected(string datagram, DatagramReject reason)
    {
        Datagram.TrySplit(Encoding.UTF8.GetBytes(datagram), out _).Should().Be(reason);
    }

    [Fact]
    public void TrySplit_OverMaxSize_RejectedAsOversize()
    {
        var bytes = new byte[Datagram.MaxDatagramBytes + 1];

        Datagram.TrySplit(bytes, out _).Should().Be(DatagramReject.Oversize);
    }

    [Fact]
    public void TrySplit_LongGarbageHeader_RejectedWithoutOverflow()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('x', 500) + "\n{}");

        Datagram.TrySplit(bytes, out _).Should().Be(DatagramReject.BadHeader);
    }

    [FsCheck.Xunit.Property(MaxTest = 500)]
    public bool TrySplit_ArbitraryBytes_NeverThrowsAndBodyIsInRange(byte[] bytes)
    {
        var reject = Datagram.TrySplit(bytes, out var body);
        var (offset, length) = body.GetOffsetAndLength(bytes.Length);
        return reject != DatagramReject.None || (length > 0 && offset + length <= bytes.Length);
    }
}
