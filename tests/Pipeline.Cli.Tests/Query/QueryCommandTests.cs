using System.CommandLine;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Http;
using Pipeline.Aws;
using Pipeline.Aws.Athena;
using Pipeline.Aws.Configuration;
using Pipeline.Cli.Query;
using Pipeline.Cli.Tests.Deployed;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.LocalAws.Moto;

namespace Pipeline.Cli.Tests.Query;

/// <summary>`pipeline query` end to end through System.CommandLine: local directory, S3 (moto), Athena (fake).</summary>
public sealed class QueryCommandTests : IClassFixture<QueryTestArchive>, IClassFixture<MotoFixture>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);
    private static readonly HttpClient Http = AwsHttp.CreateClient();
    private readonly QueryTestArchive _archive;
    private readonly MotoFixture _moto;

    public QueryCommandTests(QueryTestArchive archive, MotoFixture moto)
    {
        _archive = archive;
        _moto = moto;
    }

    [Fact]
    public async Task Query_NamedWithParamsFromDataDir_WritesCsv()
    {
        var (code, output, error) = await InvokeAsync(Context(),
            "query", "--named", "quarantine-reasons", "--data-dir", _archive.Root, "--format", "csv",
            "--param", "dt_from=2026-11-24", "--param", "dt_to=2026-11-25");

        error.Should().BeEmpty();
        code.Should().Be(0);
        output.Should().Be(
            "reason,documents,paths,first_seen,last_seen\r\n" +
            "invalid_trace_id,2,1,2026-11-25T07:01:00.000Z,2026-11-25T07:05:00.000Z\r\n" +
            "missing_name,1,1,2026-11-25T07:03:00.000Z,2026-11-25T07:03:00.000Z\r\n" +
            "too_large,1,1,2026-11-24T23:59:00.000Z,2026-11-24T23:59:00.000Z\r\n");
    }

    [Fact]
    public async Task Query_DefaultWindow_UsesTodayFromTheClock()
    {
        // The clock says 2026-11-25, so the default window (today-1..today) is the test window.
        var (code, output, _) = await InvokeAsync(Context(),
            "query", "--named", "trace-segments", "--param", $"trace_id={QueryTestArchive.Trace2}", "--data-dir", _archive.Root, "--format", "json");

        code.Should().Be(0);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(2)
            .And.AllSatisfy(line => line.Should().StartWith("{\"id\":"));
    }

    [Fact]
    public async Task Query_AdHocTable_RendersColumnsAndRowCount()
    {
        var (code, output, _) = await InvokeAsync(Context(),
            "query", "SELECT name, count(*) AS n FROM segments WHERE name IS NOT NULL GROUP BY name ORDER BY name", "--data-dir", _archive.Root, "--format", "table");

        code.Should().Be(0);
        output.Should().Contain("name").And.Contain("service-a").And.Contain("service-b").And.Contain("2 row(s)");
    }

    [Fact]
    public async Task Query_List_NamesEveryQueryWithItsParameters()
    {
        var (code, output, _) = await InvokeAsync(Context(), "query", "--list");

        code.Should().Be(0);
        output.Should().Contain("traces-by-annotation key=<text> value=<text> [dt_from=today-1] [dt_to=today]")
            .And.Contain("slowest-traces").And.Contain("service-edges");
    }

    [Theory]
    [InlineData("--named", "no-such-query")]
    [InlineData("--named", "traces-by-annotation")]
    [InlineData("--named", "slowest-traces", "--param", "limit=1;DROP")]
    [InlineData("SELECT * FROM nowhere")]
    public async Task Query_UserError_ExitsOneWithAMessage(params string[] args)
    {
        var (code, output, error) = await InvokeAsync(Context(), ["query", .. args, "--data-dir", _archive.Root]);

        code.Should().Be(1);
        output.Should().BeEmpty();
        error.Should().StartWith("pipeline query: ");
    }

    [Fact]
    public async Task Query_FromMotoS3_CopiesTheWindowAndCountsItsSegments()
    {
        var bucket = MotoFixture.UniqueName("archive");
        using (var s3 = S3())
        {
            await s3.PutBucketAsync(bucket, TestContext.Current.CancellationToken);
            foreach (var file in Directory.EnumerateFiles(_archive.Root, "*", SearchOption.AllDirectories))
            {
                var key = Path.GetRelativePath(_archive.Root, file).Replace('\\', '/');
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, FilePath = file }, TestContext.Current.CancellationToken);
            }
        }

        var (code, output, error) = await InvokeAsync(Context(),
            "query", "SELECT count(trace_id) AS n FROM segments", "--bucket", bucket, "--endpoint-url", _moto.Endpoint.ToString(),
            "--from", QueryTestArchive.DtFrom, "--to", QueryTestArchive.DtTo, "--format", "csv");

        code.Should().Be(0, error);
        output.Should().Be($"n\r\n{QueryTestArchive.SegmentsInWindow}\r\n");
        error.Should().Contain("copied 8 object(s)");
    }

    [Fact]
    public async Task Query_TargetAthena_SendsAthenaSqlUntranslatedThroughTheStacksWorkGroupAndPagesResults()
    {
        var athena = new FakeAthena(pollsBeforeDone: 2, pages:
        [
            new AthenaResultPage(["reason", "documents"], [["reason", "documents"], ["InvalidTraceId", "2"]], "t1"),
            new AthenaResultPage(["reason", "documents"], [["MissingName", "1"]], null),
        ]);
        var cloudFormation = new FakeCloudFormation().With("prod", FakeCloudFormation.AthenaOutputs("prod"));

        var (code, output, error) = await InvokeAsync(Context(athena, cloudFormation),
            "query", "--named", "quarantine-reasons", "--target", "athena", "--stack", "prod", "--format", "csv");

        code.Should().Be(0, error);
        output.Should().Be("reason,documents\r\nInvalidTraceId,2\r\nMissingName,1\r\n");
        cloudFormation.Asked.Should().Equal("prod");
        athena.Started.Should().ContainSingle().Which.Should().Match<AthenaQueryRequest>(r =>
            r.WorkGroup == "prod-archive" && r.OutputLocation == "s3://prod-athenaresults/athena-results/" && r.Database == "xray_pipeline"
            && r.QueryString.Contains("dt BETWEEN '2026-11-24' AND '2026-11-25'") && !r.QueryString.Contains("quantile"));
        error.Should().Contain("Athena q-1 in workgroup prod-archive");
        athena.Polls.Should().Be(3);
        athena.Tokens.Should().Equal(null, "t1");
    }

    [Fact]
    public async Task Query_TargetAthenaWithoutStackFlag_ReadsSamConfigsStack()
    {
        var athena = new FakeAthena(pollsBeforeDone: 0, pages: [new AthenaResultPage(["n"], [["n"], ["1"]], null)]);
        var cloudFormation = new FakeCloudFormation().With("xray-pipeline", FakeCloudFormation.AthenaOutputs("xray-pipeline"));

        var (code, _, error) = await InvokeAsync(Context(athena, cloudFormation), "query", "select 1 AS n", "--target", "athena", "--format", "csv");

        code.Should().Be(0, error);
        cloudFormation.Asked.Should().Equal("xray-pipeline");
        athena.Started.Should().ContainSingle().Which.WorkGroup.Should().Be("xray-pipeline-archive");
    }

    [Fact]
    public async Task Query_TargetAthenaUnknownStack_FailsNamingItAndStartsNoQuery()
    {
        var athena = new FakeAthena(pollsBeforeDone: 0, pages: []);

        var (code, _, error) = await InvokeAsync(Context(athena, new FakeCloudFormation()), "query", "select 1", "--target", "athena", "--stack", "gone");

        code.Should().Be(1);
        error.Should().StartWith("pipeline query: stack 'gone' does not exist in us-east-1");
        athena.Started.Should().BeEmpty();
    }

    private static QueryCommandContext Context(IAthenaClient? athena = null, FakeCloudFormation? cloudFormation = null) =>
        new(new FakeTimeProvider(Now), new DictionaryEnvironment(new Dictionary<string, string>()), Http, RepoPaths.Root, outputIsTerminal: false)
        {
            AthenaFactory = _ => athena ?? throw new InvalidOperationException("no Athena in this test"),
            CloudFormationFactory = _ => cloudFormation ?? throw new InvalidOperationException("no CloudFormation in this test"),
            AthenaPollInterval = TimeSpan.Zero,
        };

    private AmazonS3Client S3() => new(
        new Amazon.Runtime.BasicAWSCredentials(MotoServer.AccessKeyId, MotoServer.SecretAccessKey),
        new AmazonS3Config { ServiceURL = _moto.Endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = _moto.Region });

    private static async Task<(int Code, string Output, string Error)> InvokeAsync(QueryCommandContext context, params string[] args)
    {
        var root = new RootCommand("pipeline") { QueryCommand.Create(context) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>In-memory Athena: RUNNING for a few polls, then SUCCEEDED with canned pages.</summary>
    private sealed class FakeAthena(int pollsBeforeDone, IReadOnlyList<AthenaResultPage> pages) : IAthenaClient
    {
        public List<AthenaQueryRequest> Started { get; } = [];

        public List<string?> Tokens { get; } = [];

        public int Polls { get; private set; }

        public Task<string> StartQueryExecutionAsync(AthenaQueryRequest request, CancellationToken cancellationToken = default)
        {
            Started.Add(request);
            return Task.FromResult("q-1");
        }

        public Task<AthenaQueryExecution> GetQueryExecutionAsync(string queryExecutionId, CancellationToken cancellationToken = default)
        {
            Polls++;
            var state = Polls > pollsBeforeDone ? AthenaQueryState.Succeeded : AthenaQueryState.Running;
            return Task.FromResult(new AthenaQueryExecution(queryExecutionId, state, null, 1234));
        }

        public Task<AthenaResultPage> GetQueryResultsAsync(string queryExecutionId, string? nextToken, int maxResults = AthenaLimits.MaxResultsPerPage, CancellationToken cancellationToken = default)
        {
            Tokens.Add(nextToken);
            return Task.FromResult(pages[Tokens.Count - 1]);
        }
    }
}
