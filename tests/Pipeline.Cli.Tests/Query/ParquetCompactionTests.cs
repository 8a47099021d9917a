using Pipeline.Aws.Http;
using Pipeline.Cli.Query;
using Pipeline.Core.Query;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.Cli.Tests.Query;

/// <summary>
/// Compaction to Parquet keeps every row and column: the named queries over segments give the
/// same answers on the Parquet copy, and the scan estimate reads only the columns they name.
/// </summary>
public sealed class ParquetCompactionTests : IDisposable
{
    private static readonly AthenaSqlFiles Files = AthenaSqlFiles.Locate(RepoPaths.Root);
    private static readonly DateOnly Today = new(2026, 11, 25);
    private readonly QueryTestArchive _archive = new();
    private readonly IReadOnlyList<AthenaTableDefinition> _tables = Files.Tables();

    public void Dispose() => _archive.Dispose();

    [Fact]
    public void Compact_EveryHourOfTheWindow_NamedQueriesAnswerTheSameOnParquet()
    {
        var compacted = new[] { QueryTestArchive.DtFrom, QueryTestArchive.DtTo }
            .SelectMany(dt => ParquetCompactor.Hours(_archive.Root, _tables, dt).Select(h => ParquetCompactor.Compact(_archive.Root, _tables, dt, h)))
            .ToList();

        compacted.Select(c => c.ParquetKey).Should().Equal(
            "segments_parquet/dt=2026-11-24/hour=23/part-00000.parquet",
            "segments_parquet/dt=2026-11-25/hour=07/part-00000.parquet",
            "segments_parquet/dt=2026-11-25/hour=08/part-00000.parquet");
        compacted.Sum(c => c.Rows).Should().Be(QueryTestArchive.SegmentRowsTotal - 1, "the 2026-11-20 hour is outside the window");
        var onParquet = QueryHandler.ReadSegmentsFromParquet(_tables);
        var cases = new (string Query, (string, string)[] Params)[]
        {
            ("slowest-traces", []),
            ("error-fault-rate", []),
            ("traces-by-annotation", [("key", "customer"), ("value", "alice")]),
            ("traces-by-annotation", [("key", "payment_id"), ("value", "p-42")]),
            ("service-edges", []),
            ("top-urls-p99", []),
            ("trace-segments", [("trace_id", QueryTestArchive.Trace1)]),
        };
        foreach (var (name, parameters) in cases)
        {
            var values = new Dictionary<string, string>(QueryTestArchive.Window);
            foreach (var (k, v) in parameters)
            {
                values[k] = v;
            }

            var sql = Files.Query(name).Bind(values, Today);
            var ndjson = DuckDbQueryRunner.Run(sql, _archive.Root, _tables, 1000);
            var parquet = DuckDbQueryRunner.Run(sql, _archive.Root, onParquet, 1000);

            ndjson.Rows.Should().NotBeEmpty(name);
            parquet.Should().BeEquivalentTo(ndjson, o => o.WithStrictOrdering(), name);
        }
    }

    [Fact]
    public void Compact_SameHourTwice_RewritesTheOneObject()
    {
        var first = ParquetCompactor.Compact(_archive.Root, _tables, "2026-11-25", "07");
        var second = ParquetCompactor.Compact(_archive.Root, _tables, "2026-11-25", "07");

        second.Should().Be(first with { ParquetBytes = second.ParquetBytes });
        Directory.GetFiles(Path.Combine(_archive.Root, "segments_parquet", "dt=2026-11-25", "hour=07")).Should().ContainSingle();
        DuckDbQueryRunner.Run("SELECT count(*) FROM segments_parquet", _archive.Root, _tables, 1).Rows[0][0].Should().Be("6");
    }

    [Fact]
    public void EstimateScans_NamedQueries_ReadOnlyTheirColumnsOnParquetAndWholeObjectsOnNdjson()
    {
        var hour = ParquetCompactor.Compact(_archive.Root, _tables, "2026-11-25", "07");
        var queries = Files.QueryNames().Select(Files.Query).ToList();

        var report = ParquetCompactor.EstimateScans(_archive.Root, _tables, queries, hour);

        report.Rows.Select(r => r[0]).Should().NotContain(["quarantine-reasons", "quarantine-samples", "daily-usage"])
            .And.Contain(["slowest-traces", "service-edges", "trace-segments"]);
        report.Rows.Should().AllSatisfy(r =>
        {
            long.Parse(r[1]!, System.Globalization.CultureInfo.InvariantCulture).Should().Be(hour.NdjsonBytes);
            long.Parse(r[2]!, System.Globalization.CultureInfo.InvariantCulture).Should().BeLessThan(hour.ParquetBytes);
        });
        report.Rows.Single(r => r[0] == "slowest-traces")[4].Should().Be("trace_id parent_id name start_time end_time");
    }

    [Fact]
    public async Task CompactCommand_LocalDay_WritesEveryHourAndReports()
    {
        var context = new QueryCommandContext(TimeProvider.System, new DictionaryEnvironment(new Dictionary<string, string>()),
            AwsHttp.CreateClient(), RepoPaths.Root, outputIsTerminal: false);
        var root = new System.CommandLine.RootCommand { CompactCommand.Create(context) };
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await root.Parse(["compact", "--dt", "2026-11-25", "--data-dir", _archive.Root, "--report"])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);

        code.Should().Be(0, error.ToString());
        output.ToString().Should().Contain("segments_parquet/dt=2026-11-25/hour=07/part-00000.parquet: 6 rows")
            .And.Contain("segments_parquet/dt=2026-11-25/hour=08/part-00000.parquet: 2 rows")
            .And.Contain("query,ndjson_gz_bytes,parquet_bytes,parquet_pct,columns_read");

        using var queryOutput = new StringWriter();
        var queryRoot = new System.CommandLine.RootCommand { QueryCommand.Create(context) };
        var queryCode = await queryRoot.Parse(["query", "SELECT count(*) AS n, count(DISTINCT hour) AS hours FROM segments", "--parquet", "--data-dir", _archive.Root, "--format", "csv"])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = queryOutput, Error = error }, TestContext.Current.CancellationToken);

        queryCode.Should().Be(0, error.ToString());
        queryOutput.ToString().Should().Be("n,hours\r\n8,2\r\n", "only 2026-11-25 was compacted: 6 + 2 rows");
    }
}
