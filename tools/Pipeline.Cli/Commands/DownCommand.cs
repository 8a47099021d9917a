using System.CommandLine;
using System.Diagnostics;
using Pipeline.Cli.Local;
using Pipeline.Runtime.Configuration;

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
            if (stack is null)
            {
                console.Line("not running");
                return 0;
            }

            if (!Signals.IsAlive(stack.Pids.Up))
            {
                // `up` was killed (SIGKILL, a crash): its children run in their own sessions, so stop what is left.
                var left = await StopOrphansAsync(stack).ConfigureAwait(false);
                File.Delete(paths.StackFile);
                console.Line(left == 0 ? "not running" : $"pipeline up (pid {stack.Pids.Up}) was gone; stopped {left} process(es) it had left behind");
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

    /// <summary>SIGTERM to the recorded children still running under the command they were started with (not a reused pid).</summary>
    private static async Task<int> StopOrphansAsync(StackFile stack)
    {
        var expected = new Dictionary<int, string> { [stack.Pids.Moto] = "moto_server", [stack.Pids.Relay] = RelayLauncher.ExecutableName };
        foreach (var (name, pid) in stack.Pids.Demo)
        {
            expected[pid] = "node";
        }

        var stopped = 0;
        foreach (var (pid, command) in expected)
        {
            if (Signals.IsAlive(pid) && Signals.CommandLine(pid).Contains(command, StringComparison.Ordinal) && await Signals.TerminateAsync(pid).ConfigureAwait(false))
            {
                stopped++;
            }
        }

        return stopped;
    }
}
