using Pipeline.Core.Archive;
using Pipeline.Core.Usage;

namespace Pipeline.Core.Tests.Cost;

public sealed class UsageRecorderTests
{
    private static readonly DateTimeOffset Arrival = new(2026, 11, 25, 9, 30, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(25 * 1024, 1)]
    [InlineData((25 * 1024) + 1, 2)]
    [InlineData(1024 * 1024, 41)]
    public void PayloadUnits_RoundsUpTo25KbChunks(long bytes, long units) =>
        UsageRecorder.PayloadUnits(bytes).Should().Be(units);

    [Fact]
    public void ToRecord_CountsWhatWasAdded()
    {
        var recorder = new UsageRecorder();
        recorder.AddKinesisRecord(1500);
        recorder.AddKinesisRecord(30 * 1024);
        recorder.AddInvalidSegment();
        recorder.AddValidSegment("web", kept: true);
        recorder.AddValidSegment("db", kept: false);
        recorder.AddTrace(KeepReason.TailFault);
        recorder.AddTrace(null);
        recorder.AddServiceTrace("web", KeepReason.TailFault);
        recorder.AddServiceTrace("db", null);
        recorder.AddXRayPut(1);
        recorder.AddArchivedBytes(900);
        recorder.AddS3Put();

        var record = recorder.ToRecord("shardId-000000000001", "42", "43", Arrival, 120, 1024);

        record.KinesisRecords.Should().Be(2);
        record.KinesisPayloadUnits.Should().Be(3);
        record.KinesisBilledKb.Should().Be(2 + 30);
        record.BytesIn.Should().Be(1500 + (30 * 1024));
        (record.SegmentsIn, record.SegmentsValid, record.SegmentsInvalid, record.SegmentsKept).Should().Be((3L, 2L, 1L, 1L));
        (record.TracesSeen, record.TracesKept).Should().Be((2L, 1L));
        record.KeptByReason.Should().Be(new KeptByReason { TailFault = 1 });
        record.Services.Select(s => s.Name).Should().Equal("db", "web");
        record.Services[1].Kept.TailFault.Should().Be(1);
        ArchiveKeys.Usage(record.Shard, record.FirstSequence, record.ArrivedAt).Should().Be("usage/dt=2026-11-25/shardId-000000000001-42.json");
    }

    [Fact]
    public void ToRecord_ManyServices_FoldsPastTheBoundWithACount()
    {
        var recorder = new UsageRecorder();
        for (var i = 0; i < UsageRecorder.MaxServices + 3; i++)
        {
            recorder.AddValidSegment($"svc-{i:D4}", kept: false);
        }

        var record = recorder.ToRecord("s", "1", "1", Arrival, 1, 128);

        record.Services.Should().HaveCount(UsageRecorder.MaxServices + 1);
        record.Services.Single(s => s.Name == UsageRecorder.OtherServices).Segments.Should().Be(3);
        recorder.ServicesFolded.Should().Be(3);
    }

    [Fact]
    public void Json_RoundTrips_AndTheSameRecordWritesTheSameBytes()
    {
        var recorder = new UsageRecorder();
        recorder.AddValidSegment("web", kept: true);
        recorder.AddTrace(KeepReason.Head);
        var record = recorder.ToRecord("s", "1", "2", Arrival, 5, 256);

        var bytes = UsageJson.Serialize(record);
        var back = UsageJson.TryDeserialize(bytes);

        back.Should().BeEquivalentTo(record);
        UsageJson.Serialize(back!).Should().Equal(bytes);
        System.Text.Encoding.UTF8.GetString(bytes).Should().Contain("\"first_sequence\":\"1\"").And.Contain("\"tail_slow\":0")
            .And.Contain("\"segments_in\":1").And.Contain("\"traces_seen\":1").And.Contain("\"bytes_archived\":0")
            .And.Contain("\"xray_put_calls\":0").And.NotContain("\n");
    }
}
