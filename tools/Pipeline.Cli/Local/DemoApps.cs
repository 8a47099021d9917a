using System.Globalization;

namespace Pipeline.Cli.Local;

/// <summary>
/// The demo (demo/) run against the local stack as a mixed fleet: the seed's service-a →
/// service-b on express + aws-xray-sdk (segments over UDP to the relay), and service-c, which
/// service-b calls, on the OpenTelemetry JS SDK (the AWS X-Ray propagator and ID generator, spans
/// over OTLP/HTTP to the relay), so each trace crosses both SDK generations. <c>npm ci</c> when
/// node_modules is missing or older than the lock file; the services on free loopback ports, then
/// the bounded traffic generator. Without the relay's OTLP receiver (<c>--otlp-http off</c>)
/// service-c is not started and service-b calls nothing.
/// </summary>
internal sealed class DemoApps : IAsyncDisposable
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly List<ChildProcess> _processes = [];

    private DemoApps(string directory) => Directory = directory;

    public string Directory { get; }

    public Uri? ServiceA { get; private set; }

    public Uri? ServiceB { get; private set; }

    /// <summary>service-c (OpenTelemetry), or null when the relay's OTLP receiver is off.</summary>
    public Uri? ServiceC { get; private set; }

    public ChildProcess? Traffic { get; private set; }

    /// <summary>The generator's last line: its JSON summary of responses by status once it is done.</summary>
    public string? TrafficSummary { get; private set; }

    public IReadOnlyDictionary<string, int> Pids => _processes.ToDictionary(p => p.Name, p => p.Id, StringComparer.Ordinal);

    /// <summary>
    /// node_modules is missing, or npm's record of what it installed (node_modules/.package-lock.json)
    /// is older than package-lock.json: the lock file changed since (service-c's packages were added
    /// to a demo installed before), so <c>npm ci</c> again.
    /// </summary>
    public static bool NeedsInstall(string directory)
    {
        var installed = new FileInfo(Path.Combine(directory, "node_modules", ".package-lock.json"));
        var lockFile = new FileInfo(Path.Combine(directory, "package-lock.json"));
        return !installed.Exists || (lockFile.Exists && lockFile.LastWriteTimeUtc > installed.LastWriteTimeUtc);
    }

    /// <summary><c>npm ci</c> (exactly the lock file's versions); throws with npm's output on failure.</summary>
    public static async Task InstallAsync(string directory, string logPath, CancellationToken cancellationToken)
    {
        var npm = ChildProcess.Start("npm", "npm", ["ci", "--no-audit", "--no-fund"], new Dictionary<string, string?>(), directory, logPath);
        await using (npm.ConfigureAwait(false))
        {
            int code;
            try
            {
                code = await npm.Exited.WaitAsync(InstallTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException($"npm ci did not finish in {InstallTimeout.TotalMinutes} minutes (log: {logPath})");
            }

            if (code != 0)
            {
                throw new InvalidOperationException($"npm ci failed with exit code {code} (log: {logPath}):{Environment.NewLine}{npm.Tail}");
            }
        }
    }

    public static async Task<DemoApps> StartAsync(
        string directory, StackFile stack, int requests, int requestsPerSecond, StatePaths paths, CancellationToken cancellationToken)
    {
        var demo = new DemoApps(directory);
        try
        {
            var portC = LoopbackPorts.FreeTcp();
            var portB = LoopbackPorts.FreeTcp();
            var portA = LoopbackPorts.FreeTcp();
            demo.ServiceC = stack.Relay.OtlpEndpoint is null ? null : new Uri($"http://127.0.0.1:{portC.ToString(CultureInfo.InvariantCulture)}");
            demo.ServiceB = new Uri($"http://127.0.0.1:{portB.ToString(CultureInfo.InvariantCulture)}");
            demo.ServiceA = new Uri($"http://127.0.0.1:{portA.ToString(CultureInfo.InvariantCulture)}");
            var environment = new Dictionary<string, string?>
            {
                ["AWS_XRAY_DAEMON_ADDRESS"] = stack.Relay.DaemonAddress,
                ["AWS_ENDPOINT_URL"] = stack.Endpoint,
                ["AWS_REGION"] = stack.Region,
                ["AWS_ACCESS_KEY_ID"] = StackNames.FakeCredential,
                ["AWS_SECRET_ACCESS_KEY"] = StackNames.FakeCredential,
                ["AWS_SESSION_TOKEN"] = null,
                ["AWS_PROFILE"] = null,
                ["DEMO_BUCKET"] = stack.Buckets.Demo,
                ["SERVICE_B_PORT"] = portB.ToString(CultureInfo.InvariantCulture),
                ["SERVICE_B_URL"] = demo.ServiceB.ToString().TrimEnd('/'),
                ["SERVICE_A_PORT"] = portA.ToString(CultureInfo.InvariantCulture),
                ["SERVICE_A_URL"] = demo.ServiceA.ToString().TrimEnd('/'),
                ["DEMO_REQUESTS"] = requests.ToString(CultureInfo.InvariantCulture),
                ["DEMO_RPS"] = requestsPerSecond.ToString(CultureInfo.InvariantCulture),
                // service-c: the OTel SDK's own variables, and none a user's shell may have set for another collector.
                ["SERVICE_C_PORT"] = portC.ToString(CultureInfo.InvariantCulture),
                ["SERVICE_C_URL"] = demo.ServiceC?.ToString().TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = stack.Relay.OtlpEndpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = null,
                ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = null,
                ["OTEL_EXPORTER_OTLP_HEADERS"] = null,
                ["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] = null,
                ["OTEL_SDK_DISABLED"] = null,
                ["OTEL_SERVICE_NAME"] = null,
                ["OTEL_RESOURCE_ATTRIBUTES"] = null,
                ["OTEL_PROPAGATORS"] = null,
                ["OTEL_TRACES_SAMPLER"] = null,
                ["OTEL_TRACES_SAMPLER_ARG"] = null,
            };
            // Ready = the service printed that it listens: probing /health would add traces to the demo's map.
            if (demo.ServiceC is not null)
            {
                var listeningC = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                demo.Add(ChildProcess.Start("service-c", "node", ["service-c.js"], environment, directory, paths.Log("service-c"), OnListening(listeningC)));
                await WaitListeningAsync(demo, listeningC.Task, demo.ServiceC, cancellationToken).ConfigureAwait(false);
            }

            var listeningB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var listeningA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            demo.Add(ChildProcess.Start("service-b", "node", ["service-b.js"], environment, directory, paths.Log("service-b"), OnListening(listeningB)));
            demo.Add(ChildProcess.Start("service-a", "node", ["service-a.js"], environment, directory, paths.Log("service-a"), OnListening(listeningA)));
            await WaitListeningAsync(demo, listeningB.Task, demo.ServiceB, cancellationToken).ConfigureAwait(false);
            await WaitListeningAsync(demo, listeningA.Task, demo.ServiceA, cancellationToken).ConfigureAwait(false);
            demo.Traffic = ChildProcess.Start("traffic", "node", ["traffic.js"], environment, directory, paths.Log("traffic"), line => demo.TrafficSummary = line);
            demo.Add(demo.Traffic);
            return demo;
        }
        catch
        {
            await demo.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the traffic and the services (SIGTERM, then kill).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }

        _processes.Clear();
    }

    private void Add(ChildProcess process) => _processes.Add(process);

    private static Action<string> OnListening(TaskCompletionSource listening) => line =>
    {
        if (line.Contains(" listening on ", StringComparison.Ordinal))
        {
            listening.TrySetResult();
        }
    };

    private static async Task WaitListeningAsync(DemoApps demo, Task listening, Uri service, CancellationToken cancellationToken)
    {
        var exited = Task.WhenAny(demo._processes.Select(p => p.Exited));
        var first = await Task.WhenAny(listening, exited, Task.Delay(StartTimeout, cancellationToken)).ConfigureAwait(false);
        if (first == listening)
        {
            return;
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (demo._processes.Find(p => p.HasExited) is { } dead)
        {
            throw new InvalidOperationException($"demo {dead.Name} exited with code {await dead.Exited.ConfigureAwait(false)}:{Environment.NewLine}{dead.Tail}");
        }

        throw new InvalidOperationException($"demo service {service} did not start listening within {StartTimeout.TotalSeconds} s");
    }
}
