using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws;
using Pipeline.Aws.Athena;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.LocalAws.Moto;

namespace Pipeline.IntegrationTests.Athena;

/// <summary>
/// The thin Athena client against moto (canned results, state progression driven by moto's
/// state manager) and, for NextToken paging that moto does not do, against a loopback-free
/// in-memory HTTP handler answering Athena's wire format.
/// </summary>
public sealed class AthenaClientTests : IClassFixture<MotoFixture>
{
    private const string OutputLocation = "s3://athena-results/queries/";
    private readonly MotoFixture _moto;

    public AthenaClientTests(MotoFixture moto)
    {
        _moto = moto;
    }

    [Fact]
    public async Task Runner_AgainstMoto_StartsPollsUntilSucceededAndReadsCannedRows()
    {
        var ct = TestContext.Current.CancellationToken;
        using var recorder = new RecordingHandler(new SocketsHttpHandler { UseProxy = false });
        using var http = new HttpClient(recorder);
        await PostMotoApiAsync(http, "/moto-api/state-manager/set-transition",
            """{"model_name": "athena::execution", "transition": {"progression": "manual", "times": 2}}""", ct);
        await PostMotoApiAsync(http, "/moto-api/static/athena/query-results", """
            {"region": "us-east-1", "results": [{
              "rows": [
                {"Data": [{"VarCharValue": "reason"}, {"VarCharValue": "documents"}]},
                {"Data": [{"VarCharValue": "InvalidTraceId"}, {"VarCharValue": "2"}]},
                {"Data": [{"VarCharValue": "MissingName"}, {}]}
              ],
              "column_info": [{"Name": "reason", "Type": "varchar"}, {"Name": "documents", "Type": "bigint"}]
            }]}
            """, ct);
        recorder.Requests.Clear();
        var client = Client(http);

        var outcome = await new AthenaQueryRunner(client, TimeProvider.System, pollInterval: TimeSpan.Zero)
            .RunAsync(new AthenaQueryRequest("SELECT reason, count(*) FROM quarantine GROUP BY 1", "xray_pipeline", "primary", OutputLocation), maxRows: 100, ct);

        outcome.Columns.Should().Equal("reason", "documents");
        outcome.Rows.Should().BeEquivalentTo(new[] { new[] { "InvalidTraceId", "2" }, new[] { "MissingName", null } }, o => o.WithStrictOrdering());
        outcome.Truncated.Should().BeFalse();
        outcome.Polls.Should().Be(4, "moto moves QUEUED -> RUNNING -> SUCCEEDED every second describe");
        outcome.Pages.Should().Be(1);

        recorder.Requests.Select(r => r.Target).Should().Equal(
            "AmazonAthena.StartQueryExecution",
            "AmazonAthena.GetQueryExecution", "AmazonAthena.GetQueryExecution", "AmazonAthena.GetQueryExecution", "AmazonAthena.GetQueryExecution",
            "AmazonAthena.GetQueryResults");
        recorder.Requests.Should().AllSatisfy(r =>
        {
            r.ContentType.Should().Be("application/x-amz-json-1.1");
            r.Authorization.Should().Contain("/us-east-1/athena/aws4_request");
        });
        var start = JsonNode.Parse(recorder.Requests[0].Body)!;
        start["QueryString"]!.GetValue<string>().Should().Be("SELECT reason, count(*) FROM quarantine GROUP BY 1");
        start["QueryExecutionContext"]!["Database"]!.GetValue<string>().Should().Be("xray_pipeline");
        start["ResultConfiguration"]!["OutputLocation"]!.GetValue<string>().Should().Be(OutputLocation);
        start["WorkGroup"]!.GetValue<string>().Should().Be("primary");
        start["ClientRequestToken"]!.GetValue<string>().Should().HaveLength(32);
        var results = JsonNode.Parse(recorder.Requests[^1].Body)!;
        results["QueryExecutionId"]!.GetValue<string>().Should().Be(outcome.QueryExecutionId);
        results["MaxResults"]!.GetValue<int>().Should().Be(AthenaLimits.MaxResultsPerPage);
        results["NextToken"].Should().BeNull();
    }

    [Fact]
    public async Task Client_AgainstMoto_ReportsStatesAndRefusesResultsBeforeSuccess()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        await PostMotoApiAsync(http, "/moto-api/state-manager/set-transition",
            """{"model_name": "athena::execution", "transition": {"progression": "manual", "times": 1}}""", ct);
        var client = Client(http);
        var id = await client.StartQueryExecutionAsync(new AthenaQueryRequest("SELECT 1", null, null, OutputLocation), ct);

        var early = async () => await client.GetQueryResultsAsync(id, null, 10, ct);
        await early.Should().ThrowAsync<AwsServiceException>().Where(e => e.ErrorCode == "InvalidRequestException");
        var states = new List<AthenaQueryState>();
        for (var i = 0; i < 3; i++)
        {
            states.Add((await client.GetQueryExecutionAsync(id, ct)).State);
        }

