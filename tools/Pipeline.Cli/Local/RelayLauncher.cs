using System.Net;
using Pipeline.LocalAws.Relay;

namespace Pipeline.Cli.Local;

/// <summary>
/// Runs the relay executable (<c>xray-relay</c>, built by <c>./pipeline</c> next to the CLI) as a
/// child process against moto's Kinesis, and reads the addresses it bound from its
/// <c>"relay ready"</c> log line (TCP, metrics and OTLP may be given as port 0).
/// </summary>
internal static class RelayLauncher
{
    /// <summary>Path of the relay executable when it is not beside the CLI.</summary>
    public const string RelayPathVariable = "PIPELINE_RELAY";

    public const string ExecutableName = "xray-relay";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <param name="OtlpHttp">The OTLP/HTTP receiver, or null when it was turned off.</param>
    /// <param name="OtlpGrpc">The OTLP/gRPC receiver, or null when it was turned off.</param>
    public sealed record Started(ChildProcess Process, IPEndPoint Udp, IPEndPoint Tcp, IPEndPoint Metrics, IPEndPoint? OtlpHttp, IPEndPoint? OtlpGrpc);

    /// <summary>The relay executable: <c>PIPELINE_RELAY</c>, else beside the CLI, else ../relay/ (the script's layout).</summary>
    public static string? Locate(string? fromEnvironment)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return File.Exists(fromEnvironment) ? Path.GetFullPath(fromEnvironment) : null;
        }

        var here = AppContext.BaseDirectory;
        foreach (var candidate in new[] { Path.Combine(here, ExecutableName), Path.Combine(here, "..", "relay", ExecutableName) })
        {
            if (File.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        return null;
    }

    public static async Task<Started> StartAsync(
        string executable, IPEndPoint udp, IPEndPoint tcp, IPEndPoint metrics, IPEndPoint? otlpHttp, IPEndPoint? otlpGrpc, Uri kinesis, string region, string stream,
        string spoolDir, string logPath, CancellationToken cancellationToken)
    {
        var ready = new TaskCompletionSource<RelayReadyLine>(TaskCreationOptions.RunContinuationsAsynchronously);
        var child = ChildProcess.Start(
            "relay",
            executable,
            ["-b", udp.ToString(), "-t", tcp.ToString(), "--metrics", metrics.ToString(), "--otlp-http", otlpHttp?.ToString() ?? "off",
             "--otlp-grpc", otlpGrpc?.ToString() ?? "off", "-n", region, "-e", kinesis.ToString(),
             "--stream", stream, "--spool-dir", spoolDir, "-l", "info",
             // One PutRecords at a time: moto's Kinesis numbers records "last + 1" without a lock,
             // so concurrent calls to one shard can overwrite each other's records (both answer 200).
             "--max-in-flight", "1"],
            new Dictionary<string, string?>
            {
                // Flags decide where it listens and sends, not whatever the user's shell exports.
                ["AWS_XRAY_DAEMON_ADDRESS"] = null,
                ["RELAY_STREAM"] = null,
                ["AWS_ENDPOINT_URL_KINESIS"] = null,
                ["AWS_PROFILE"] = null,
                ["AWS_ACCESS_KEY_ID"] = StackNames.FakeCredential,
                ["AWS_SECRET_ACCESS_KEY"] = StackNames.FakeCredential,
                ["AWS_SESSION_TOKEN"] = null,
                ["AWS_EC2_METADATA_DISABLED"] = "true",
            },
            workingDirectory: null,
            logPath,
            line =>
            {
                if (RelayReadyLine.TryParse(line, out var started))
                {
                    ready.TrySetResult(started);
                }
            });

        var first = await Task.WhenAny(ready.Task, child.Exited, Task.Delay(StartTimeout, cancellationToken)).ConfigureAwait(false);
        if (first != ready.Task)
        {
            var tail = child.Tail;
            await child.DisposeAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            throw new InvalidOperationException($"the relay did not start:{Environment.NewLine}{tail}");
        }

        var line = await ready.Task.ConfigureAwait(false);
        return new Started(child, line.Udp, line.Tcp, line.Metrics ?? throw new InvalidOperationException("the relay started without its metrics listener"), line.OtlpHttp, line.OtlpGrpc);
    }
}
