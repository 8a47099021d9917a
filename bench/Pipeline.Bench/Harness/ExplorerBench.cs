using System.Diagnostics;
using System.Globalization;
using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;
using Pipeline.Cli.Ui;
using Pipeline.Core.Traces;

namespace Pipeline.Bench.Harness;

/// <summary>
/// `harness explorer`: where users of the trace explorer wait, measured over one generated day of
/// archive (<see cref="ArchiveDay"/>) against a full scan in the same run. Each figure is the
/// median of N runs, in-process (the CLI's own code paths, warm: the one-off JIT and DuckDB load
/// are paid in a first unmeasured run; a figure of 0 runs is that first run), with the bytes of
/// the archive objects each one opens:
///   full scan   `pipeline query` of one trace id over segments_raw (every object of the day)
///   trace       `pipeline trace` lookup (hours around the trace id's epoch), without and with
///               the per-hour trace-id index (built first by `pipeline index`'s code, timed)
///   search      the UI's search over the whole day, no filter and fault only: first scanning
///               the raw NDJSON, then through the per-hour search summaries (built with the index,
///               timed together); each summary result is checked row for row against the scan
/// Output: one `figure name=... ms=... bytes=... ` line per figure (bench/run parses them).
/// </summary>
internal static class ExplorerBench
{
    public static int Run(string[] args)
    {
        var dir = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "pipeline-explorer-bench");
        var segments = long.Parse(Option(args, "--segments") ?? "1000000", CultureInfo.InvariantCulture);
        var batch = int.Parse(Option(args, "--batch") ?? "1000", CultureInfo.InvariantCulture);
        var runs = int.Parse(Option(args, "--runs") ?? "5", CultureInfo.InvariantCulture);
        var day = DateOnly.ParseExact(Option(args, "--day") ?? "2026-11-20", "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var athena = Option(args, "--athena-dir") ?? AthenaSqlFiles.Locate(Directory.GetCurrentDirectory()).Directory;
        var tables = new AthenaSqlFiles(athena).Tables();

        var ids = Path.Combine(dir, "trace-ids.txt");
        if (!File.Exists(ids))
        {
            var clock = Stopwatch.StartNew();
            var written = new ArchiveDay(dir, day, batch, seed: 7).Write(segments);
            File.WriteAllLines(ids, written.FaultedTraces.Concat(written.SampleTraces));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"generated segments={written.Segments} traces={written.Traces} objects={written.Objects} bytes={written.Bytes} seconds={clock.Elapsed.TotalSeconds:0.0}"));
        }

        var traceIds = File.ReadAllLines(ids);
        var faulted = traceIds[0];
        var dayBytes = Directory.EnumerateFiles(Path.Combine(dir, "segments"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"archive dir={dir} bytes={dayBytes} trace={faulted}"));

        Measure("full_scan_query", runs, () =>
        {
            var sql = $"SELECT line FROM segments_raw WHERE strpos(lower(line), '{faulted}') > 0";
            var rows = DuckDbQueryRunner.Run(sql, dir, tables, 10_000).Rows.Count;
            return (dayBytes, rows);
        });

        using var archive = new DuckDbTraceArchive(dir, tables);
        Measure("trace_lookup", runs, () =>
        {
            var (tree, read) = TraceLookup.FindAsync(archive, faulted, TraceLookupPlan.ForEpoch(TraceIds.Epoch(faulted)), null, CancellationToken.None).GetAwaiter().GetResult();
            return (read.Bytes, tree.Spans.Count);
        });

        // The search before the summaries: every NDJSON line of the day, through the segments view.
        using var ui = new UiArchive(dir, tables);
        var from = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var searches = new (string Name, TraceSearch Search)[]
        {
            ("search_day", new TraceSearch { From = from, To = from.AddDays(1) }),
            ("search_day_fault", new TraceSearch { From = from, To = from.AddDays(1), Fault = true }),
        };
        foreach (var (name, search) in searches)
        {
            Measure(name + "_scan", runs, () =>
            {
                var result = ui.ScanSearch(search);
                return (result.BytesRead, result.Matches);
            });
        }

        // The trace index and the search summary of every hour, built from the archive alone (what `pipeline index` does on a local copy).
        var store = new Pipeline.Cli.Graph.DirectoryObjectStore(dir);
        Measure("index_build_day", 0, () =>
        {
            IndexCommand.RunAsync(store, "archive", Pipeline.Core.Archive.ArchiveKeys.SegmentsPrefix, force: true, TextWriter.Null, CancellationToken.None, (dir, tables)).GetAwaiter().GetResult();
            var written = Directory.EnumerateFiles(Path.Combine(dir, "trace-index"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            return (dayBytes, written);
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"index bytes={Bytes(dir, TraceIndex.ObjectName)} summary bytes={Bytes(dir, SearchSummary.ObjectName)}"));
        Measure("trace_lookup_indexed", runs, () =>
        {
            using var indexed = new IndexedTraceArchive(store, "archive", archive, ownsUnindexed: false);
            var (tree, read) = TraceLookup.FindAsync(indexed, faulted, TraceLookupPlan.ForEpoch(TraceIds.Epoch(faulted)), null, CancellationToken.None).GetAwaiter().GetResult();
            return (read.Bytes, tree.Spans.Count);
        });
        foreach (var other in traceIds.Skip(1).Take(3))
        {
            using var indexed = new IndexedTraceArchive(store, "archive", archive, ownsUnindexed: false);
            var (viaIndex, _) = TraceLookup.FindAsync(indexed, other, TraceLookupPlan.ForEpoch(TraceIds.Epoch(other)), null, CancellationToken.None).GetAwaiter().GetResult();
            var (viaScan, _) = TraceLookup.FindAsync(archive, other, TraceLookupPlan.ForEpoch(TraceIds.Epoch(other)), null, CancellationToken.None).GetAwaiter().GetResult();
            if (viaIndex.Spans.Count != viaScan.Spans.Count || viaIndex.Spans.Count == 0)
            {
                Console.WriteLine($"MISMATCH {other}: index {viaIndex.Spans.Count} spans, scan {viaScan.Spans.Count}");
                return 1;
            }
        }

        // The same searches through the summaries; then each compared with the scan, row for row, with a few more filters.
        foreach (var (name, search) in searches)
        {
            Measure(name, runs, () =>
            {
                var result = ui.Search(search);
                return (result.BytesRead, result.Matches);
            });
        }

        var checks = searches.Select(s => s.Search).Concat(new[]
        {
            new TraceSearch { From = from, To = from.AddDays(1), Services = ["DynamoDB"], Limit = TraceSearch.MaxLimit },
            new TraceSearch { From = from, To = from.AddDays(1), MinDurationMs = 250, HttpMethod = "GET" },
            new TraceSearch { From = from.AddHours(5), To = from.AddHours(7), Error = true, Limit = TraceSearch.MaxLimit },
        });
        foreach (var search in checks)
        {
            var viaSummary = ui.Search(search);
            var viaScan = ui.ScanSearch(search);
            if (!viaSummary.Traces.SequenceEqual(viaScan.Traces) || !viaSummary.Histogram.SequenceEqual(viaScan.Histogram) || viaSummary.SummarizedHours == 0)
            {
                Console.WriteLine($"MISMATCH search {search.ToQueryString()}: summary {viaSummary.Matches} matches ({viaSummary.SummarizedHours} hours), scan {viaScan.Matches}");
                return 1;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"same search={search.ToQueryString()} matches={viaScan.Matches} rows={viaScan.Traces.Count}"));
        }

        return 0;
    }

    private static long Bytes(string dir, string name) =>
        Directory.EnumerateFiles(Path.Combine(dir, "trace-index"), name, SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private static void Measure(string name, int runs, Func<(long Bytes, long Rows)> run)
    {
        var warm = Stopwatch.StartNew();
        var (bytes, rows) = run();
        var first = warm.Elapsed.TotalMilliseconds;
        var times = new List<double> { first };
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            (bytes, rows) = run();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        if (runs > 0)
        {
            times.RemoveAt(0);
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"figure name={name} ms={times[times.Count / 2]:0.0} min_ms={times[0]:0.0} first_ms={first:0.0} bytes={bytes} rows={rows} runs={runs}"));
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
