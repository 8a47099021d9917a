using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pipeline.Cli.Local;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline status</c>: the running stack (stack.json), whether its processes live, and its counters.</summary>
internal static class StatusCommand
{
    /// <summary>Exit code when no stack is running (as `systemctl status` uses 3 for "not running").</summary>
    public const int NotRunning = 3;

    public static Command Create(CliContext context)
    {
        var stateDir = CommandOptions.StateDir();
        var command = new Command("status", "Show the local stack started by `pipeline up` and its counters") { stateDir };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var console = context.Console(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var paths = context.Paths(parse.GetValue(stateDir));
            var stack = StackFile.TryRead(paths.StackFile);
            if (stack is null || !Signals.IsAlive(stack.Pids.Up))
            {
                console.Line(stack is null ? $"not running (no {paths.StackFile})" : $"not running (pid {stack.Pids.Up} of {paths.StackFile} is gone)");
                if (stack is not null && stack.Pids.All.Skip(1).Any(Signals.IsAlive))
                {
                    console.Line("processes it started are still running: `pipeline down` stops them");
                }

                return NotRunning;
            }

            var rows = new List<(string, string)>
            {
                ("state", "running since " + stack.StartedAt.ToString("u", CultureInfo.InvariantCulture)),
                ("endpoint", stack.Endpoint),
                ("region", stack.Region),
                ("stream", stack.Stream),
                ("archive", "s3://" + stack.Buckets.Archive),
                ("table", stack.Table),
                ("relay udp", stack.Relay.Udp),
                ("AWS_XRAY_DAEMON_ADDRESS", stack.Relay.DaemonAddress),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", stack.Relay.OtlpEndpoint ?? "off"),
                ("OTLP/gRPC", StackRelay.GrpcEndpointOf(stack.Relay.OtlpGrpc) ?? "off"),
                ("metrics", stack.MetricsUrl),
                ("data dir", stack.DataDir ?? "(none)"),
                ("logs", stack.LogDir),
            };
            foreach (var (name, pid) in new[] { ("up", stack.Pids.Up), ("moto", stack.Pids.Moto), ("relay", stack.Pids.Relay) }.Concat(stack.Pids.Demo.Select(p => (p.Key, p.Value))))
            {
                rows.Add(($"pid {name}", $"{pid} ({(Signals.IsAlive(pid) ? "running" : "exited")})"));
            }

            if (ReadCounters(paths.CounterFile) is { } counters)
            {
                foreach (var (name, value) in counters.Counters)
                {
                    rows.Add((name, value.ToString(CultureInfo.InvariantCulture)));
                }

                foreach (var edge in counters.GraphEdges)
                {
                    rows.Add(("graph edge", edge));
                }
            }

            console.KeyValues("pipeline status", rows);
            await Task.CompletedTask.ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static CounterFile? ReadCounters(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), StackJsonContext.Default.CounterFile) : null;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }
}
