using System.CommandLine;
using Pipeline.Cli.Graph;
using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;
using Pipeline.Cli.Ui;
using Pipeline.Cli.Verify;

namespace Pipeline.Cli.Commands;

/// <summary>The root command: every subcommand, wired to its context.</summary>
internal static class PipelineCommand
{
    public static RootCommand Create(CliContext context, QueryCommandContext queryContext, GraphCommandContext graphContext, TraceCommandContext? traceContext = null)
    {
        var root = new RootCommand("pipeline: run the X-Ray trace pipeline locally (moto) and query its archive.\nStart with: ./pipeline up --demo")
        {
            UpCommand.Create(context),
            StatusCommand.Create(context),
            SendCommand.Create(context),
            QueryCommand.Create(queryContext),
            TraceCommand.Create(traceContext ?? new TraceCommandContext(queryContext)),
            UiCommand.Create(traceContext ?? new TraceCommandContext(queryContext)),
            CompactCommand.Create(queryContext),
            IndexCommand.Create(queryContext),
            AthenaTemplateCommand.Create(queryContext),
            GraphCommand.Create(graphContext),
            ReportCommand.Create(context),
            DownCommand.Create(context),
            VerifyCommand.Create(new VerifyContext(context.Time, context.Environment, context.Http, context.Root)),
        };
        return root;
    }
}
