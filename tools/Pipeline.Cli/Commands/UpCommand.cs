using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Pipeline.Cli.Local;
using Pipeline.Cli.Output;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline up [--demo]</c>: runs the whole pipeline locally against moto until Ctrl-C,
/// SIGTERM or <c>pipeline down</c>. Prints exactly one <c>pipeline ready</c> line once datagrams
/// sent to the relay reach the archive. Exit codes: 0 after a clean stop, 1 when the stack could
/// not start or stop cleanly, 2 for a usage problem (address taken, already running).
/// </summary>
internal static class UpCommand
{
    public const string ReadyLine = "pipeline ready";

    public static Command Create(CliContext context)
    {
        var udp = CommandOptions.Endpoint("--udp", "Relay UDP address for the SDKs' segments", "127.0.0.1:2000");
        var tcp = new Option<IPEndPoint?>("--tcp")
        {
            Description = "Relay TCP address for the SDKs' sampling calls (default: the --udp address; port 0 = any free port)",
            CustomParser = r => CommandOptions.ParseEndpoint(r),
            HelpName = "host:port",
        };
        var otlpHttp = CommandOptions.OptionalEndpoint("--otlp-http", "Relay OTLP/HTTP address for OpenTelemetry SDKs (port 0 = any free port)", "127.0.0.1:4318");
        var otlpGrpc = CommandOptions.OptionalEndpoint("--otlp-grpc", "Relay OTLP/gRPC address for OpenTelemetry SDKs (port 0 = any free port)", "127.0.0.1:4317");
        var metrics = CommandOptions.Endpoint("--metrics", "Relay /metrics and /healthz address (port 0 = any free port)", "127.0.0.1:0");
        var stateDir = CommandOptions.StateDir();
        var dataDir = new Option<string?>("--data-dir") { Description = "Mirror the archive to this directory so `pipeline query` works after `down` (default: <state-dir>/archive)" };
        var noDataDir = new Option<bool>("--no-data-dir") { Description = "Do not mirror the archive to disk" };
        var graphEvery = CommandOptions.Duration("--graph-every", "How often the service-graph function runs", TimeSpan.FromMinutes(1));
        var reportEvery = CommandOptions.Duration("--report-every", "How often the cost-report function runs", TimeSpan.FromMinutes(15));
        var demo = new Option<bool>("--demo") { Description = "Also run demo/ (service-a -> service-b on aws-xray-sdk -> service-c on OpenTelemetry, npm ci when needed) with bounded traffic" };
        var demoRequests = CommandOptions.Bounded("--demo-requests", "Requests the demo traffic generator sends", 200, 1, 100_000);
        var demoRps = CommandOptions.Bounded("--demo-rps", "Demo requests per second", 10, 1, 1000);
        var moto = new Option<string>("--moto") { Description = "moto_server executable", DefaultValueFactory = _ => MotoServer.Executable };
        var batchSize = CommandOptions.Bounded("--batch-size", "Records per ingest invocation at most", new EventSourceMappingOptions().BatchSize, 1, 10_000);
        var batchWindow = CommandOptions.Duration("--batch-window", "How long records wait for a fuller batch", new EventSourceMappingOptions().BatchingWindow);

        var command = new Command("up", "Run the pipeline locally against moto (relay, ingest, scheduled functions) until Ctrl-C");
        foreach (var option in new Option[] { udp, tcp, otlpHttp, otlpGrpc, metrics, stateDir, dataDir, noDataDir, graphEvery, reportEvery, demo, demoRequests, demoRps, moto, batchSize, batchWindow })
        {
            command.Add(option);
        }

        command.SetAction(async (parse, _) =>
        {
            var console = context.Console(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var paths = context.Paths(parse.GetValue(stateDir));
            var relay = RelayLauncher.Locate(context.Environment.GetVariable(RelayLauncher.RelayPathVariable));
            if (relay is null)
            {
                console.Error($"pipeline up: the relay executable ({RelayLauncher.ExecutableName}) was not found: run ./pipeline (it builds the CLI and the relay), or set {RelayLauncher.RelayPathVariable}");
                return 1;
            }

            var udpEndpoint = parse.GetValue(udp)!;
            var options = new UpOptions
            {
                Udp = udpEndpoint,
                Tcp = parse.GetValue(tcp) ?? udpEndpoint,
                Metrics = parse.GetValue(metrics)!,
                OtlpHttp = parse.GetValue(otlpHttp).Endpoint,
                OtlpGrpc = parse.GetValue(otlpGrpc).Endpoint,
                Paths = paths,
                DataDir = parse.GetValue(noDataDir) ? null : Path.GetFullPath(parse.GetValue(dataDir) ?? paths.DefaultDataDir, context.WorkingDirectory),
                GraphEvery = parse.GetDuration(graphEvery),
                ReportEvery = parse.GetDuration(reportEvery),
                Demo = parse.GetValue(demo),
                DemoRequests = parse.GetValue(demoRequests),
                DemoRps = parse.GetValue(demoRps),
                DemoDirectory = Path.Combine(context.Root, "demo"),
                AthenaDirectory = Path.Combine(context.Root, "athena"),
                MotoExecutable = parse.GetValue(moto)!,
                RelayExecutable = relay,
                Mapping = new EventSourceMappingOptions { BatchSize = parse.GetValue(batchSize), BatchingWindow = parse.GetDuration(batchWindow) },
            };
            return await RunAsync(options, console, context).ConfigureAwait(false);
        });
        return command;
    }

    public static async Task<int> RunAsync(UpOptions options, CliConsole console, CliContext context)
    {
        if (StackFile.TryRead(options.Paths.StackFile) is { } running && Signals.IsAlive(running.Pids.Up))
        {
            console.Error($"pipeline up: already running (pid {running.Pids.Up}, {options.Paths.StackFile}); `pipeline down` stops it");
            return 2;
        }

        if (LocalStack.CheckAddresses(options) is { } problem)
        {
            console.Error("pipeline up: " + problem);
            return 2;
        }

        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop.Cancel();
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        var stack = new LocalStack(options, console, context.Http, context.Time);
        await using (stack.ConfigureAwait(false))
        {
            try
            {
                await stack.StartAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                console.Step("stopped while starting");
                await stack.StopAsync().ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (IsStartFailure(e))
            {
                console.Error("pipeline up: " + e.Message);
                await stack.StopAsync().ConfigureAwait(false);
                return 1;
            }

            // The how-to first: a script (or a test) that waits for the ready line then has every
            // address it needs already printed.
            PrintHowTo(console, stack.Stack!, options.Paths);
            console.Line(ReadyLine);
            if (options.Demo && !stop.IsCancellationRequested)
            {
                try
                {
                    await stack.StartDemoAsync(stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (IsStartFailure(e) && !stop.IsCancellationRequested)
                {
                    console.Error("pipeline up --demo: " + e.Message);
                    await stack.StopAsync().ConfigureAwait(false);
                    return 1;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Stopping: fall through to the orderly stop.
                }
            }

            using var watching = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            var lost = stack.ChildLostAsync(watching.Token);
            var lostReported = lost.ContinueWith(
                t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        console.Error("pipeline up: " + t.Result);
                        stop.Cancel();
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            await RunSummaryAsync(stack, console, options.Paths, context, stop.Token).ConfigureAwait(false);
            await watching.CancelAsync().ConfigureAwait(false);
            await lostReported.ConfigureAwait(false);
            console.Step("stopping (draining the relay, then the stream)");
            var clean = await stack.StopAsync().ConfigureAwait(false);
            return clean && !lost.IsCompletedSuccessfully ? 0 : 1;
        }
    }

    private static bool IsStartFailure(Exception e) =>
        e is InvalidOperationException or IOException or HttpRequestException or TimeoutException
            or Amazon.Runtime.AmazonServiceException or Pipeline.Aws.Http.AwsServiceException or Pipeline.Lambda.LambdaInitException;

    private static void PrintHowTo(CliConsole console, StackFile stack, StatePaths paths)
    {
        console.KeyValues("local stack", [
            ("AWS_XRAY_DAEMON_ADDRESS", stack.Relay.DaemonAddress),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", stack.Relay.OtlpEndpoint ?? "off"),
            ("OTLP/gRPC", StackRelay.GrpcEndpointOf(stack.Relay.OtlpGrpc) is { } grpc ? $"{grpc} (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)" : "off"),
            ("AWS_ENDPOINT_URL", stack.Endpoint),
            ("archive", $"s3://{stack.Buckets.Archive}"),
            ("relay metrics", stack.MetricsUrl),
            ("state", paths.StackFile),
            ("logs", stack.LogDir),
            ("try", "./pipeline send [--otlp] | ./pipeline status | ./pipeline query --named service-edges | ./pipeline graph"),
        ]);
    }

    /// <summary>Samples the counters every second: live view on a terminal, a line on change otherwise, counters.json always.</summary>
    private static async Task RunSummaryAsync(LocalStack stack, CliConsole console, StatePaths paths, CliContext context, CancellationToken stop)
    {
        var latest = StackSummary.Sample(new Dictionary<string, double>(), stack.Delivery, stack.FunctionMetrics(), [], null);
        var sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), context.Time);
            try
            {
                while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                {
                    var relay = await stack.RelayMetricsAsync(stop).ConfigureAwait(false);
                    await stack.RefreshGraphEdgesAsync(stop).ConfigureAwait(false);
                    latest = StackSummary.Sample(relay, stack.Delivery, stack.FunctionMetrics(), stack.GraphEdges, stack.Demo?.TrafficSummary, stack.Graph, stack.Report);
                    WriteCounters(paths, latest, context.Time);
                }
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
        }, CancellationToken.None);

        await console.LiveAsync(() => latest.ToRenderable("pipeline up"), () => latest.ToLine(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), context.Time, stop).ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
    }

    private static void WriteCounters(StatePaths paths, StackSummary summary, TimeProvider time)
    {
        try
        {
            var file = new CounterFile(time.GetUtcNow(), summary.Counters, summary.GraphEdges);
            var temp = paths.CounterFile + ".tmp";
            File.WriteAllBytes(temp, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(file, StackJsonContext.Default.CounterFile));
            File.Move(temp, paths.CounterFile, overwrite: true);
        }
        catch (IOException)
        {
            // Status shows the previous sample; the next tick tries again.
        }
    }
}
