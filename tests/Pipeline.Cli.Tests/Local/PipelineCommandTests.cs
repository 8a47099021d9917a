using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Http;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Graph;
using Pipeline.Cli.Query;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Cli.Tests.Local;

/// <summary>The `pipeline` command line in-process: help for each subcommand, usage errors, commands without a stack.</summary>
public sealed class PipelineCommandTests : IDisposable
{
    private static readonly HttpClient Http = AwsHttp.CreateClient();
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("pipeline-cli-");

    [Theory]
    [InlineData("up", "--udp", "--demo", "--graph-every", "--report-every", "--data-dir", "--state-dir")]
    [InlineData("status", "--state-dir")]
    [InlineData("send", "--traces", "--segments", "--invalid", "--file", "--udp")]
    [InlineData("query", "--named", "--data-dir", "--state-dir")]
    [InlineData("graph", "--window", "--engine", "--state-dir")]
    [InlineData("compact", "--dt", "--data-dir", "--state-dir")]
    [InlineData("report", "--as-of", "--state-dir")]
    [InlineData("down", "--timeout", "--state-dir")]
    public async Task Help_EverySubcommand_DescribesItsOptions(string subcommand, params string[] options)
    {
        var (code, output, _) = await InvokeAsync(subcommand, "--help");

        code.Should().Be(0);
        output.Should().Contain("Usage:").And.Contain($" {subcommand} ");
        foreach (var option in options)
        {
            output.Should().Contain(option);
        }
    }

    [Fact]
    public async Task Help_Root_ListsEverySubcommand()
    {
        var (code, output, _) = await InvokeAsync("--help");

        code.Should().Be(0);
        output.Should().Contain("up --demo");
        foreach (var name in new[] { "up", "status", "send", "query", "graph", "report", "down" })
        {
            output.Should().Contain("  " + name);
        }
    }

    [Theory]
    [InlineData("up", "--udp", "localhost")]
    [InlineData("up", "--graph-every", "soon")]
    [InlineData("up", "--demo-requests", "0")]
    [InlineData("send", "--invalid", "1.5")]
    [InlineData("send", "--traces", "0")]
    public async Task Parse_BadValue_IsAUsageError(params string[] args)
    {
        var (code, _, error) = await InvokeAsync(args);

        code.Should().NotBe(0);
        error.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Status_NoStack_SaysNotRunningWithExitCode3()
    {
        var (code, output, _) = await InvokeAsync("status", "--state-dir", _state.FullName);

        code.Should().Be(StatusCommand.NotRunning);
        output.Should().Contain("not running");
    }

    [Fact]
    public async Task Down_NoStack_IsANoOp()
    {
        var (code, output, _) = await InvokeAsync("down", "--state-dir", _state.FullName);

        code.Should().Be(0);
        output.Should().Contain("not running");
    }

    [Fact]
    public async Task Report_NoStack_TellsHowToStartOne()
    {
        var (code, _, error) = await InvokeAsync("report", "--state-dir", _state.FullName);

        code.Should().Be(1);
        error.Should().Contain("./pipeline up");
    }

    [Fact]
    public async Task Send_Synthetic_SendsTracesTimesSegmentsDatagramsWithTheDaemonHeader()
    {
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var address = receiver.LocalEndPoint!.ToString()!;

        var (code, output, _) = await InvokeAsync("send", "--udp", address, "--traces", "4", "--segments", "3", "--seed", "1", "--print-trace-ids");

        code.Should().Be(0);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(4);
        var buffer = new byte[70_000];
        for (var i = 0; i < 12; i++)
        {
            var read = receiver.Receive(buffer);
            Encoding.UTF8.GetString(buffer, 0, read).Should().StartWith("{\"format\":\"json\",\"version\":1}\n{");
        }

        receiver.Available.Should().Be(0);
    }

    [Fact]
    public void Documents_PrettyJsonFileOrNdjson_BecomeOneCompactDocumentEach()
    {
        SendCommand.Documents("{\n  \"id\": \"a\",\n  \"name\": \"x\"\n}\n").Select(Encoding.UTF8.GetString)
            .Should().Equal("{\"id\":\"a\",\"name\":\"x\"}");
        SendCommand.Documents("{\"id\":\"a\"}\n\n{\"id\":\"b\"}\nnot json\n").Select(Encoding.UTF8.GetString)
            .Should().Equal("{\"id\":\"a\"}", "{\"id\":\"b\"}", "not json");
    }

    public void Dispose() => _state.Delete(recursive: true);

    [Theory]
    [InlineData("query", "select 1")]
    [InlineData("graph")]
    [InlineData("compact", "--dt", "2026-11-25")]
    public async Task ArchiveCommands_StateDirFromEnvironmentOrFlag_LookForTheArchiveThere(string subcommand, params string[] args)
    {
        var fromEnvironment = Path.Combine(_state.FullName, "from-env");
        var fromFlag = Path.Combine(_state.FullName, "from-flag");
        var environment = new DictionaryEnvironment { ["PIPELINE_STATE_DIR"] = fromEnvironment };

        var (envCode, _, envError) = await InvokeAsync(environment, [subcommand, .. args]);
        var (flagCode, _, flagError) = await InvokeAsync(environment, [subcommand, .. args, "--state-dir", fromFlag]);

        (envCode, flagCode).Should().Be((1, 1));
        envError.Should().Contain(Path.Combine(fromEnvironment, "archive"), "PIPELINE_STATE_DIR is honoured as by up, status and down");
        flagError.Should().Contain(Path.Combine(fromFlag, "archive"), "--state-dir wins over PIPELINE_STATE_DIR");
    }

    [Theory]
    [InlineData("--graph-every", "20", "has no unit")]
    [InlineData("--report-every", "soon", "is not a duration")]
    [InlineData("--graph-every", "0s", "must be longer than 0")]
    public async Task Up_BadDuration_IsAUsageErrorInTheOneGrammar(string flag, string value, string reason)
    {
        var (code, _, error) = await InvokeAsync("up", flag, value);

        code.Should().NotBe(0);
        error.Should().Contain(flag).And.Contain(reason);
    }

    private Task<(int Code, string Output, string Error)> InvokeAsync(params string[] args) => InvokeAsync(new DictionaryEnvironment(), args);

    private async Task<(int Code, string Output, string Error)> InvokeAsync(DictionaryEnvironment environment, params string[] args)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var cli = new CliContext(time, environment, Http, _state.FullName, outputIsTerminal: false);
        var root = PipelineCommand.Create(
            cli,
            new QueryCommandContext(time, environment, Http, _state.FullName, outputIsTerminal: false),
            new GraphCommandContext(time, environment, Http, _state.FullName));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }
}
