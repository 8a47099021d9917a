using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Cli.Local;
using Pipeline.Cli.Verify;
using Pipeline.Functions.Configuration;
using Pipeline.Functions.Hosting;
using Pipeline.Lambda;
using Pipeline.LocalAws.Esm;
using Pipeline.LocalAws.Moto;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.Testing.Faults;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// <c>pipeline verify --stack</c> end to end against the rehearsed stack in moto. moto runs no
/// Lambda code (no Docker), so two stand-ins do what AWS would: the local event-source mapping
/// carries the stream to the ingest handler, and a Lambda endpoint answers Invoke by running the
/// stack's function in process with the environment the stack gave it (other Lambda calls go on
/// to moto). Everything else the CLI calls — CloudFormation, Kinesis, S3, Athena, CloudWatch — is
/// moto through a recording proxy.
/// </summary>
[Collection(SamTemplateGroup.Name)]
public sealed class VerifyRehearsalTests(DeployRehearsal rehearsal) : IClassFixture<DeployRehearsal>, IAsyncLifetime
{
    private const int Seed = 16;
    private const int Segments = 3;
    private static readonly HttpClient Http = RehearsedStackAws.Http;

    private readonly Dictionary<string, Func<StubRequest, StubResponse>> _invokeOverrides = new(StringComparer.Ordinal);
    private readonly List<(string Function, JsonNode Payload)> _invokes = [];
    private FaultProxy? _proxy;
    private LoopbackHttpStub? _lambda;
    private AwsClients? _aws;
    private EventSourceMapping? _mapping;

    private Uri Moto => rehearsal.Server.Endpoint;

    private FaultProxy Proxy => _proxy ?? throw new InvalidOperationException("not initialized");

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await RehearsedStackAws.CreateWorkGroupAsync(Moto, (string)rehearsal.Facts["outputs"]!["AthenaWorkGroupName"]!, ct);
        await RehearsedStackAws.CreateEmailIdentityAsync(Moto, Environment("CostReportFunction")[EnvironmentNames.ReportSender], ct);
        _proxy = await FaultProxy.StartRecordingAsync(Moto, cancellationToken: ct);
        _lambda = LoopbackHttpStub.Start(Lambda);