        states.Should().Equal(AthenaQueryState.Running, AthenaQueryState.Succeeded, AthenaQueryState.Succeeded);
    }

    [Fact]
    public async Task Client_UnknownWorkGroup_IsAnAwsError()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });

        var act = async () => await Client(http).StartQueryExecutionAsync(new AthenaQueryRequest("SELECT 1", null, "no-such-workgroup", OutputLocation), ct);

        await act.Should().ThrowAsync<AwsServiceException>();
    }

    [Fact]
    public async Task Runner_NextTokenPages_FollowsTokensSkipsHeaderOnceAndStopsAtMaxRows()
    {
        var ct = TestContext.Current.CancellationToken;
        var handler = new CannedAthena(
            """{"ResultSet": {"ResultSetMetadata": {"ColumnInfo": [{"Name": "n"}]}, "Rows": [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "1"}]}, {"Data": [{"VarCharValue": "2"}]}]}, "NextToken": "page-2"}""",
            """{"ResultSet": {"ResultSetMetadata": {"ColumnInfo": [{"Name": "n"}]}, "Rows": [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "3"}]}]}, "NextToken": "page-3"}""",
            """{"ResultSet": {"ResultSetMetadata": {"ColumnInfo": [{"Name": "n"}]}, "Rows": [{"Data": [{"VarCharValue": "4"}]}]}}""");
        using var http = new HttpClient(handler);
        var client = AthenaClientFactory.Create(
            new AwsSettings { EndpointUrl = new Uri("http://athena.test/"), AccessKeyId = "k", SecretAccessKey = "s" },
            http, new FakeTimeProvider());

        var all = await new AthenaQueryRunner(client, TimeProvider.System, TimeSpan.Zero).RunAsync(new AthenaQueryRequest("SELECT n", null, null, OutputLocation), 100, ct);

        // A value equal to the column name on a later page is data, not a header.
        all.Rows.Select(r => r[0]).Should().Equal("1", "2", "n", "3", "4");
        all.Pages.Should().Be(3);
        handler.ResultTokens.Should().Equal(null, "page-2", "page-3");

        handler.Reset();
        var capped = await new AthenaQueryRunner(client, TimeProvider.System, TimeSpan.Zero).RunAsync(new AthenaQueryRequest("SELECT n", null, null, OutputLocation), 2, ct);

        capped.Rows.Select(r => r[0]).Should().Equal("1", "2");
        capped.Truncated.Should().BeTrue();
        handler.ResultTokens.Should().Equal([null], "no page is fetched past the row limit");
    }

    [Fact]
    public async Task Runner_FailedQuery_ThrowsWithTheReason()
    {
        var handler = new CannedAthena() { FinalState = "FAILED", Reason = "SYNTAX_ERROR: line 1:8" };
        using var http = new HttpClient(handler);
        var client = AthenaClientFactory.Create(
            new AwsSettings { EndpointUrl = new Uri("http://athena.test/"), AccessKeyId = "k", SecretAccessKey = "s" },
            http);

        var act = async () => await new AthenaQueryRunner(client, TimeProvider.System, TimeSpan.Zero)
            .RunAsync(new AthenaQueryRequest("SELEC 1", null, null, OutputLocation), 10, TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<AthenaQueryFailedException>().WithMessage("*FAILED*SYNTAX_ERROR*");
    }

    [Fact]
    public void ResolveEndpoint_ServiceVariable_WinsOverSharedEndpoint()
    {
        var env = new DictionaryEnvironment { ["AWS_ENDPOINT_URL"] = "http://shared:1/", ["AWS_REGION"] = "eu-west-1" };

        AwsSettings.FromEnvironment(env.With("AWS_ENDPOINT_URL_ATHENA", "http://athena-only:2/")).ResolveEndpoint(AwsService.Athena).Should().Be(new Uri("http://athena-only:2/"));
        AwsSettings.FromEnvironment(env).ResolveEndpoint(AwsService.Athena).Should().Be(new Uri("http://shared:1/"));
        AwsSettings.FromEnvironment(env.With("AWS_ENDPOINT_URL", null)).ResolveEndpoint(AwsService.Athena)
            .Should().Be(new Uri("https://athena.eu-west-1.amazonaws.com/"));
    }

    private IAthenaClient Client(HttpClient http) => AthenaClientFactory.Create(
        new AwsSettings { EndpointUrl = _moto.Endpoint, Region = _moto.Region, AccessKeyId = MotoServer.AccessKeyId, SecretAccessKey = MotoServer.SecretAccessKey },
        http);

    private async Task PostMotoApiAsync(HttpClient http, string path, string json, CancellationToken ct)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(_moto.Endpoint, path), content, ct);
        response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync(ct));
    }

    private sealed record RecordedRequest(string? Target, string? ContentType, string Authorization, string Body);

    private sealed class RecordingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public List<RecordedRequest> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
            Requests.Add(new RecordedRequest(
                request.Headers.TryGetValues("X-Amz-Target", out var t) ? t.Single() : null,
                request.Content?.Headers.ContentType?.ToString(),
                request.Headers.TryGetValues("Authorization", out var a) ? a.Single() : string.Empty,
                body));
            return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Answers Athena's JSON 1.1 calls in memory: one query, then the given result pages in order.</summary>
    private sealed class CannedAthena(params string[] pages) : HttpMessageHandler
    {
        public string FinalState { get; init; } = "SUCCEEDED";

        public string? Reason { get; init; }

        public List<string?> ResultTokens { get; } = [];

        public void Reset() => ResultTokens.Clear();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var target = request.Headers.GetValues("X-Amz-Target").Single();
            using var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken));
            var answer = target switch
            {
                "AmazonAthena.StartQueryExecution" => """{"QueryExecutionId": "q-1"}""",
                "AmazonAthena.GetQueryExecution" => JsonSerializer.Serialize(new
                {
                    QueryExecution = new { QueryExecutionId = "q-1", Status = new { State = FinalState, StateChangeReason = Reason }, Statistics = new { DataScannedInBytes = 42 } },
                }),
                "AmazonAthena.GetQueryResults" => Page(body.RootElement),
                _ => throw new InvalidOperationException(target),
            };
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer, Encoding.UTF8, "application/x-amz-json-1.1") };
        }

        private string Page(JsonElement request)
        {
            var token = request.TryGetProperty("NextToken", out var t) ? t.GetString() : null;
            ResultTokens.Add(token);
            return pages[ResultTokens.Count - 1];
        }
    }
}
