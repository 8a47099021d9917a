using System.Text;
using Relay.Buffering;
using Relay.Receive;
using Relay.Telemetry;
using Relay.Tests.Support;

namespace Relay.Tests.Receive;

public sealed class SegmentIntakeTests
{
    private readonly RelayMetrics _metrics = new();

    [Fact]
    public void Accept_GoodDatagram_BuffersDocumentKeyedByTraceId()
    {
        var buffer = new RecordBuffer(1024 * 1024, _metrics);
        var intake = new SegmentIntake(buffer, _metrics);
        var traceId = Segments.TraceId(1);

        intake.Accept(Segments.Datagram(traceId, 1)).Should().BeTrue();

        buffer.Reader.TryRead(out var record).Should().BeTrue();
        record.PartitionKey.Should().Be(traceId);
        Encoding.UTF8.GetString(record.Span).Should().Be(Segments.Document(traceId, 1));
        _metrics.Accepted.Should().Be(1);
        buffer.Bytes.Should().Be(record.Length + RecordBuffer.PerRecordOverhead);
        buffer.Release(record);
        buffer.Bytes.Should().Be(0);
    }

    [Theory]
    [InlineData("", DropReason.EmptyDatagram)]
    [InlineData("{\"trace_id\":\"1-5f84c7a4-000000000000000000000001\"}", DropReason.MissingHeader)]
    [InlineData("{\"format\":\"xml\",\"version\":1}\n{}", DropReason.BadHeader)]
    [InlineData("{\"format\":\"json\",\"version\":1}\n   ", DropReason.EmptyBody)]
    public void Accept_BadDatagram_IsDroppedAndCountedByReason(string datagram, DropReason reason)
    {
        var buffer = new RecordBuffer(1024 * 1024, _metrics);
        var intake = new SegmentIntake(buffer, _metrics);

        intake.Accept(Encoding.UTF8.GetBytes(datagram)).Should().BeFalse();

        _metrics.Dropped(reason).Should().Be(1);
        _metrics.DroppedTotal.Should().Be(1);
        _metrics.Received.Should().Be(1);
        buffer.Reader.TryRead(out _).Should().BeFalse();
    }

    [Fact]
    public void Accept_Oversize_IsDroppedAsOversize()
    {
        var intake = new SegmentIntake(new RecordBuffer(1024 * 1024, _metrics), _metrics);

        intake.Accept(Segments.Datagram(Segments.TraceId(1), 1, padding: 70_000)).Should().BeFalse();

        _metrics.Dropped(DropReason.Oversize).Should().Be(1);
    }

    [Fact]
    public void Accept_BufferFull_DropsNewestAndCounts()
    {
        var one = Segments.Datagram(Segments.TraceId(1), 1, padding: 400);
        var buffer = new RecordBuffer(2 * (one.Length + RecordBuffer.PerRecordOverhead), _metrics);
        var intake = new SegmentIntake(buffer, _metrics);

        var accepted = Enumerable.Range(0, 5).Count(i => intake.Accept(Segments.Datagram(Segments.TraceId(i), i, padding: 400)));

        accepted.Should().Be(2);
        _metrics.Dropped(DropReason.BufferFull).Should().Be(3);
        buffer.Reader.TryRead(out var first).Should().BeTrue();
        first.PartitionKey.Should().Be(Segments.TraceId(0), "the oldest segments are kept, the newest dropped");
    }

    [Fact]
    public void Accept_NoTraceId_IsForwardedUnderAnUntracedKeyAndCounted()
    {
        var buffer = new RecordBuffer(1024 * 1024, _metrics);
        var intake = new SegmentIntake(buffer, _metrics);

        intake.Accept("{\"format\":\"json\",\"version\":1}\n{\"name\":\"x\"}"u8).Should().BeTrue();

        buffer.Reader.TryRead(out var record).Should().BeTrue();
        record.PartitionKey.Should().StartWith("untraced-");
        _metrics.WithoutTraceId.Should().Be(1);
    }

    [Fact]
    public void Accept_SameTraceTwice_ReusesThePartitionKeyString()
    {
        var buffer = new RecordBuffer(1024 * 1024, _metrics);
        var intake = new SegmentIntake(buffer, _metrics);
        var traceId = Segments.TraceId(9);

        intake.Accept(Segments.Datagram(traceId, 1));
        intake.Accept(Segments.Datagram(traceId, 2));

        buffer.Reader.TryRead(out var a).Should().BeTrue();
        buffer.Reader.TryRead(out var b).Should().BeTrue();
        ReferenceEquals(a.PartitionKey, b.PartitionKey).Should().BeTrue();
    }
}
