using System.CommandLine;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Http;
using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;
using Pipeline.Core.Archive;
using Pipeline.Core.Traces;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.Cli.Tests.Trace;

/// <summary>
/// `pipeline index` and `pipeline trace` through the index: the lookup opens the index and the
/// objects it names, finds the same trace as without it, and still reads whatever the index does
/// not cover (an object archived or rewritten after the build, an unreadable index). Each test
/// has its own archive: indexes are written into it.
/// </summary>
public sealed class TraceIndexCommandTests : IDisposable
{
    private static readonly HttpClient Http = AwsHttp.CreateClient();
    private readonly TraceTestArchive _archive = new();

    public void Dispose() => _archive.Dispose();

    [Fact]
    public async Task Index_ThenTrace_ReadsTheIndexAndOnlyTheTracesObjects_SameSpansAsAScan()
    {
        var (_, scanned, scanError) = await InvokeAsync("trace", TraceTestArchive.Faulted, "--data-dir", _archive.Root, "--format", "json");
        scanError.Should().Contain("no trace index for 2026-11-25 07..08h");

        var (code, output, error) = await InvokeAsync("index", "--data-dir", _archive.Root);
        code.Should().Be(0, error);
        // 06h: the late trace and noise; 07h and 08h: one object each of the faulted trace (it straddles the hour).
        output.Should().Contain("trace-index/dt=2026-11-25/hour=06/index.tsv.gz: 2 objects")
            .And.Contain("trace-index/dt=2026-11-25/hour=07/index.tsv.gz: 1 objects")
            .And.Contain("trace-index/dt=2026-11-25/hour=08/index.tsv.gz: 1 objects");

        var (traceCode, indexed, traceError) = await InvokeAsync("trace", TraceTestArchive.Faulted, "--data-dir", _archive.Root, "--format", "json");
        traceCode.Should().Be(0, traceError);
        traceError.Should().NotContain("no trace index");
        Spans(indexed).Should().Equal(Spans(scanned));
        var hour07 = Path.Combine(_archive.Root, ArchiveKeys.SegmentsHourPrefix(TraceTestArchive.FaultedStart));
        var indexBytes = new FileInfo(Path.Combine(_archive.Root, TraceIndex.Key(new ArchiveHour(TraceTestArchive.FaultedStart)))).Length
            + new FileInfo(Path.Combine(_archive.Root, TraceIndex.Key(new ArchiveHour(TraceTestArchive.FaultedStart.AddHours(1))))).Length;
        var traceObjects = new DirectoryInfo(hour07).EnumerateFiles().Sum(f => f.Length)
            + new DirectoryInfo(Path.Combine(_archive.Root, ArchiveKeys.SegmentsHourPrefix(TraceTestArchive.FaultedStart.AddHours(1)))).EnumerateFiles().Sum(f => f.Length);
        using var json = JsonDocument.Parse(indexed);
        json.RootElement.GetProperty("read").GetProperty("bytes_read").GetInt64().Should().Be(indexBytes + traceObjects);

        var (_, again, _) = await InvokeAsync("index", "--data-dir", _archive.Root);
        again.Should().Contain("trace-index/dt=2026-11-25/hour=06/index.tsv.gz: current (2 objects)");
    }

    [Fact]
    public async Task Trace_IndexBuiltBeforeAnObjectArrived_StillReadsThatObject()
    {
        (await InvokeAsync("index", "--data-dir", _archive.Root)).Code.Should().Be(0);
        // A late segment of the faulted trace in a new batch of the same hour, after the index was built.
        var late = SegmentBuilder.Segment("late-service", seed: 77, TraceTestArchive.FaultedStart.AddMilliseconds(100))
            .WithTraceId(TraceTestArchive.Faulted).WithParentId(DemoTrace.SegmentA).WithDuration(TimeSpan.FromMilliseconds(5)).ToJson();
        Write(ArchiveKeys.Segments("shardId-000000000001", "999", TraceTestArchive.FaultedStart.AddSeconds(1)), late);

        var (code, output, error) = await InvokeAsync("trace", TraceTestArchive.Faulted, "--data-dir", _archive.Root);

        code.Should().Be(0, error);
        output.Should().Contain("late-service").And.Contain("3 segment(s)");
    }

    [Fact]
    public async Task Trace_ObjectRewrittenLongerAfterTheIndex_IsReadAgain()
    {
        (await InvokeAsync("index", "--data-dir", _archive.Root)).Code.Should().Be(0);
        // A retried batch rewrites its object longer: the index's size no longer matches, so the object is read.
        var key = ArchiveKeys.Segments("shardId-000000000000", "7", TraceTestArchive.FaultedStart.AddHours(-1));
        var retried = SegmentBuilder.Segment("retried-service", seed: 78, TraceTestArchive.FaultedStart.AddMilliseconds(50))
            .WithTraceId(TraceTestArchive.Faulted).WithParentId(DemoTrace.SegmentA).WithDuration(TimeSpan.FromMilliseconds(5)).ToJson();
        var path = Path.Combine(_archive.Root, key);
        var lines = Encoding.UTF8.GetString(ArchiveObjects.Gunzip(File.ReadAllBytes(path))).TrimEnd('\n').Split('\n');
        Write(key, [.. lines, retried]);

        var (code, output, error) = await InvokeAsync("trace", TraceTestArchive.Faulted, "--data-dir", _archive.Root, "--from", "2026-11-25T06:00Z", "--to", "2026-11-25T08:30Z");

        code.Should().Be(0, error);
        output.Should().Contain("retried-service");
    }

    [Fact]
    public async Task Trace_UnreadableIndex_ReadsTheHourWhole()
    {
        (await InvokeAsync("index", "--data-dir", _archive.Root)).Code.Should().Be(0);
        await File.WriteAllTextAsync(Path.Combine(_archive.Root, TraceIndex.Key(new ArchiveHour(TraceTestArchive.FaultedStart))), "garbage", TestContext.Current.CancellationToken);

        var (code, output, error) = await InvokeAsync("trace", TraceTestArchive.Faulted, "--data-dir", _archive.Root);

        code.Should().Be(0, error);
        error.Should().Contain("no trace index for 2026-11-25 07h");
        output.Should().Contain("2 segment(s), 5 span(s)");
    }

    [Fact]
    public async Task Index_BadHour_IsAUserError()
    {
        var (code, _, error) = await InvokeAsync("index", "--data-dir", _archive.Root, "--dt", "2026-11-25", "--hour", "24");
        code.Should().Be(1);
        error.Should().Contain("--hour '24' is not 00-23");
    }

    private static List<string> Spans(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("spans").EnumerateArray()
            .Select(s => $"{s.GetProperty("id").GetString()} {s.GetProperty("depth").GetInt32()} {s.GetProperty("duration_ms").GetDouble()}").ToList();
    }

    private void Write(string key, params string[] lines)
    {
        var path = Path.Combine(_archive.Root, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
    }

    private static async Task<(int Code, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var context = new QueryCommandContext(new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero)), new DictionaryEnvironment([]), Http, RepoPaths.Root, outputIsTerminal: false);
        var root = new RootCommand("pipeline") { TraceCommand.Create(new TraceCommandContext(context)), IndexCommand.Create(context) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }
}
