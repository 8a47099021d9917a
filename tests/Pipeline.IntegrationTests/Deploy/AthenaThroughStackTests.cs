using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Cli.Deployed;
using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.Testing.Builders;
using Pipeline.Testing.Faults;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// <c>pipeline query</c> and <c>pipeline trace</c> with <c>--target athena --stack</c> against the
/// rehearsed stack in moto: the stack's outputs are read from CloudFormation and every
/// StartQueryExecution the CLI sends (recorded by a proxy in front of moto) names the stack's work
/// group. moto skips Athena::WorkGroup, so the test creates the work group the stack's output
/// names; moto then refuses a StartQueryExecution with any other work group.
/// </summary>
[Collection(SamTemplateGroup.Name)]
public sealed class AthenaThroughStackTests(TransformedTemplate template, DeployRehearsal rehearsal) : IClassFixture<DeployRehearsal>, IAsyncLifetime
{
    private const string StartQueryExecution = "AmazonAthena.StartQueryExecution";
    private static readonly DateTimeOffset TraceStart = new(2026, 11, 25, 7, 59, 58, TimeSpan.Zero);
    private FaultProxy? _proxy;

    private FaultProxy Proxy => _proxy ?? throw new InvalidOperationException("not initialized");

    private string StackWorkGroup => (string)rehearsal.Facts["outputs"]![DeployedStack.AthenaWorkGroupName]!;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await RehearsedStackAws.CreateWorkGroupAsync(rehearsal.Server.Endpoint, StackWorkGroup, ct);
        _proxy = await FaultProxy.StartRecordingAsync(rehearsal.Server.Endpoint, cancellationToken: ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
    }

    [Fact]
    public void OutputsTheCliReads_AreOutputsOfTheTemplate()
    {
        var outputs = template.Template["Outputs"]!.AsObject().Select(o => o.Key);

        outputs.Should().Contain(DeployedStack.OutputsRead);
    }

    [Fact]
    public async Task QueryAndTrace_ThroughTheStack_StartEveryQueryInTheStacksWorkGroup()
    {
        var ct = TestContext.Current.CancellationToken;
        var outputs = rehearsal.Facts["outputs"]!;
        var traceId = DemoTrace.TraceId(TraceStart);
        await RehearsedStackAws.QueueAthenaLinesAsync(rehearsal.Server.Endpoint, "reason", ["invalid_trace_id"], ct);

        var query = await RunAsync(QueryCommand.Create(Context()),
            "query", "--named", "quarantine-reasons", "--target", "athena", "--stack", DeployRehearsal.StackName, "--format", "csv");
        await RehearsedStackAws.QueueAthenaLinesAsync(rehearsal.Server.Endpoint, "line", DemoTrace.Documents(TraceStart, traceId), ct);
        var trace = await RunAsync(TraceCommand.Create(new TraceCommandContext(Context())),
            "trace", traceId, "--target", "athena", "--stack", DeployRehearsal.StackName);

        query.Code.Should().Be(0, query.Error);
        query.Error.Should().Contain($"in workgroup {StackWorkGroup}");
        trace.Code.Should().Be(0, trace.Error);
        trace.Output.Should().Contain(traceId);
        var starts = Starts();
        starts.Should().HaveCountGreaterThanOrEqualTo(2, "one query and at least one trace lookup");
        starts.Should().AllSatisfy(start =>
        {
            ((string?)start["WorkGroup"]).Should().Be(StackWorkGroup);
            ((string?)start["QueryExecutionContext"]!["Database"]).Should().Be((string?)outputs[DeployedStack.AthenaDatabaseName]);
            ((string?)start["ResultConfiguration"]!["OutputLocation"]).Should().Be((string?)outputs[DeployedStack.AthenaResultsLocation]);
        });
        Proxy.Exchanges.Where(e => e.Target == StartQueryExecution).Should().OnlyContain(e => e.Status == 200);
        Proxy.Exchanges.Should().Contain(e => e.Request.Service == "cloudformation" && e.Request.Method == "POST");
    }

    [Fact]
    public async Task Query_StackThatDoesNotExist_FailsNamingItAndStartsNoQuery()
    {
        var (code, _, error) = await RunAsync(QueryCommand.Create(Context()),
            "query", "select 1", "--target", "athena", "--stack", "xray-pipeline-never-deployed");

        code.Should().Be(1);
        error.Should().Contain("stack 'xray-pipeline-never-deployed' does not exist in us-east-1").And.Contain("--stack");
        Starts().Should().BeEmpty();
    }

    [Fact]
    public async Task Query_StackOfAnOlderTemplate_FailsNamingTheMissingOutputAndStartsNoQuery()
    {
        var ct = TestContext.Current.CancellationToken;
        const string old = "xray-pipeline-older";
        await RehearsedStackAws.CreateStackAsync(rehearsal.Server.Endpoint, old, """
            {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
             "Outputs": {"StreamName": {"Value": {"Ref": "Queue"}}}}
            """, ct);

        var (code, _, error) = await RunAsync(QueryCommand.Create(Context()),
            "query", "select 1", "--target", "athena", "--stack", old);

        code.Should().Be(1);
        error.Should().Contain($"stack '{old}' has no output {DeployedStack.AthenaWorkGroupName}").And.Contain("redeploy");
        Starts().Should().BeEmpty();
    }

    private List<JsonNode> Starts() =>
        [.. Proxy.Exchanges.Where(e => e.Target == StartQueryExecution).Select(e => JsonNode.Parse(e.Body)!)];

    private QueryCommandContext Context()
    {
        var environment = new DictionaryEnvironment(new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = Proxy.Endpoint.ToString(),
            ["AWS_REGION"] = SamScript.Region,
            ["AWS_ACCESS_KEY_ID"] = "rehearsal",
            ["AWS_SECRET_ACCESS_KEY"] = "rehearsal",
        });
        return new QueryCommandContext(new FakeTimeProvider(TraceStart.AddMinutes(5)), environment, RehearsedStackAws.Http, RepoPaths.Root, outputIsTerminal: false)
        {
            AthenaPollInterval = TimeSpan.Zero,
        };
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(Command command, params string[] args)
    {
        var root = new RootCommand("pipeline") { command };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }
}
