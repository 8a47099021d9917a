using System.CommandLine;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws;
using Pipeline.Aws.Athena;
using Pipeline.Aws.Http;
using Pipeline.Runtime.Configuration;
using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;
using Pipeline.Testing;
using Pipeline.Testing.Builders;
using Pipeline.LocalAws.Moto;

namespace Pipeline.Cli.Tests.Trace;

/// <summary>`pipeline trace` end to end through System.CommandLine: local directory (DuckDB), S3 (moto), Athena (fake and moto).</summary>
public sealed class TraceCommandTests : IClassFixture<TraceTestArchive>, IClassFixture<MotoFixture>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly HttpClient Http = AwsHttp.CreateClient();
    private readonly TraceTestArchive _archive;
    private readonly MotoFixture _moto;

    public TraceCommandTests(TraceTestArchive archive, MotoFixture moto)
    {
        _archive = archive;
        _moto = moto;
    }

    [Fact]
    public async Task Trace_FaultedFromDataDir_PrintsTheWaterfallAndWhatWasRead()
    {
        var (code, output, error) = await InvokeAsync(Context(), "trace", TraceTestArchive.Faulted, "--data-dir", _archive.Root);

        code.Should().Be(0, error);
        var lines = output.Split('\n');
        lines[0].Should().Be($"trace {TraceTestArchive.Faulted}  300.0 ms  2 segment(s), 5 span(s)  fault");
        lines.Should().Contain(l => l.StartsWith("service-b", StringComparison.Ordinal) && l.Contains("      DynamoDB", StringComparison.Ordinal) && l.Contains("190.0 ms", StringComparison.Ordinal));
        error.Should().Contain("reading 2026-11-25 07..08h")
            .And.Contain($"read 2 hour partition(s) (2026-11-25 07..08h) in 1 round(s): 2 object(s), {Bytes(_archive.HourBytes(TraceTestArchive.FaultedStart) + _archive.HourBytes(TraceTestArchive.FaultedStart.AddHours(1)))} from local archive");
    }

    [Fact]
    public async Task Trace_ArchivedLate_WidensOnlyAfterTheFirstHoursMiss()
    {
        var (code, output, error) = await InvokeAsync(Context(), "trace", TraceTestArchive.Late, "--data-dir", _archive.Root, "--format", "json");

        code.Should().Be(0, error);
        error.Should().Contain("reading 2026-11-25 03h").And.Contain("not found yet; widening to 2026-11-25 02h, 2026-11-25 04..06h");
        using var json = JsonDocument.Parse(output);
        var read = json.RootElement.GetProperty("read");
        read.GetProperty("rounds").GetInt32().Should().Be(2);
        read.GetProperty("hours").EnumerateArray().Select(h => h.GetString()).Should().Equal(
            "2026-11-25T02", "2026-11-25T03", "2026-11-25T04", "2026-11-25T05", "2026-11-25T06");
    }

    [Fact]
    public async Task Trace_Json_GivesEverySpanWithParentDepthAndDuration()
    {
        var (code, output, _) = await InvokeAsync(Context(), "trace", TraceTestArchive.Faulted, "--data-dir", _archive.Root, "--format", "json");

        code.Should().Be(0);
        using var json = JsonDocument.Parse(output);
        var spans = json.RootElement.GetProperty("spans").EnumerateArray().ToList();
        spans.Select(s => (s.GetProperty("id").GetString()!, s.GetProperty("depth").GetInt32(), s.GetProperty("offset_ms").GetDouble(), s.GetProperty("duration_ms").GetDouble()))
            .Should().Equal(DemoTrace.Spans.Select(s => (s.Id, s.Depth, s.OffsetMs, s.DurationMs)));
        spans[2].GetProperty("parent_id").GetString().Should().Be(DemoTrace.CallB);
        spans[2].GetProperty("document").GetProperty("cause").GetProperty("exceptions")[0].GetProperty("message").GetString().Should().Be("payment table unavailable");
        json.RootElement.GetProperty("fault").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task Trace_W3CFormOfTheId_FindsTheSameTrace()
    {
        var w3c = TraceTestArchive.Faulted.Replace("1-", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);

        var (code, output, _) = await InvokeAsync(Context(), "trace", w3c, "--data-dir", _archive.Root);

        code.Should().Be(0);
        output.Should().StartWith("trace " + TraceTestArchive.Faulted);
    }

    [Fact]
    public async Task Trace_NotInTheArchive_ExitsTwoAfterTheBoundedWidening()
    {
        var (code, output, error) = await InvokeAsync(Context(), "trace", TraceTestArchive.Missing, "--data-dir", _archive.Root);

        code.Should().Be(TraceCommand.NotFoundExitCode);
        output.Should().BeEmpty();
        error.Should().Contain($"{TraceTestArchive.Missing} not found in 27 hour partition(s) (2026-11-25 05h..2026-11-26 07h) in 3 round(s)");
    }

    [Theory]
    [InlineData("1-nothex")]
    [InlineData("1-00000001-000000000000000000000001")]
    public async Task Trace_BadIdOrImplausibleEpoch_ExitsOneWithAMessage(string id)
    {
        var (code, _, error) = await InvokeAsync(Context(), "trace", id, "--data-dir", _archive.Root);

        code.Should().Be(1);
        error.Should().StartWith("pipeline trace: ");
    }

    [Fact]
    public async Task Trace_HostileId_IsEscapedInTheError()
    {
        var (code, _, error) = await InvokeAsync(Context(), "trace", "1-\u001b]0;owned\u0007", "--data-dir", _archive.Root);

        code.Should().Be(1);
        error.Should().NotContain("\u001b").And.Contain("\\x1b");
    }

    [Fact]
    public async Task Trace_FromTo_ReadsExactlyThatWindow()
    {
        var (code, _, error) = await InvokeAsync(Context(), "trace", TraceTestArchive.Late, "--data-dir", _archive.Root, "--from", "2026-11-25T06:00Z", "--to", "2026-11-25T06:30Z");

        code.Should().Be(0, error);
        error.Should().Contain("read 1 hour partition(s) (2026-11-25 06h) in 1 round(s)");
    }

    [Fact]
    public async Task Trace_HtmlOpen_WritesThePageUnderTheStateDirAndOpensIt()
    {
        var work = Directory.CreateTempSubdirectory("pipeline-trace-open-");
        try
        {
            var opened = new List<string>();
            var context = new TraceCommandContext(Context(work.FullName), opened.Add);

            var (code, output, _) = await InvokeAsync(context, "trace", TraceTestArchive.Faulted, "--data-dir", _archive.Root, "--open");

            code.Should().Be(0);
            var page = Path.Combine(work.FullName, ".pipeline", TraceCommand.PagesDir, TraceTestArchive.Faulted + ".html");
            opened.Should().Equal(page);
            File.ReadAllText(page).Should().Contain("data-span-id=\"" + DemoTrace.Dynamo + "\"");
            output.Should().Contain("DynamoDB", "the waterfall is still printed");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Trace_FormatHtml_WritesTheStandalonePageToStdout()
    {
        var (code, output, _) = await InvokeAsync(Context(), "trace", TraceTestArchive.Faulted, "--data-dir", _archive.Root, "--format", "html");

        code.Should().Be(0);
        output.Should().StartWith("<!DOCTYPE html>").And.Contain("Content-Security-Policy");
    }

    [Fact]
    public async Task Trace_FromMotoBucket_CopiesOnlyTheHoursItReads()
    {
        var ct = TestContext.Current.CancellationToken;
        var bucket = MotoFixture.UniqueName("trace-archive");
        using var s3 = S3();
        await s3.PutBucketAsync(bucket, ct);
        foreach (var file in Directory.EnumerateFiles(_archive.Root, "*", SearchOption.AllDirectories))
        {
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Path.GetRelativePath(_archive.Root, file).Replace('\\', '/'), FilePath = file }, ct);
        }

        var (code, output, error) = await InvokeAsync(Context(motoEnvironment: true), "trace", TraceTestArchive.Faulted, "--bucket", bucket, "--endpoint-url", _moto.Endpoint.ToString());

        code.Should().Be(0, error);
        output.Should().Contain("DynamoDB");
        error.Should().Contain($"2 object(s)").And.Contain("from s3://" + bucket);
    }

    [Fact]
    public async Task Trace_TargetAthena_SendsPartitionPrunedSqlAndPrintsBytesScanned()
    {
        var lines = DemoTrace.Documents(TraceTestArchive.FaultedStart, TraceTestArchive.Faulted);
        var athena = new FakeAthena(lines, scannedBytes: 4321);

        var (code, output, error) = await InvokeAsync(Context(athena: athena), "trace", TraceTestArchive.Faulted, "--target", "athena", "--workgroup", "wg", "--database", "xray_pipeline", "--output-location", "s3://results/");

        code.Should().Be(0, error);
        output.Should().Contain("DynamoDB");
        athena.Started.Should().ContainSingle().Which.Should().Match<AthenaQueryRequest>(r =>
            r.WorkGroup == "wg" && r.Database == "xray_pipeline" && r.OutputLocation == "s3://results/"
            && r.QueryString.Contains("FROM segments_raw") && r.QueryString.Contains("(dt = '2026-11-25' AND \"hour\" IN ('07', '08'))")
            && r.QueryString.Contains("strpos(lower(line), '" + TraceTestArchive.Faulted + "')"));
        error.Should().Contain("Athena q-1, 4321 bytes scanned").And.Contain("4.2 KiB scanned by Athena");
    }

    [Fact]
    public async Task Trace_TargetAthenaOnMoto_ReadsCannedRowsOverTheWire()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var rows = new List<object> { new { Data = new[] { new { VarCharValue = "line" } } } };
        rows.AddRange(DemoTrace.Documents(TraceTestArchive.FaultedStart, TraceTestArchive.Faulted).Select(l => new { Data = new[] { new { VarCharValue = l } } }));
        // Serialized with the default (PascalCase) names: Athena's wire format, which moto stores as given.
        var canned = JsonSerializer.Serialize(new
        {
            region = _moto.Region,
            results = new[] { new { rows, column_info = new[] { new { Name = "line", Type = "varchar" } } } },
        });
        using (var content = new StringContent(canned, System.Text.Encoding.UTF8, "application/json"))
        using (var response = await http.PostAsync(new Uri(_moto.Endpoint, "/moto-api/static/athena/query-results"), content, ct))
        {
            response.EnsureSuccessStatusCode();
        }

        var (code, output, error) = await InvokeAsync(Context(motoEnvironment: true), "trace", TraceTestArchive.Faulted,
            "--target", "athena", "--endpoint-url", _moto.Endpoint.ToString(), "--workgroup", "primary", "--database", "xray_pipeline", "--output-location", "s3://results/");

        code.Should().Be(0, error);
        output.Should().Contain("service-b").And.Contain("DynamoDB");
        error.Should().MatchRegex("Athena [0-9a-f-]+, 0 bytes scanned", "moto reports no scanned bytes; the line is printed all the same");
    }

    private static string Bytes(long bytes) => Pipeline.Core.Traces.TraceReadReport.Size(bytes);

    private QueryCommandContext Context(string? workingDirectory = null, IAthenaClient? athena = null, bool motoEnvironment = false)
    {
        var environment = new DictionaryEnvironment(motoEnvironment ? new Dictionary<string, string>(_moto.EnvironmentVariables) : []);
        var time = new FakeTimeProvider(Now);
        var directory = workingDirectory ?? RepoPaths.Root;
        return athena is null
            ? new QueryCommandContext(time, environment, Http, directory, outputIsTerminal: false) { AthenaPollInterval = TimeSpan.Zero }
            : new QueryCommandContext(time, environment, Http, directory, outputIsTerminal: false) { AthenaPollInterval = TimeSpan.Zero, AthenaFactory = _ => athena };
    }

    private AmazonS3Client S3() => new(
        new Amazon.Runtime.BasicAWSCredentials(MotoServer.AccessKeyId, MotoServer.SecretAccessKey),
        new AmazonS3Config { ServiceURL = _moto.Endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = _moto.Region });

    private static Task<(int Code, string Output, string Error)> InvokeAsync(QueryCommandContext context, params string[] args) =>
        InvokeAsync(new TraceCommandContext(context), args);

    private static async Task<(int Code, string Output, string Error)> InvokeAsync(TraceCommandContext context, params string[] args)
    {
        var root = new RootCommand("pipeline") { TraceCommand.Create(context) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>In-memory Athena: SUCCEEDED at once, the lines as one page after the header row.</summary>
    private sealed class FakeAthena(IReadOnlyList<string> lines, long scannedBytes) : IAthenaClient
    {
        public List<AthenaQueryRequest> Started { get; } = [];

        public Task<string> StartQueryExecutionAsync(AthenaQueryRequest request, CancellationToken cancellationToken = default)
        {
            Started.Add(request);
            return Task.FromResult("q-" + Started.Count);
        }

        public Task<AthenaQueryExecution> GetQueryExecutionAsync(string queryExecutionId, CancellationToken cancellationToken = default) =>
            Task.FromResult(new AthenaQueryExecution(queryExecutionId, AthenaQueryState.Succeeded, null, scannedBytes));

        public Task<AthenaResultPage> GetQueryResultsAsync(string queryExecutionId, string? nextToken, int maxResults = AthenaLimits.MaxResultsPerPage, CancellationToken cancellationToken = default) =>
            Task.FromResult(new AthenaResultPage(["line"], [["line"], .. lines.Select(l => (IReadOnlyList<string?>)[l])], null));
    }
}