        var stream = rehearsal.Item("streams", "TraceStream");
        _aws = AwsClients.Create(AwsSettings.FromEnvironment(new DictionaryEnvironment(Environment("IngestFunction"))), Http);
        var functions = new LocalFunctions(LocalFunctions.Catalog(), Environment("IngestFunction"), TimeProvider.System, Http, NullLogger.Instance);
        _mapping = new EventSourceMapping(
            _aws.Kinesis, (string)stream["name"]!, (string)stream["arn"]!, SamScript.Region,
            token => functions.CreateAsync(FunctionContract.IngestHandler, token),
            new EventSourceMappingOptions(), TimeProvider.System, NullLogger.Instance);
        await _mapping.StartAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_mapping is not null)
        {
            await _mapping.DisposeAsync();
        }

        _aws?.Dispose();
        if (_lambda is not null)
        {
            await _lambda.DisposeAsync();
        }

        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
    }

    [Fact]
    public async Task Verify_RehearsedStack_PassesEveryCheckMotoCanAnswerAndSaysWhichItCannot()
    {
        await QueueAthenaIdAsync();

        var (code, output, error) = await RunAsync("verify", "--stack", DeployRehearsal.StackName, "--segments", $"{Segments}", "--timeout", "90s", "--send-report");

        code.Should().Be(0, output + error);
        Row(output, "stack").Should().Contain("pass");
        Row(output, "event-source mapping").Should().Contain("pass").And.Contain("Enabled");
        Row(output, "alarms").Should().Contain("not verifiable here").And.NotContain("pass");
        Row(output, "put segments").Should().Contain("pass").And.Contain($"{Segments} segments on {rehearsal.Facts["outputs"]!["StreamName"]}");
        Row(output, "archive").Should().Contain($"{Segments} of {Segments} segments");
        Row(output, "athena query").Should().Contain("pass").And.Contain($"work group {rehearsal.Facts["outputs"]!["AthenaWorkGroupName"]}").And.Contain(ExpectedIds()[0]);
        Row(output, "service-graph").Should().Contain("pass").And.Contain("nodes");
        Row(output, "cost-report").Should().Contain("pass").And.Contain("emailed as");
        output.Should().Contain("verify passed:").And.Contain("1 not verifiable here");
        error.Should().Contain("run verify-");

        var puts = Proxy.Exchanges.Where(e => e.Target == "Kinesis_20131202.PutRecords").ToList();
        puts.Should().ContainSingle().Which.AccessKeyId.Should().Be(UserKey, "verify puts with the user's credentials");
        var starts = Proxy.Exchanges.Where(e => e.Target == "AmazonAthena.StartQueryExecution").Select(e => JsonNode.Parse(e.Body)!).ToList();
        starts.Should().ContainSingle().Which["WorkGroup"]!.GetValue<string>().Should().Be((string)rehearsal.Facts["outputs"]!["AthenaWorkGroupName"]!);
        Proxy.Exchanges.Should().NotContain(e => e.Request.Service == "monitoring", "alarms without names are reported, not looked up");
        _invokes.Select(i => i.Function).Should().Equal(FunctionName("ServiceGraphFunction"), FunctionName("CostReportFunction"));
        _invokes[1].Payload["detail"]!.AsObject().Should().NotContainKey("dryRun");
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("0000-sent", false)]
    public async Task Verify_WithoutSendReport_AsksForADryRunAndFailsWhenTheFunctionEmailedAnyway(string? messageId, bool passes)
    {
        await QueueAthenaIdAsync();
        _invokeOverrides[FunctionName("CostReportFunction")] = _ => new StubResponse(200, new JsonObject
        {
            ["htmlKey"] = "reports/2026-12-04.html",
            ["messageId"] = messageId,
        }.ToJsonString());

        var (code, output, _) = await RunAsync("verify", "--stack", DeployRehearsal.StackName, "--segments", "1", "--timeout", "90s");

        _invokes.Last().Payload["detail"]!["dryRun"]!.GetValue<bool>().Should().BeTrue();
        if (passes)
        {
            code.Should().Be(0, output);
            Row(output, "cost-report").Should().Contain("pass").And.Contain("not emailed (dry run");
        }
        else
        {
            code.Should().Be(1);
            Row(output, "cost-report").Should().Contain("FAIL").And.Contain("does not know detail.dryRun");
            output.Should().Contain("verify FAILED");
        }
    }

    [Fact]
    public async Task Verify_FunctionError_FailsThatRowWithTheLogsToRead()
    {
        await QueueAthenaIdAsync();
        var function = FunctionName("ServiceGraphFunction");
        _invokeOverrides[function] = _ => new StubResponse(200, """{"errorType":"Runtime.AccessDenied","errorMessage":"s3:GetObject on graphs/ was denied"}""")
        {
            Headers = new Dictionary<string, string> { ["X-Amz-Function-Error"] = "Unhandled" },
        };

        var (code, output, _) = await RunAsync("verify", "--stack", DeployRehearsal.StackName, "--segments", "1", "--timeout", "90s", "--send-report");

        code.Should().Be(1);
        var row = Row(output, "service-graph");
        row.Should().Contain("FAIL").And.Contain("Unhandled").And.Contain("s3:GetObject on graphs/ was denied");
        output.Should().Contain($"fix: aws logs tail /aws/lambda/{function}");
        Row(output, "cost-report").Should().Contain("pass", "one failed function does not stop the other checks");
    }

    [Fact]
    public async Task Verify_DisabledMapping_FailsWithTheCommandThatEnablesIt()
    {
        var uuid = (string)rehearsal.Items("eventSourceMappings").Single()["uuid"]!;
        _invokeOverrides["mapping"] = _ => new StubResponse(200, new JsonObject { ["UUID"] = uuid, ["State"] = "Disabled", ["StateTransitionReason"] = "USER_INITIATED" }.ToJsonString());
        await QueueAthenaIdAsync();

        var (code, output, _) = await RunAsync("verify", "--stack", DeployRehearsal.StackName, "--segments", "1", "--timeout", "90s", "--send-report");

        code.Should().Be(1);
        Row(output, "event-source mapping").Should().Contain("FAIL").And.Contain("Disabled (USER_INITIATED)");
        output.Should().Contain($"fix: aws lambda update-event-source-mapping --uuid {uuid} --enabled");
    }

    [Fact]
    public async Task Verify_StackThatDoesNotExist_FailsFirstRowAndSkipsTheRest()
    {
        var (code, output, _) = await RunAsync("verify", "--stack", "xray-pipeline-never-deployed", "--timeout", "5s");

        code.Should().Be(1);
        Row(output, "stack").Should().Contain("FAIL").And.Contain("'xray-pipeline-never-deployed' does not exist in us-east-1");
        Row(output, "archive").Should().Contain("skipped");
        Row(output, "cost-report").Should().Contain("skipped");
        Proxy.Exchanges.Should().NotContain(e => e.Target == "Kinesis_20131202.PutRecords");
        _invokes.Should().BeEmpty();
    }

    private const string UserKey = "verify-user";

    /// <summary>The ids the run will make: the same seeded generator, consumed in the same order (run id, then the segments).</summary>
    private static List<string> ExpectedIds()
    {
        var random = new Random(Seed);
        var now = DateTimeOffset.UnixEpoch;
        var run = VerifySegments.RunId(now, random);
        return [.. VerifySegments.Create(run, Segments, now, random).Select(s => s.Id)];
    }

    /// <summary>moto's Athena answers canned rows: the trace-segments row of the run's first segment.</summary>
    private Task QueueAthenaIdAsync() =>
        RehearsedStackAws.QueueAthenaLinesAsync(Moto, "id", [ExpectedIds()[0]], TestContext.Current.CancellationToken);

    private static string Row(string output, string check) =>
        output.Split('\n').SingleOrDefault(l => l.StartsWith(check + "  ", StringComparison.Ordinal) && l.Length > check.Length)
        ?? throw new InvalidOperationException($"no row '{check}' in:\n{output}");

    private string FunctionName(string logicalId) => (string)rehearsal.Item("functions", logicalId)["name"]!;

    /// <summary>The function's variables as the stack set them, pointed at the rehearsal's moto.</summary>
    private Dictionary<string, string> Environment(string logicalId)
    {
        var environment = rehearsal.Item("functions", logicalId)["environment"]!.AsObject()
            .ToDictionary(e => e.Key, e => e.Value!.ToString(), StringComparer.Ordinal); // moto hands some values back as JSON numbers
        environment[AwsSettings.EndpointUrlVariable] = Moto.ToString().TrimEnd('/');
        environment[AwsSettings.RegionVariable] = SamScript.Region;
        environment[AwsSettings.AccessKeyIdVariable] = MotoServer.AccessKeyId;
        environment[AwsSettings.SecretAccessKeyVariable] = MotoServer.SecretAccessKey;
        // moto's Athena answers only canned rows (queued for verify's own query): the graph reads the archive itself.
        environment[EnvironmentNames.GraphEngine] = "stream";
        return environment;
    }

    private StubResponse Lambda(StubRequest request)
    {
        const string functions = "/2015-03-31/functions/";
        if (request.Path.StartsWith(functions, StringComparison.Ordinal) && request.Path.EndsWith("/invocations", StringComparison.Ordinal))
        {
            var name = request.Path[functions.Length..^"/invocations".Length];
            _invokes.Add((name, JsonNode.Parse(request.Body)!));
            return _invokeOverrides.TryGetValue(name, out var answer) ? answer(request) : Run(name, request.Body);
        }

        if (request.Path.StartsWith("/2015-03-31/event-source-mappings/", StringComparison.Ordinal) && _invokeOverrides.TryGetValue("mapping", out var mapping))
        {
            return mapping(request);
        }

        return Forward(request);
    }

    /// <summary>What Lambda does on Invoke: runs the stack's function with its environment; a thrown error is a function error.</summary>
    private StubResponse Run(string name, byte[] payload)
    {
        var function = rehearsal.Items("functions").Single(f => (string?)f["name"] == name);
        var registry = LocalFunctions.Catalog();
        var init = new HandlerInitContext(new DictionaryEnvironment(Environment((string)function["logicalId"]!)), TimeProvider.System, Http, NullLogger.Instance);
        try
        {
            var handler = registry.CreateAsync((string)function["handler"]!, init, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            using var input = new MemoryStream(payload, writable: false);
            var context = new InvocationContext(Guid.NewGuid().ToString(), TimeProvider.System.GetUtcNow().AddMinutes(5), null, null, TimeProvider.System, NullLogger.Instance, CancellationToken.None);
            using var output = handler.HandleAsync(input, context).GetAwaiter().GetResult();
            using var reader = new StreamReader(output, Encoding.UTF8);
            return new StubResponse(200, reader.ReadToEnd());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new StubResponse(200, new JsonObject { ["errorType"] = e.GetType().Name, ["errorMessage"] = e.Message }.ToJsonString())
            {
                Headers = new Dictionary<string, string> { ["X-Amz-Function-Error"] = "Unhandled" },
            };
        }
    }

    private StubResponse Forward(StubRequest request)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(Moto, request.Path));
        message.Content = new ByteArrayContent(request.Body);
        foreach (var (header, value) in request.Headers)
        {
            if (header.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                message.Content.Headers.TryAddWithoutValidation(header, value);
            }
            else if (header.StartsWith("X-Amz", StringComparison.OrdinalIgnoreCase) || header.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.TryAddWithoutValidation(header, value);
            }
        }

        using var response = Http.Send(message);
        using var reader = new StreamReader(response.Content.ReadAsStream(), Encoding.UTF8);
        return new StubResponse((int)response.StatusCode, reader.ReadToEnd(), response.Content.Headers.ContentType?.ToString() ?? "application/json");
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var environment = new DictionaryEnvironment(new Dictionary<string, string>
        {
            [AwsSettings.EndpointUrlVariable] = Proxy.Endpoint.ToString(),
            [AwsSettings.ServiceEndpointUrlVariablePrefix + "LAMBDA"] = _lambda!.Endpoint.ToString(),
            [AwsSettings.RegionVariable] = SamScript.Region,
            [AwsSettings.AccessKeyIdVariable] = UserKey,
            [AwsSettings.SecretAccessKeyVariable] = UserKey,
        });
        var context = new VerifyContext(TimeProvider.System, environment, Http, RepoPaths.Root)
        {
            Random = () => new Random(Seed),
            ArchivePollInterval = TimeSpan.FromMilliseconds(500),
            AthenaPollInterval = TimeSpan.Zero,
        };
        var root = new RootCommand("pipeline") { VerifyCommand.Create(context) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }
}
