using Relay.Logging;
using Relay.Sending;
using Relay.Spool;
using Relay.Telemetry;

namespace Relay.Tests.Spool;

public sealed class SpoolDirectoryTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"relay-spool-{Guid.NewGuid():N}");
    private readonly RelayMetrics _metrics = new();

    public void Dispose()
    {
        if (Directory.Exists(_path))
        {
            Directory.Delete(_path, recursive: true);
        }
    }

    private SpoolDirectory Open(long maxBytes = 1024 * 1024) => new(_path, maxBytes, _metrics, JsonLog.Null);

    private static List<BatchEntry> Batch(int first, int count) =>
        [.. Enumerable.Range(first, count).Select(i => new BatchEntry($"key-{i}", i % 2 == 0 ? null : "12345", new[] { (byte)i, (byte)(i >> 8) }, i % 3 + 1))];

    [Fact]
    public void WriteThenPeek_RoundTripsEntriesInOrder()
    {
        var spool = Open();
        spool.TryWrite(Batch(0, 3)).Should().Be(SpoolWrite.Written);
        spool.TryWrite(Batch(3, 2)).Should().Be(SpoolWrite.Written);

        var oldest = spool.PeekOldest()!;

        oldest.Corrupt.Should().BeFalse();
        oldest.Entries.Select(e => (e.PartitionKey, e.ExplicitHashKey, e.Data.ToArray().Length, e.Segments))
            .Should().Equal(Batch(0, 3).Select(e => (e.PartitionKey, e.ExplicitHashKey, 2, e.Segments)));
        oldest.Segments.Should().Be(Batch(0, 3).Sum(e => e.Segments));
        spool.FileCount.Should().Be(2);
        _metrics.SpoolBytes.Should().Be(spool.Bytes).And.BeGreaterThan(0);
    }

    [Fact]
    public void RemoveOldest_AdvancesToTheNextBatch()
    {
        var spool = Open();
        spool.TryWrite(Batch(0, 1));
        spool.TryWrite(Batch(1, 1));

        spool.RemoveOldest();

        spool.PeekOldest()!.Entries.Single().PartitionKey.Should().Be("key-1");
        Directory.EnumerateFiles(_path).Should().ContainSingle();
    }

    [Fact]
    public void ReplaceOldest_KeepsOnlyTheUnsentPartAtTheHead()
    {
        var spool = Open();
        spool.TryWrite(Batch(0, 4));
        spool.TryWrite(Batch(4, 1));

        spool.ReplaceOldest(Batch(2, 2));

        spool.PeekOldest()!.Entries.Select(e => e.PartitionKey).Should().Equal("key-2", "key-3");
        spool.RemoveOldest();
        spool.PeekOldest()!.Entries.Single().PartitionKey.Should().Be("key-4");
    }

    [Fact]
    public void Reopen_FindsBatchesInOrderAndContinuesNumbering()
    {
        var first = Open();
        first.TryWrite(Batch(0, 1));
        first.TryWrite(Batch(1, 1));

        var second = Open();
        second.TryWrite(Batch(2, 1));

        second.FileCount.Should().Be(3);
        var keys = new List<string>();
        while (second.PeekOldest() is { } batch)
        {
            keys.Add(batch.Entries.Single().PartitionKey);
            second.RemoveOldest();
        }

        keys.Should().Equal("key-0", "key-1", "key-2");
    }

    [Fact]
    public void TryWrite_OverTheCap_RefusesAndWritesNothing()
    {
        var spool = Open(maxBytes: 300);
        spool.TryWrite(Batch(0, 5)).Should().Be(SpoolWrite.Written);

        spool.TryWrite(Batch(5, 20)).Should().Be(SpoolWrite.Full);

        spool.FileCount.Should().Be(1);
        spool.Bytes.Should().BeLessThanOrEqualTo(300);
    }

    [Fact]
    public void PeekOldest_DamagedFile_IsReportedCorrupt()
    {
        var spool = Open();
        spool.TryWrite(Batch(0, 3));
        var file = Directory.EnumerateFiles(_path, "*.spool").Single();
        var bytes = File.ReadAllBytes(file);
        bytes[20] ^= 0x55;
        File.WriteAllBytes(file, bytes);

        var oldest = spool.PeekOldest()!;

        oldest.Corrupt.Should().BeTrue();
        oldest.Segments.Should().Be(Batch(0, 3).Sum(e => e.Segments), "the file's name counts the segments its damaged content lost");
    }

    [Fact]
    public void PeekOldest_TruncatedFileAfterARestart_StillCountsItsSegments()
    {
        var spool = Open();
        spool.TryWrite(Batch(0, 4));
        File.WriteAllBytes(Directory.EnumerateFiles(_path, "*.spool").Single(), []);

        var reopened = Open();

        reopened.PeekOldest()!.Segments.Should().Be(Batch(0, 4).Sum(e => e.Segments));
    }

    [Fact]
    public void ReplaceOldest_RenamesTheFileForWhatIsLeft()
    {
        var spool = Open();
        spool.TryWrite(Batch(0, 4));

        spool.ReplaceOldest(Batch(2, 2));

        Directory.EnumerateFiles(_path, "*.spool").Should().ContainSingle().Which.Should().EndWith($"-{Batch(2, 2).Sum(e => e.Segments)}.spool");
        spool.PeekOldest()!.Segments.Should().Be(Batch(2, 2).Sum(e => e.Segments));
    }

    [Fact]
    public void Open_UnwritableDirectory_IsAnErrorNamingIt()
    {
        Directory.CreateDirectory(_path);
        var file = Path.Combine(_path, "not-a-directory");
        File.WriteAllText(file, "x");

        var act = () => new SpoolDirectory(Path.Combine(file, "spool"), 1 << 20, _metrics, Relay.Logging.JsonLog.Null);

        act.Should().Throw<SpoolUnavailableException>().WithMessage("spool directory */not-a-directory/spool is not writable*");
    }

    [Fact]
    public void Open_LeftoverTempFiles_AreRemoved()
    {
        Directory.CreateDirectory(_path);
        File.WriteAllText(Path.Combine(_path, "00000000000000000001.spool.tmp"), "half");

        var spool = Open();

        spool.FileCount.Should().Be(0);
        Directory.EnumerateFiles(_path).Should().BeEmpty();
    }

    [Fact]
    public void Decode_TruncatedContent_IsNull()
    {
        var content = SpoolDirectory.Encode(Batch(0, 2));

        SpoolDirectory.Decode(content[..^1]).Should().BeNull();
        SpoolDirectory.Decode(content)!.Should().HaveCount(2);
    }
}
