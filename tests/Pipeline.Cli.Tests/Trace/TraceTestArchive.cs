using System.IO.Compression;
using System.Text;
using Pipeline.Core.Archive;
using Pipeline.Testing.Builders;

namespace Pipeline.Cli.Tests.Trace;

/// <summary>
/// An archive directory in the ingest's layout holding demo-like traces: <see cref="Faulted"/>
/// archived in the hour of its epoch (service-a's object) and the next (service-b's segment,
/// whose batch began after the hour turned); <see cref="Late"/> archived three hours after its
/// epoch (an ingest that was behind), so the first round misses it; plus unrelated traffic.
/// </summary>
public sealed class TraceTestArchive : IDisposable
{
    /// <summary>Epoch of the faulted trace: 07:59:58, so it straddles the hour.</summary>
    public static readonly DateTimeOffset FaultedStart = new(2026, 11, 25, 7, 59, 58, TimeSpan.Zero);

    public static readonly DateTimeOffset LateStart = new(2026, 11, 25, 3, 30, 0, TimeSpan.Zero);

    public static readonly string Faulted = DemoTrace.TraceId(FaultedStart);

    public static readonly string Late = DemoTrace.TraceId(LateStart, seed: 7);

    /// <summary>A well-formed id with a plausible epoch that is in no object.</summary>
    public static readonly string Missing = DemoTrace.TraceId(FaultedStart, seed: 99);

    public TraceTestArchive()
    {
        Root = Path.Combine(Path.GetTempPath(), "pipeline-trace-tests-" + Guid.NewGuid().ToString("N"));
        var faulted = DemoTrace.Documents(FaultedStart, Faulted);
        var late = DemoTrace.Documents(LateStart, Late);
        var noise = Enumerable.Range(0, 50).Select(i => SegmentBuilder.Segment("noise", seed: 100 + i, FaultedStart.AddMinutes(-i)).ToJson()).ToList();
        Write(ArchiveKeys.Segments("shardId-000000000000", "1", FaultedStart), [faulted[0], faulted[2], .. noise[..25]]);
        Write(ArchiveKeys.Segments("shardId-000000000001", "5", FaultedStart.AddSeconds(3)), [faulted[1], .. noise[25..]]);
        Write(ArchiveKeys.Segments("shardId-000000000000", "90", LateStart.AddHours(3)), late);
        Write(ArchiveKeys.Segments("shardId-000000000000", "7", FaultedStart.AddHours(-1)), noise);
    }

    public string Root { get; }

    /// <summary>Bytes of the objects in one hour partition.</summary>
    public long HourBytes(DateTimeOffset hour)
    {
        var dir = Path.Combine(Root, ArchiveKeys.SegmentsHourPrefix(hour));
        return Directory.Exists(dir) ? new DirectoryInfo(dir).EnumerateFiles().Sum(f => f.Length) : 0;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }

    private void Write(string key, IEnumerable<string> lines)
    {
        var path = Path.Combine(Root, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
    }
}
