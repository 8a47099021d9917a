using System.Globalization;
using Pipeline.Cli.Query;
using Pipeline.Core.Query;
using Pipeline.Testing;

namespace Pipeline.Cli.Tests.Query;

/// <summary>
/// Every athena/queries/*.sql file, translated and run by DuckDB over <see cref="QueryTestArchive"/>,
/// returns the answer worked out by hand from the archive's documents.
/// </summary>
public sealed class NamedQueriesTests : IClassFixture<QueryTestArchive>
{
    private static readonly AthenaSqlFiles Files = AthenaSqlFiles.Locate(RepoPaths.Root);
    private static readonly DateOnly Today = new(2026, 11, 25);
    private readonly QueryTestArchive _archive;

    public NamedQueriesTests(QueryTestArchive archive)
    {
        _archive = archive;
    }

    [Fact]
    public void Catalog_EveryQueryFile_ParsesWithDescriptionAndWindowParameters()
    {
        var names = Files.QueryNames();

        names.Should().HaveCountGreaterThanOrEqualTo(7);
        foreach (var name in names)
        {
            var query = Files.Query(name);
            query.Description.Should().NotBeNullOrWhiteSpace();
            query.Parameters.Select(p => p.Name).Should().Contain(["dt_from", "dt_to"], because: $"{name} must prune partitions");
        }
    }

    [Fact]
    public void SlowestTraces_Window_OrdersByDurationWithRootServiceAndInProgressLast()
    {
        var result = Run("slowest-traces");

        result.Columns.Should().Equal("trace_id", "root_service", "duration_ms", "segments");
        Cells(result, 0, 1, 3).Should().Equal(Rows(
            [QueryTestArchive.Trace2, "service-a", "2"],
            [QueryTestArchive.Trace1, "service-a", "3"],
            [QueryTestArchive.Trace3, "service-a", "1"],
            [QueryTestArchive.Trace6, "service-b", "1"],
            [QueryTestArchive.Trace4, "service-a", "1"]));
        Numbers(result, 2).Should().Equal(1200, 500, 100, 50, null);
    }

    [Fact]
    public void SlowestTraces_Limit_CutsTheList()
    {
        var result = Run("slowest-traces", ("limit", "2"));

        result.Rows.Select(r => r[0]).Should().Equal(QueryTestArchive.Trace2, QueryTestArchive.Trace1);
    }

    [Fact]
    public void ErrorFaultRate_Window_CountsPerServicePerHour()
    {
        var result = Run("error-fault-rate");

        Cells(result, 0, 1, 2, 3, 4, 5).Should().Equal(Rows(
            ["service-a", "2026-11-24 23:00", "1", "1", "0", "0"],
            ["service-a", "2026-11-25 07:00", "2", "0", "0", "0"],
            ["service-b", "2026-11-25 07:00", "2", "1", "0", "1"],
            ["service-a", "2026-11-25 08:00", "1", "0", "1", "0"],
            ["service-b", "2026-11-25 08:00", "1", "0", "1", "0"]));
        Numbers(result, 6).Should().Equal(100, 0, 50, 0, 0);
        Numbers(result, 7).Should().Equal(0, 0, 0, 100, 100);
    }

    [Fact]
    public void TracesByAnnotation_SegmentAnnotation_FindsTracesInWindowOnly()
    {
        var result = Run("traces-by-annotation", ("key", "customer"), ("value", "alice"));

        result.Rows.Should().BeEquivalentTo(
            new[]
            {
                new[] { QueryTestArchive.Trace3, "2026-11-24 23:30:00", "1" },
                new[] { QueryTestArchive.Trace1, "2026-11-25 07:00:10", "1" },
            },
            o => o.WithStrictOrdering());
    }

    [Fact]
    public void TracesByAnnotation_SubsegmentAnnotation_FindsTrace()
    {
        var result = Run("traces-by-annotation", ("key", "payment_id"), ("value", "p-42"));

        Cells(result, 0, 1).Should().Equal(Rows([QueryTestArchive.Trace2, "2026-11-25 08:00:05"]));
    }

    [Fact]
    public void TracesByAnnotation_NumberAndBooleanValues_MatchAsText()
    {
        Run("traces-by-annotation", ("key", "retries"), ("value", "2")).Rows.Select(r => r[0]).Should().Equal(QueryTestArchive.Trace1);
        Run("traces-by-annotation", ("key", "vip"), ("value", "true")).Rows.Select(r => r[0]).Should().Equal(QueryTestArchive.Trace1);
    }

