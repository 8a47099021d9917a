using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws.Storage;
using Pipeline.Cli.Graph;
using Pipeline.Core.Graph;
using Pipeline.Core.Query;
using Pipeline.Functions.ServiceGraph;

namespace Pipeline.Bench;

/// <summary>
/// A synthetic archive of the service graph's shape for the benches: traces of two segments
/// (service-a: a handler subsegment holding an HTTP call to service-b, and a DynamoDB call;
/// service-b: an untraced HTTP call and a SQL call), ≈ 700 bytes a segment, distinct ids,
/// 1 in 11 faulting, every segment in 2026-11-25 12:00–13:00Z.
/// </summary>
internal static class GraphArchive
{
    public static readonly DateTimeOffset WindowStart = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset WindowEnd = WindowStart.AddHours(1);

    public const int SegmentsPerObject = 50_000;

    /// <summary>The two documents of trace <paramref name="i"/>: service-b's first (callee before caller: the join has to wait).</summary>
    public static (string A, string B) Trace(long i)
    {
        var t = (WindowStart.ToUnixTimeMilliseconds() / 1000.0) + (i % 3_500_000 / 1000.0);
        var trace = string.Create(CultureInfo.InvariantCulture, $"1-{(long)t:x8}-{i:x24}");
        string Id(int k) => string.Create(CultureInfo.InvariantCulture, $"{k:x2}{i:x14}");
        var fault = i % 11 == 0;
        var status = fault ? 500 : 200;
        var ms = (i * 7919 % 200) + 10;
        var c = CultureInfo.InvariantCulture;
        var a = string.Create(c, $$$$"""{"trace_id":"{{{{trace}}}}","id":"{{{{Id(1)}}}}","name":"service-a","origin":"AWS::EC2::Instance","start_time":{{{{t:0.000}}}},"end_time":{{{{t + 0.3:0.000}}}},"fault":{{{{(fault ? "true" : "false")}}}},"http":{"request":{"method":"GET","url":"http://service-a:3000/"},"response":{"status":{{{{status}}}}}},"subsegments":[{"id":"{{{{Id(2)}}}}","name":"handler","start_time":{{{{t:0.000}}}},"end_time":{{{{t + 0.29:0.000}}}},"subsegments":[{"id":"{{{{Id(3)}}}}","name":"service-b","namespace":"remote","start_time":{{{{t + 0.01:0.000}}}},"end_time":{{{{t + 0.01 + (ms / 1000.0):0.000}}}},"http":{"request":{"method":"GET","url":"http://service-b:3001/work"},"response":{"status":{{{{status}}}}}}}]},{"id":"{{{{Id(4)}}}}","name":"DynamoDB","namespace":"aws","start_time":{{{{t:0.000}}}},"end_time":{{{{t + 0.004:0.000}}}},"aws":{"operation":"GetItem","table_name":"orders","region":"us-east-1"},"http":{"response":{"status":200}}}]}""");
        var b = string.Create(c, $$$$"""{"trace_id":"{{{{trace}}}}","id":"{{{{Id(5)}}}}","parent_id":"{{{{Id(3)}}}}","name":"service-b","origin":"AWS::ECS::Container","start_time":{{{{t + 0.012:0.000}}}},"end_time":{{{{t + 0.2:0.000}}}},"fault":{{{{(fault ? "true" : "false")}}}},"http":{"request":{"method":"GET","url":"http://service-b:3001/work"},"response":{"status":{{{{status}}}}}},"subsegments":[{"id":"{{{{Id(6)}}}}","name":"api.example.com","namespace":"remote","start_time":{{{{t + 0.02:0.000}}}},"end_time":{{{{t + 0.02 + (ms / 2000.0):0.000}}}},"http":{"request":{"method":"POST","url":"https://api.example.com/v1/charge"},"response":{"status":200}}},{"id":"{{{{Id(7)}}}}","name":"orders@db","namespace":"remote","start_time":{{{{t + 0.1:0.000}}}},"end_time":{{{{t + 0.103:0.000}}}},"sql":{"url":"postgresql://db.internal:5432/orders","database_type":"PostgreSQL"}}]}""");
        return (a, b);
    }

    /// <summary>Writes <paramref name="segments"/> segments as gzip NDJSON objects under <paramref name="root"/>/segments/dt=2026-11-25/hour=12/.</summary>
    public static long Write(string root, long segments)
    {
        var dir = Path.Combine(root, "segments", "dt=2026-11-25", "hour=12");
        Directory.CreateDirectory(dir);
        long bytes = 0;
        for (long first = 0, part = 0; first < segments / 2; first += SegmentsPerObject / 2, part++)
        {
            var path = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"shardId-000000000000-{part + 1}.ndjson.gz"));
            using (var file = File.Create(path))
            using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
            using (var writer = new StreamWriter(gzip, new UTF8Encoding(false)))
            {
                for (var i = first; i < Math.Min(first + (SegmentsPerObject / 2), segments / 2); i++)
                {
                    var (a, b) = Trace(i);
                    writer.Write(b);
                    writer.Write('\n');
                    writer.Write(a);
                    writer.Write('\n');
                }
            }

