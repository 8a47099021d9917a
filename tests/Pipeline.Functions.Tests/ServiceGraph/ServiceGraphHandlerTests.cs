using Pipeline.Functions.CostReport;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Athena;
using Pipeline.Core.Graph;
using Pipeline.Functions.ServiceGraph;
using Pipeline.Lambda;
using Pipeline.Testing.Builders;

using Pipeline.Runtime.Configuration;

namespace Pipeline.Functions.Tests.ServiceGraph;

public sealed class ServiceGraphHandlerTests
{
    private const string Bucket = "archive";
    private static readonly DateTimeOffset Hour = SegmentBuilder.DefaultStart; // 12:00Z
    private static readonly ServiceGraphOptions Options = new() { ArchiveBucket = Bucket };

    /// <summary>client -> service-a -> service-b, <paramref name="traces"/> times; every <paramref name="faultEvery"/>th call faults.</summary>
    private static async Task<InMemoryObjectStore> ArchiveAsync(InMemoryObjectStore? store = null, DateTimeOffset? at = null, int traces = 20, int faultEvery = 0, double callMillis = 40)
    {
        store ??= new InMemoryObjectStore();
        var start = at ?? Hour.AddMinutes(10);
        var lines = new StringBuilder();
        for (var i = 0; i < traces; i++)
        {
            var fault = faultEvery > 0 && i % faultEvery == 0;
            var trace = SegmentBuilder.NewTraceId(start, new Random(i + 1000));
            var call = SegmentBuilder.Embedded("service-b", 2000 + i, start).WithNamespace("remote")
                .WithDuration(TimeSpan.FromMilliseconds(callMillis + i)).WithHttp("GET", "http://service-b:3001/", fault ? 500 : 200);
            var a = SegmentBuilder.Segment("service-a", 3000 + i, start).WithTraceId(trace).WithHttp("GET", "http://a/", fault ? 500 : 200).WithSubsegment(call);
            var b = SegmentBuilder.Segment("service-b", 4000 + i, start).WithTraceId(trace).WithParentId(call.Id).WithHttp("GET", "http://b/", fault ? 500 : 200);
            lines.Append(b.ToJson()).Append('\n').Append(a.ToJson()).Append('\n');
        }

        using var gz = new MemoryStream();
        await using (var zip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            await zip.WriteAsync(Encoding.UTF8.GetBytes(lines.ToString()));
        }

        var key = $"segments/dt={start:yyyy-MM-dd}/hour={start:HH}/shardId-000000000000-{start.ToUnixTimeSeconds()}.ndjson.gz";
        await store.PutAsync(Bucket, key, gz.ToArray(), "application/gzip");
        return store;
    }

    private static MemoryStream Event(DateTimeOffset time, string detail = "{}") => new MemoryStream(Encoding.UTF8.GetBytes(
        $$"""{"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"{{time:yyyy-MM-ddTHH:mm:ssZ}}","region":"us-east-1","resources":[],"detail":{{detail}}}"""));

