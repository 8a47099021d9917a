using System.CommandLine;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;

namespace Pipeline.Cli.Ui;

/// <summary>
/// <c>pipeline ui [--port N] [--data-dir DIR] [--open]</c>: the trace explorer on
/// http://127.0.0.1:&lt;port&gt;/ (a free port unless given) over a local archive directory —
/// by default the mirror that <c>pipeline up</c> keeps in the state directory (<c>--state-dir</c>) — until Ctrl-C.
/// Program.cs adds <see cref="Create"/>'s command to the root command.
/// </summary>
internal static class UiCommand
{
    public static Command Create(TraceCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var port = new Option<int>("--port") { Description = "TCP port on 127.0.0.1 (0: a free one)", DefaultValueFactory = _ => 0 };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                r.AddError("--port must be between 0 and 65535");
            }
        });
        var dataDir = new Option<string?>("--data-dir") { Description = "Archive directory (bucket key layout); default the local stack's mirror, .pipeline/archive" };
        var athenaDir = new Option<string?>("--athena-dir") { Description = "The athena/ directory (default: found above the working directory)" };
        var open = new Option<bool>("--open") { Description = "Open the address in the desktop's browser" };
        var stateDir = CommandOptions.StateDir();
        var command = new Command("ui", "Browse the archive in a web app on 127.0.0.1: search, traces, service map, reports, quarantine");
        command.Add(port);
        command.Add(dataDir);
        command.Add(athenaDir);
        command.Add(open);
        command.Add(stateDir);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var query = context.Query;
            var dir = parse.GetValue(dataDir) ?? query.Paths(parse.GetValue(stateDir)).DefaultDataDir;
            if (!Directory.Exists(dir))
            {
                await error.WriteLineAsync($"pipeline ui: no archive: {dir} does not exist (run `pipeline up`, or pass --data-dir)").ConfigureAwait(false);
                return 1;
            }

            AthenaSqlFiles files;
            try
            {
                files = parse.GetValue(athenaDir) is { } a ? new AthenaSqlFiles(a) : AthenaSqlFiles.Locate(query.WorkingDirectory);
            }
            catch (InvalidOperationException e)
            {
                await error.WriteLineAsync("pipeline ui: " + e.Message).ConfigureAwait(false);
                return 1;
            }

            using var archive = new UiArchive(dir, files.Tables());
            UiServer server;
            try
            {
                server = await UiServer.StartAsync(archive, query.Time, parse.GetValue(port), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                await error.WriteLineAsync($"pipeline ui: cannot listen on 127.0.0.1:{parse.GetValue(port)}: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            await using (server.ConfigureAwait(false))
            {
                await output.WriteLineAsync($"pipeline ui: {server.Address} (archive {Path.GetFullPath(dir)}; Ctrl-C stops)").ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(open))
                {
                    context.Open?.Invoke(server.Address.ToString());
                }

                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl-C: stop serving.
                }
            }

            return 0;
        });
        return command;
    }
}
