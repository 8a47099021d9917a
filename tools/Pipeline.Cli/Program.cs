// The `pipeline` command (composition root): local mode (up, status, send, report, down) and the
// archive tools (query). `./pipeline` at the repository root builds and runs it.
using System.CommandLine;
using Pipeline.Aws.Http;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Graph;
using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;
using Pipeline.Runtime.Configuration;

using var http = AwsHttp.CreateClient();
var environment = ProcessEnvironment.Instance;
var interactive = !Console.IsOutputRedirected && environment.GetVariable("TERM") is not (null or "dumb");
var cli = new CliContext(TimeProvider.System, environment, http, Directory.GetCurrentDirectory(), interactive);
var queryContext = new QueryCommandContext(TimeProvider.System, environment, http, cli.Root, interactive);
var root = PipelineCommand.Create(
    cli,
    queryContext,
    new GraphCommandContext(TimeProvider.System, environment, http, cli.Root, interactive ? Opener.Open : null),
    new TraceCommandContext(queryContext, interactive ? Opener.Open : null, interactive ? Opener.TerminalWidth : null));

// `up` stops itself in order on SIGINT/SIGTERM; System.CommandLine's own handler would kill it after 2 s.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
