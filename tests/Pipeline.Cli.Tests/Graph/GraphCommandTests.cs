using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Http;
using Pipeline.Cli.Graph;
using Pipeline.Core.Graph;
using Pipeline.Core.Query;
using Pipeline.Functions.ServiceGraph;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.Cli.Tests.Graph;

/// <summary>`pipeline graph` over a local archive, and the two engines against each other.</summary>
public sealed class GraphCommandTests : IClassFixture<GraphTestArchive>
{
    private readonly GraphTestArchive _archive;

    public GraphCommandTests(GraphTestArchive archive)
    {
        _archive = archive;
    }

    private static readonly HttpClient Http = AwsHttp.CreateClient();

    private static GraphCommandContext Context(List<string>? opened = null) =>
        new(new FakeTimeProvider(GraphTestArchive.WindowEnd.AddSeconds(20)), new DictionaryEnvironment(), Http, RepoPaths.Root, path => opened?.Add(path));

    private static async Task<(int Code, string Output, string Error)> InvokeAsync(GraphCommandContext context, params string[] args)
    {
        var root = new RootCommand("pipeline") { GraphCommand.Create(context) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Graph_DataDir_WritesFilesAndPrintsEdges()
    {
        var opened = new List<string>();

        var (code, output, error) = await InvokeAsync(Context(opened), "graph", "--data-dir", _archive.Root, "--end", "2026-11-25T13:00:00Z", "--open");

        error.Should().BeEmpty();
        code.Should().Be(0);
        var stem = Path.Combine(_archive.Root, "graphs", "dt=2026-11-25", "20261125T1200Z-20261125T1300Z");
        output.Should().Contain(stem + ".json").And.Contain(stem + ".svg").And.Contain(stem + ".dot");
        File.Exists(stem + ".svg").Should().BeTrue();
        File.ReadAllText(stem + ".dot").Should().StartWith("digraph service_graph {");
        output.Should().MatchRegex(@"client -> service-a\s+240 ");
        output.Should().MatchRegex(@"service-a -> service-b\s+240 ");
        output.Should().MatchRegex(@"service-a -> orders\s+240 ");
        output.Should().MatchRegex(@"service-b -> api\.example\.com\s+240 ");
        opened.Should().Equal(stem + ".svg");
    }

    [Fact]
    public async Task Graph_DefaultWindow_EndsNowRoundedUpToTheMinute()
    {
        var (code, output, _) = await InvokeAsync(Context(), "graph", "--data-dir", _archive.Root, "--window", "30m", "--engine", "sql");

        code.Should().Be(0);
        output.Should().Contain("20261125T1231Z-20261125T1301Z").And.Contain("(sql,");
    }

    [Fact]
    public async Task Graph_BadWindow_IsAUserError()
    {
        var (code, _, error) = await InvokeAsync(Context(), "graph", "--data-dir", _archive.Root, "--window", "3 weeks");

        code.Should().Be(1);
        error.Should().Contain("--window");
    }

    [Theory]
    [InlineData("15m", 15)]
    [InlineData("1h", 60)]
    [InlineData("1d", 1440)]
    [InlineData("1h30m", 90)]
    public void ParseWindow_Units(string text, int minutes) =>
        GraphCommand.ParseWindow(text).Should().Be(TimeSpan.FromMinutes(minutes));

    [Theory]
    [InlineData("45", "has no unit")]
    [InlineData("30s", "is not between 1m and 1d")]
    [InlineData("2d", "is not between 1m and 1d")]
    public void ParseWindow_BareNumberOrOutOfRange_IsRefused(string text, string reason) =>
        FluentActions.Invoking(() => GraphCommand.ParseWindow(text)).Should().Throw<ArgumentException>().WithMessage($"--window: *{reason}*");

    [Fact]
    public async Task Engines_SameArchive_SameNodesEdgesCountsAndClosePercentiles()
    {
        var store = new DirectoryObjectStore(_archive.Root);
        var options = new ServiceGraphOptions { ArchiveBucket = "local" };
        var tables = Directory.GetFiles(Path.Combine(RepoPaths.Root, "athena", "tables"), "*.sql").Select(f => AthenaTableDefinition.Parse(File.ReadAllText(f))).ToList();
        var sql = new DuckDbGraphSqlEngine(_archive.Root, tables);
        var job = new ServiceGraphJob(new ReadOnlyStore(store), options, sql, NullLogger.Instance);

        var streamed = (await job.RunAsync(GraphTestArchive.WindowStart, GraphTestArchive.WindowEnd, GraphEngine.Stream, TestContext.Current.CancellationToken)).Document;
        var queried = (await job.RunAsync(GraphTestArchive.WindowStart, GraphTestArchive.WindowEnd, GraphEngine.Sql, TestContext.Current.CancellationToken)).Document;

        streamed.Engine.Should().Be("stream");
        queried.Engine.Should().Be("sql");
        Nodes(queried).Should().Equal(Nodes(streamed));
        Nodes(streamed).Should().Equal(
            ("api.example.com", "remote", 240L), ("client", "client", 0L), ("db.internal:5432/orders", "Database::SQL", 240L),
            ("orders", "AWS::DynamoDB::Table", 240L), ("resize", "AWS::Lambda", 48L), ("resize", "AWS::Lambda::Function", 48L),
            ("service-a", "AWS::EC2::Instance", 240L), ("service-b", "AWS::ECS::Container", 240L));
        var streamEdges = Edges(streamed);
        var sqlEdges = Edges(queried);
        sqlEdges.Keys.Should().BeEquivalentTo(streamEdges.Keys);
        streamEdges.Should().HaveCount(7);
        foreach (var (key, s) in streamEdges)
        {
            var q = sqlEdges[key];
            var (a, b) = (s.SummaryStatistics, q.SummaryStatistics);
            (b.TotalCount, b.OkCount, b.ErrorStatistics.OtherCount, b.ErrorStatistics.ThrottleCount, b.FaultStatistics.TotalCount)
                .Should().Be((a.TotalCount, a.OkCount, a.ErrorStatistics.OtherCount, a.ErrorStatistics.ThrottleCount, a.FaultStatistics.TotalCount), key);
            b.TotalResponseTime.Should().BeApproximately(a.TotalResponseTime, 1e-5, key);
            foreach (var (ps, pq) in new[] { (s.Percentiles.P50, q.Percentiles.P50), (s.Percentiles.P90, q.Percentiles.P90), (s.Percentiles.P99, q.Percentiles.P99) })
            {
                // The sketch is within 1 % of the nearest-rank value; DuckDB's quantile_disc may pick a neighbouring rank.
                ps!.Value.Should().BeApproximately(pq!.Value, pq.Value * 0.05, key);
            }
        }

        var ab = streamEdges["service-a->service-b"].SummaryStatistics;
        (ab.TotalCount, ab.FaultStatistics.TotalCount).Should().Be((240, 22));
        streamEdges["service-a->orders"].SummaryStatistics.ErrorStatistics.ThrottleCount.Should().Be(35);
        streamEdges["service-a->resize"].SummaryStatistics.TotalCount.Should().Be(48);
        streamEdges["resize->resize"].SummaryStatistics.TotalCount.Should().Be(48);
        streamEdges["service-b->api.example.com"].SummaryStatistics.FaultStatistics.TotalCount.Should().Be(27);
    }

    private static List<(string, string, long)> Nodes(GraphDocument d) =>
        [.. d.Services.Select(s => (s.Name, s.Type, s.SummaryStatistics?.TotalCount ?? 0)).OrderBy(n => n.Name, StringComparer.Ordinal)];

    private static Dictionary<string, EdgeDocument> Edges(GraphDocument d)
    {
        var byId = d.Services.ToDictionary(s => s.ReferenceId);
        return d.Services.SelectMany(s => s.Edges.Select(e => (Key: $"{s.Name}->{byId[e.ReferenceId].Name}", Edge: e))).ToDictionary(x => x.Key, x => x.Edge);
    }

    /// <summary>Reads the archive but keeps writes in memory, so the shared fixture is not changed by this test.</summary>
    private sealed class ReadOnlyStore(Pipeline.Aws.Storage.IObjectStore inner) : Pipeline.Aws.Storage.IObjectStore
    {
        public Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default) =>
            key.StartsWith("graphs/", StringComparison.Ordinal) ? Task.FromResult<byte[]?>(null) : inner.GetAsync(bucket, key, cancellationToken);

        public Task<IReadOnlyList<Pipeline.Aws.Storage.StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10000, CancellationToken cancellationToken = default) =>
            inner.ListAsync(bucket, prefix, maxKeys, cancellationToken);
    }
}