    [Fact]
    public void TracesByAnnotation_QuoteInValue_IsALiteralNotSql()
    {
        var result = Run("traces-by-annotation", ("key", "customer"), ("value", "alice' OR '1'='1"));

        result.Rows.Should().BeEmpty();
    }

    [Fact]
    public void ServiceEdges_Window_JoinsSubsegmentsToChildSegmentsAndKeepsAwsCalls()
    {
        var result = Run("service-edges");

        result.Columns.Should().Equal("caller", "callee", "calls", "errors", "faults", "throttles", "avg_ms", "p99_ms");
        Cells(result, 0, 1, 2, 3, 4, 5).Should().Equal(Rows(
            ["service-a", "service-b", "2", "0", "1", "0"],
            ["service-a", "DynamoDB", "1", "0", "0", "0"],
            ["service-b", "postgres@db", "1", "0", "0", "0"]));
        Numbers(result, 6).Should().BeEquivalentTo(new double?[] { 650, 40, 60 }, o => o.WithStrictOrdering().Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 0.01)).WhenTypeIs<double>());
        Numbers(result, 7).Should().BeEquivalentTo(new double?[] { 1000, 40, 60 }, o => o.WithStrictOrdering().Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 0.01)).WhenTypeIs<double>());
    }

    [Fact]
    public void TopUrlsP99_Window_OrdersByP99WithCountsAndMeans()
    {
        var result = Run("top-urls-p99");

        Cells(result, 0, 1).Should().Equal(Rows(
            ["https://shop.example/checkout", "1"],
            ["http://service-b/pay", "1"],
            ["https://shop.example/cart", "2"],
            ["http://service-b/price", "2"]));
        Numbers(result, 2).Should().Equal(1200, 900, 500, 260);
        Numbers(result, 3).Should().Equal(1200, 900, 300, 155);
    }

    [Fact]
    public void TraceSegments_OneTrace_ListsItsDocumentsInStartOrder()
    {
        var result = Run("trace-segments", ("trace_id", QueryTestArchive.Trace1));

        result.Columns.Should().Equal("id", "parent_id", "kind", "name", "origin", "started", "duration_ms",
            "status", "error", "fault", "throttle", "subsegments");
        Cells(result, 0, 1, 2, 3, 5, 7, 8, 11).Should().Equal(Rows(
            [QueryTestArchive.S1A, null, "segment", "service-a", "2026-11-25 07:00:10", "200", "false", "2"],
            [QueryTestArchive.S1B, QueryTestArchive.Sub1, "segment", "service-b", "2026-11-25 07:00:10", "200", "false", "1"],
            [QueryTestArchive.Independent1, QueryTestArchive.S1A, "subsegment", "service-a", "2026-11-25 07:00:10", null, "false", "0"]));
        Numbers(result, 6).Should().Equal(500, 260, 30);
    }

    [Fact]
    public void QuarantineReasons_Window_CountsPerReason()
    {
        var result = Run("quarantine-reasons");

        Cells(result, 0, 1, 2, 3, 4).Should().Equal(Rows(
            ["invalid_trace_id", "2", "1", "2026-11-25T07:01:00.000Z", "2026-11-25T07:05:00.000Z"],
            ["missing_name", "1", "1", "2026-11-25T07:03:00.000Z", "2026-11-25T07:03:00.000Z"],
            ["too_large", "1", "1", "2026-11-24T23:59:00.000Z", "2026-11-24T23:59:00.000Z"]));
    }

    [Fact]
    public void QuarantineSamples_OneReason_DecodesOriginalDocumentsNewestFirst()
    {
        var result = Run("quarantine-samples", ("reason", "invalid_trace_id"));

        result.Columns.Should().Equal("arrival_time", "sequence_number", "path", "size", "document");
        Cells(result, 0, 2, 3, 4).Should().Equal(Rows(
            ["2026-11-25T07:05:00.000Z", "$.trace_id", "19", "{\"trace_id\":\"1-zz\"}"],
            ["2026-11-25T07:01:00.000Z", "$.trace_id", "16", "{\"trace_id\":\"x\"}"]));
    }

    [Fact]
    public void DailyUsage_Window_SumsCountersPerDay()
    {
        var result = Run("daily-usage");

        RunAdHoc("SELECT sum(kept_by_reason.head), sum(s3_puts) FROM usage WHERE dt = '2026-11-25'").Rows.Single().Should().Equal("3", "6");

        Cells(result, 0, 1, 2, 3, 4, 5, 6, 7).Should().Equal(Rows(
            ["2026-11-24", "3", "3", "0", "1", "2", "1", "512"],
            ["2026-11-25", "15", "12", "3", "6", "8", "3", "3072"]));
    }

    [Fact]
    public void DailyUsage_DefaultWindow_ResolvesTodayAgainstTheGivenDate()
    {
        var query = Files.Query("daily-usage");

        var values = query.ResolveValues(new Dictionary<string, string>(), Today);

        values["dt_from"].Should().Be("2026-10-26");
        values["dt_to"].Should().Be("2026-11-25");
    }

    [Fact]
    public void AdHoc_CountSegments_CountsEveryLineInEveryPartitionAndNullsTheMalformedOne()
    {
        var result = RunAdHoc("SELECT count(*) AS n, count(trace_id) AS documents FROM segments");

        result.Rows.Single().Should().Equal(
            QueryTestArchive.SegmentRowsTotal.ToString(CultureInfo.InvariantCulture),
            QueryTestArchive.SegmentsTotal.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AdHoc_PartitionFilter_CountsOneHour()
    {
        var result = RunAdHoc("SELECT count(*) FROM segments WHERE dt = '2026-11-25' AND hour = '08'");

        result.Rows.Single()[0].Should().Be("2");
    }

    [Fact]
    public void AdHoc_RawTables_KeepWholeLinesForUntypedFields()
    {
        RunAdHoc("SELECT count(*) FROM segments_raw").Rows.Single()[0]
            .Should().Be(QueryTestArchive.SegmentLinesTotal.ToString(CultureInfo.InvariantCulture));
        RunAdHoc("SELECT json_extract_scalar(line, '$.metadata.default.note') FROM segments_raw WHERE json_extract_scalar(line, '$.id') = 'a100000000000001'")
            .Rows.Single()[0].Should().Be("not typed in the DDL");
        RunAdHoc("SELECT sum(CAST(json_extract_scalar(line, '$.extra_future_counter') AS bigint)) FROM usage_raw")
            .Rows.Single()[0].Should().Be("7");
        RunAdHoc("SELECT sum(CAST(json_extract_scalar(line, '$.services[0].segments') AS bigint)) FROM usage_raw")
            .Rows.Single()[0].Should().Be("18");
    }

    [Fact]
    public void AdHoc_NestedColumns_ReadTheSameWayAsInAthena()
    {
        var result = RunAdHoc(
            "SELECT s.aws.xray.sdk, sub.aws.table_name, element_at(s.annotations, 'tier'), cardinality(s.subsegments) " +
            "FROM segments s CROSS JOIN UNNEST(s.subsegments) AS t(sub) WHERE sub.name = 'DynamoDB'");

        result.Rows.Single().Should().Equal("X-Ray for Node.js", "carts", "gold", "2");
    }

    [Fact]
    public void AdHoc_EmptyArchive_TablesExistWithNoRows()
    {
        var empty = Directory.CreateTempSubdirectory("pipeline-query-empty-");
        try
        {
            var result = DuckDbQueryRunner.Run("SELECT count(*) FROM segments s, quarantine q", empty.FullName, Files.Tables(), 10);

            result.Rows.Single()[0].Should().Be("0");
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Fact]
    public void Run_MaxRows_TruncatesAndSaysSo()
    {
        var result = DuckDbQueryRunner.Run("SELECT id FROM segments", _archive.Root, Files.Tables(), 3);

        result.Rows.Should().HaveCount(3);
        result.Truncated.Should().BeTrue();
    }

    private QueryResult Run(string name, params (string Name, string Value)[] parameters)
    {
        var values = new Dictionary<string, string>(QueryTestArchive.Window);
        foreach (var (key, value) in parameters)
        {
            values[key] = value;
        }

        var sql = Files.Query(name).Bind(values, Today);
        return DuckDbQueryRunner.Run(sql, _archive.Root, Files.Tables(), 1000);
    }

    private QueryResult RunAdHoc(string sql) => DuckDbQueryRunner.Run(sql, _archive.Root, Files.Tables(), 1000);

    private static List<string> Cells(QueryResult result, params int[] columns) =>
        result.Rows.Select(r => Row(columns.Select(c => r[c]))).ToList();

    private static string[] Rows(params string?[][] rows) => rows.Select(Row).ToArray();

    private static string Row(IEnumerable<string?> cells) => string.Join(" | ", cells.Select(c => c ?? "NULL"));

    private static List<double?> Numbers(QueryResult result, int column) =>
        result.Rows.Select(r => r[column] is { } s ? (double?)double.Parse(s, CultureInfo.InvariantCulture) : null).ToList();
}
