using System.CommandLine;
using System.Diagnostics;
using Pipeline.Cli.Local;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline down</c>: SIGTERM to the running <c>pipeline up</c> (its pid from stack.json), then
/// waits for it to finish its orderly stop (relay drained, stream delivered, moto stopped).
/// </summary>
internal static class DownCommand
{
    public static Command Create(CliContext context)
    {
        var stateDir = CommandOptions.StateDir();
        var timeout = CommandOptions.Duration("--timeout", "How long to wait for `up` to stop", TimeSpan.FromSeconds(90));
        var command = new Command("down", "Stop the local stack started by `pipeline up` (drains it first)") { stateDir, timeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var console = context.Console(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var paths = context.Paths(parse.GetValue(stateDir));
            var stack = StackFile.TryRead(paths.StackFile);
            if (stack is null || !Signals.IsAlive(stack.Pids.Up))
            {
                console.Line("not running");
                return 0;
            }

            var pid = stack.Pids.Up;
            if (!await Signals.TerminateAsync(pid).ConfigureAwait(false))
            {
                console.Error($"pipeline down: could not signal pid {pid}");
                return 1;
            }

            console.Line($"stopping pipeline up (pid {pid})");
            var clock = Stopwatch.StartNew();
            var limit = parse.GetDuration(timeout);
            while (Signals.IsAlive(pid))
            {
                if (clock.Elapsed > limit)
                {
                    console.Error($"pipeline down: pid {pid} still running after {Durations.Format(limit)}");
                    return 1;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), context.Time, cancellationToken).ConfigureAwait(false);
            }

            console.Line("stopped");
            return 0;
        });
        return command;
    }
}