    private static InvocationContext Context() =>
        new("req-1", Hour.AddHours(5), null, null, new FakeTimeProvider(Hour.AddHours(1)), NullLogger.Instance, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Handle_ScheduledEvent_WritesThePreviousHoursGraph()
    {
        var store = await ArchiveAsync(faultEvery: 5);
        var handler = new ServiceGraphHandler(Options, store, sql: null);

        await using var response = await handler.HandleAsync(Event(Hour.AddHours(1).AddMinutes(2)), Context());

        using var body = await JsonDocument.ParseAsync(response, cancellationToken: TestContext.Current.CancellationToken);
        body.RootElement.GetProperty("json").GetString().Should().Be("graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json");
        store.Puts.Where(k => k.StartsWith("graphs/", StringComparison.Ordinal)).Should().BeEquivalentTo(
            "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json",
            "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.svg",
            "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.dot");
        var doc = ServiceGraphJson.TryDeserialize((await store.GetAsync(Bucket, "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json", TestContext.Current.CancellationToken))!)!;
        var a = doc.Services.Single(s => s.Name == "service-a");
        var b = doc.Services.Single(s => s.Name == "service-b");
        var client = doc.Services.Single(s => s.Name == "client");
        client.Edges.Single().ReferenceId.Should().Be(a.ReferenceId);
        var ab = a.Edges.Single(e => e.ReferenceId == b.ReferenceId);
        ab.SummaryStatistics.TotalCount.Should().Be(20);
        ab.SummaryStatistics.FaultStatistics.TotalCount.Should().Be(4);
        b.SummaryStatistics!.FaultStatistics.TotalCount.Should().Be(4);
        doc.Diff!.PreviousKey.Should().BeNull();
        doc.Diff.AddedNodes.Select(n => n.Name).Should().BeEquivalentTo("client", "service-a", "service-b");
    }

    [Fact]
    public async Task Handle_SameWindowTwice_SameKeysAndBytes()
    {
        var store = await ArchiveAsync(faultEvery: 3);
        var handler = new ServiceGraphHandler(Options, store, sql: null);

        await (await handler.HandleAsync(Event(Hour.AddHours(1)), Context())).DisposeAsync();
        var first = store.Objects.Where(o => o.Key.Contains("graphs/", StringComparison.Ordinal)).ToDictionary(o => o.Key, o => o.Value.Bytes);
        await (await handler.HandleAsync(Event(Hour.AddHours(1).AddMinutes(30)), Context())).DisposeAsync();
        var second = store.Objects.Where(o => o.Key.Contains("graphs/", StringComparison.Ordinal)).ToDictionary(o => o.Key, o => o.Value.Bytes);

        second.Keys.Should().BeEquivalentTo(first.Keys);
        foreach (var (key, bytes) in first)
        {
            second[key].Should().Equal(bytes, key);
        }
    }

    [Fact]
    public async Task Handle_PreviousWindowFaster_ReportsLatencyAndFailureRegressions()
    {
        var store = await ArchiveAsync(at: Hour.AddMinutes(-30), traces: 20, callMillis: 40);
        await ArchiveAsync(store, Hour.AddMinutes(20), traces: 20, faultEvery: 2, callMillis: 400);
        var handler = new ServiceGraphHandler(Options, store, sql: null);
        await (await handler.HandleAsync(Event(Hour), Context())).DisposeAsync();

        await (await handler.HandleAsync(Event(Hour.AddHours(1)), Context())).DisposeAsync();

        var doc = ServiceGraphJson.TryDeserialize((await store.GetAsync(Bucket, "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json", TestContext.Current.CancellationToken))!)!;
        doc.Diff!.PreviousKey.Should().Be("graphs/dt=2026-11-25/20261125T1100Z-20261125T1200Z.json");
        doc.Diff.AddedNodes.Should().BeEmpty();
        doc.Diff.Regressions.Should().Contain(r => r.From == "service-a" && r.To == "service-b" && r.Metric == GraphDiff.P99Metric);
        doc.Diff.Regressions.Should().Contain(r => r.From == "service-a" && r.To == "service-b" && r.Metric == GraphDiff.FailureRateMetric);
        var svg = Encoding.UTF8.GetString((await store.GetAsync(Bucket, "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.svg", TestContext.Current.CancellationToken))!);
        svg.Should().Contain("▲ p99");

        var mapped = ServiceGraphDiff.Summarize(doc, "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json")!;
        mapped.From.Should().Be("graphs/dt=2026-11-25/20261125T1100Z-20261125T1200Z.json");
        mapped.Regressions.Should().Contain(r => r.Subject == "service-a -> service-b" && r.Metric == "p99 latency");
    }

    [Fact]
    public async Task Handle_DetailWindow_OverridesTheScheduleTime()
    {
        var store = await ArchiveAsync();
        var handler = new ServiceGraphHandler(Options with { Window = TimeSpan.FromMinutes(30) }, store, sql: null);

        await (await handler.HandleAsync(Event(Hour.AddDays(3), """{"windowStart":"2026-11-25T12:00:00Z","windowEnd":"2026-11-25T12:30:00Z"}"""), Context())).DisposeAsync();

        store.Puts.Should().Contain("graphs/dt=2026-11-25/20261125T1200Z-20261125T1230Z.json");
    }

    [Theory]
    [InlineData("2026-11-25T13:00:00Z", 60, "2026-11-25T12:00:00Z")]
    [InlineData("2026-11-25T13:59:59Z", 60, "2026-11-25T12:00:00Z")]
    [InlineData("2026-11-25T00:07:00Z", 15, "2026-11-24T23:45:00Z")]
    public void PreviousWindow_IsTheLastFullAlignedWindow(string time, int minutes, string expectedStart)
    {
        var (start, end) = ServiceGraphJob.PreviousWindow(DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.FromMinutes(minutes));

        start.Should().Be(DateTimeOffset.Parse(expectedStart, System.Globalization.CultureInfo.InvariantCulture));
        (end - start).Should().Be(TimeSpan.FromMinutes(minutes));
    }

    [Fact]
    public async Task Handle_SqlEngineOnAthena_SendsTheGraphQueryAndUsesItsRows()
    {
        var store = new InMemoryObjectStore();
        var athena = new FakeAthena();
        var sql = new AthenaGraphSqlEngine(athena, new FakeTimeProvider(Hour), Options with { AthenaWorkGroup = "wg" }, TimeSpan.Zero);
        var handler = new ServiceGraphHandler(Options with { Engine = GraphEngine.Sql, AthenaWorkGroup = "wg" }, store, sql);

        await (await handler.HandleAsync(Event(Hour.AddHours(1)), Context())).DisposeAsync();

        athena.Started.Should().ContainSingle();
        athena.Started[0].QueryString.Should().Contain("FROM segments").And.Contain("approx_percentile").And.Contain("2026-11-25");
        athena.Started[0].WorkGroup.Should().Be("wg");
        athena.Started[0].Database.Should().Be(ServiceGraphOptions.DefaultAthenaDatabase);
        var doc = ServiceGraphJson.TryDeserialize((await store.GetAsync(Bucket, "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json", TestContext.Current.CancellationToken))!)!;
        doc.Engine.Should().Be("sql");
        doc.Services.Single(s => s.Name == "service-a").Edges.Single().SummaryStatistics.TotalCount.Should().Be(7);
    }

    [Fact]
    public void Options_FromEnvironment_BindsAndRejectsBadValues()
    {
        var env = new DictionaryEnvironment
        {
            ["ARCHIVE_BUCKET"] = "b",
            ["GRAPH_WINDOW_MINUTES"] = "15",
            ["GRAPH_ENGINE"] = "auto",
            ["GRAPH_SQL_THRESHOLD_SEGMENTS"] = "1000",
            ["ATHENA_WORKGROUP"] = "wg",
        };

        var options = ServiceGraphOptions.FromEnvironment(env);

        (options.ArchiveBucket, options.Window, options.Engine, options.SqlThresholdSegments, options.AthenaWorkGroup)
            .Should().Be(("b", TimeSpan.FromMinutes(15), GraphEngine.Auto, 1000L, "wg"));
        FluentActions.Invoking(() => ServiceGraphOptions.FromEnvironment(env.With("GRAPH_ENGINE", "spark")))
            .Should().Throw<ConfigurationException>().WithMessage("GRAPH_ENGINE: 'spark' is not one of stream, athena, sql, auto");
        FluentActions.Invoking(() => ServiceGraphOptions.FromEnvironment(env.With("GRAPH_WINDOW_MINUTES", "1441")))
            .Should().Throw<ConfigurationException>().WithMessage("GRAPH_WINDOW_MINUTES: '1441' is not a whole number from 1 to 1440");
        FluentActions.Invoking(() => ServiceGraphOptions.FromEnvironment(new DictionaryEnvironment()))
            .Should().Throw<ConfigurationException>().WithMessage("ARCHIVE_BUCKET is required*");
    }

    [Fact]
    public async Task LoadLatest_TwoWindows_MapsTheNewestDiffForTheCostReport()
    {
        var store = await ArchiveAsync(at: Hour.AddMinutes(-30));
        await ArchiveAsync(store, Hour.AddMinutes(20));
        var handler = new ServiceGraphHandler(Options, store, sql: null);
        await (await handler.HandleAsync(Event(Hour), Context())).DisposeAsync();
        await (await handler.HandleAsync(Event(Hour.AddHours(1)), Context())).DisposeAsync();

        var diff = await GraphDiffSource.LoadLatestAsync(store, Bucket, new DateOnly(2026, 11, 25), TestContext.Current.CancellationToken);

        diff!.To.Should().Be("graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json");
        diff.From.Should().Be("graphs/dt=2026-11-25/20261125T1100Z-20261125T1200Z.json");
        diff.IsEmpty.Should().BeTrue();
        (await GraphDiffSource.LoadLatestAsync(store, Bucket, new DateOnly(2026, 12, 3), TestContext.Current.CancellationToken)).Should().BeNull();
    }

    [Fact]
    public void Create_AthenaEngine_BuildsTheAthenaClientFromTheFactory()
    {
        using var http = new HttpClient();
        var env = new DictionaryEnvironment { ["ARCHIVE_BUCKET"] = "b", ["GRAPH_ENGINE"] = "auto", ["AWS_ACCESS_KEY_ID"] = "k", ["AWS_SECRET_ACCESS_KEY"] = "s" };
        var built = 0;

        var handler = ServiceGraphHandler.Create(new Pipeline.Functions.Hosting.HandlerInitContext(env, TimeProvider.System, http, NullLogger.Instance), _ =>
        {
            built++;
            return new FakeAthena();
        });

        handler.Should().NotBeNull();
        built.Should().Be(1);
    }

    [Fact]
    public async Task DiffSource_LatestGraphKey_MapsItsDiff()
    {
        var store = await ArchiveAsync(faultEvery: 2);
        await (await new ServiceGraphHandler(Options, store, sql: null).HandleAsync(Event(Hour.AddHours(1)), Context())).DisposeAsync();
        const string Key = "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json";

        var diff = await GraphDiffSource.Instance.GetDiffAsync(store, Bucket, Key, TestContext.Current.CancellationToken);

        diff!.To.Should().Be(Key);
        diff.AddedNodes.Should().BeEquivalentTo("client", "service-a", "service-b");
        diff.AddedEdges.Should().Contain(new GraphEdgeChange("service-a", "service-b"));
        (await GraphDiffSource.Instance.GetDiffAsync(store, Bucket, "graphs/none.json", TestContext.Current.CancellationToken)).Should().BeNull();
    }

    /// <summary>Answers like moto's canned Athena results: one succeeded query with the graph's columns.</summary>
    private sealed class FakeAthena : IAthenaClient
    {
        private static readonly string[] Columns =
            ["row_kind", "caller", "caller_type", "caller_kind", "callee", "callee_type", "callee_kind", "requests", "ok", "errors", "throttles", "faults", "total_seconds", "p50", "p90", "p99"];

        public List<AthenaQueryRequest> Started { get; } = [];

        public Task<string> StartQueryExecutionAsync(AthenaQueryRequest request, CancellationToken cancellationToken = default)
        {
            Started.Add(request);
            return Task.FromResult("q-1");
        }

        public Task<AthenaQueryExecution> GetQueryExecutionAsync(string queryExecutionId, CancellationToken cancellationToken = default) =>
            Task.FromResult(new AthenaQueryExecution(queryExecutionId, AthenaQueryState.Succeeded, null, 1234));

        public Task<AthenaResultPage> GetQueryResultsAsync(string queryExecutionId, string? nextToken, int maxResults = AthenaLimits.MaxResultsPerPage, CancellationToken cancellationToken = default) =>
            Task.FromResult(new AthenaResultPage(Columns,
            [
                ["edge", "client", "client", "client", "service-a", "service", "service", "7", "7", "0", "0", "0", "0.7", "0.1", "0.1", "0.1"],
                ["edge", "service-a", "service", "service", "orders", "AWS::DynamoDB::Table", "aws", "7", "6", "0", "1", "0", "0.07", "0.01", "0.01", "0.02"],
                ["node", "service-a", "service", "service", null, null, null, "7", "7", "0", "0", "0", "0.7", "0.1", "0.1", "0.1"],
            ], null));
    }
}