            bytes += new FileInfo(path).Length;
        }

        return bytes;
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// Segments per second through <see cref="ServiceGraphBuilder"/> (parse + join + aggregate), over
/// 100,000 in-memory NDJSON lines; OperationsPerInvoke makes every figure per segment.
/// Run: dotnet run -c Release --project bench/Pipeline.Bench -- --filter '*GraphBuilder*'
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class GraphBuilderBenchmarks
{
    private const int Segments = 100_000;
    private ReadOnlyMemory<byte>[] _lines = [];

    [GlobalSetup]
    public void Setup()
    {
        var lines = new List<ReadOnlyMemory<byte>>(Segments);
        for (var i = 0; i < Segments / 2; i++)
        {
            var (a, b) = GraphArchive.Trace(i);
            lines.Add(Encoding.UTF8.GetBytes(b));
            lines.Add(Encoding.UTF8.GetBytes(a));
        }

        _lines = [.. lines];
    }

    [Benchmark(OperationsPerInvoke = Segments)]
    public int Build()
    {
        var builder = new ServiceGraphBuilder(GraphArchive.WindowStart, GraphArchive.WindowEnd);
        foreach (var line in _lines)
        {
            builder.AddDocument(line);
        }

        return builder.Build().Edges.Count;
    }
}

/// <summary>
/// One window of 1,000,000 segments (20 gzip objects on disk) through the service-graph job
/// end to end: the streaming engine (gunzip, parse, build) against athena/service_graph.sql on
/// DuckDB. One cold run (Monitoring), in the host process (the generated-project build of this
/// solution outlasts BenchmarkDotNet's build timeout here); run each engine on its own so that
/// the printed peak working set ("graph-scale:" line) is that engine's:
/// dotnet run -c Release --project bench/Pipeline.Bench -- --filter '*GraphScaleStream*'
/// dotnet run -c Release --project bench/Pipeline.Bench -- --filter '*GraphScaleSql*'
/// </summary>
/// <summary>One cold iteration in the host process (no generated project to build).</summary>
public sealed class InProcessOnceConfig : ManualConfig
{
    public InProcessOnceConfig()
    {
        AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(0)
            .WithIterationCount(1)
            .WithToolchain(InProcessEmitToolchain.Instance));
    }
}

public abstract class GraphScaleBenchmarks
{
    public const long Segments = 1_000_000;
    private string _root = string.Empty;
    private ServiceGraphJob _job = null!;
    private long _archiveBytes;
    private Stopwatch _elapsed = new();
    private long _documents;
    private long _peakPending;

    protected abstract GraphEngine Engine { get; }

    [GlobalSetup]
    public void Setup()
    {
        _root = Directory.CreateTempSubdirectory("pipeline-graph-bench-").FullName;
        _archiveBytes = GraphArchive.Write(_root, Segments);
        var tables = Directory.GetFiles(Path.Combine(GraphArchive.RepoRoot(), "athena", "tables"), "*.sql")
            .Select(f => AthenaTableDefinition.Parse(File.ReadAllText(f))).ToList();
        var store = new DirectoryObjectStore(_root);
        _job = new ServiceGraphJob(store, new ServiceGraphOptions { ArchiveBucket = "bench" }, new DuckDbGraphSqlEngine(_root, tables), NullLogger.Instance);
        GC.Collect();
    }

    [Benchmark]
    public async Task<int> Window()
    {
        _elapsed = Stopwatch.StartNew();
        var outputs = await _job.RunAsync(GraphArchive.WindowStart, GraphArchive.WindowEnd, Engine);
        _elapsed.Stop();
        // Segments counted = the two services' own requests.
        _peakPending = outputs.Document.PeakPendingJoins;
        _documents = outputs.Document.Services.Where(s => s.Name is "service-a" or "service-b").Sum(s => s.SummaryStatistics!.TotalCount);
        return outputs.Document.Services.Count;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"graph-scale: engine={Engine} segments={_documents} archive={_archiveBytes / 1048576.0:0.0} MiB gz elapsed={_elapsed.Elapsed.TotalSeconds:0.00} s " +
            $"rate={_documents / Math.Max(_elapsed.Elapsed.TotalSeconds, 1e-9):0} seg/s peak-working-set={process.PeakWorkingSet64 / 1048576.0:0} MiB " +
            $"peak-pending-joins={_peakPending} managed-heap-after={GC.GetTotalMemory(forceFullCollection: true) / 1048576.0:0.0} MiB"));
        Directory.Delete(_root, recursive: true);
    }
}

[Config(typeof(InProcessOnceConfig))]
public class GraphScaleStreamBenchmarks : GraphScaleBenchmarks
{
    protected override GraphEngine Engine => GraphEngine.Stream;
}

[Config(typeof(InProcessOnceConfig))]
public class GraphScaleSqlBenchmarks : GraphScaleBenchmarks
{
    protected override GraphEngine Engine => GraphEngine.Sql;
}
