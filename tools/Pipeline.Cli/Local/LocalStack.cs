using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Cli.Output;
using Pipeline.Core.Graph;
using Pipeline.Functions.Configuration;
using Pipeline.Lambda.Logging;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Cli.Local;

/// <summary>What <c>pipeline up</c> was asked for (flags, resolved).</summary>
internal sealed record UpOptions
{
    public required IPEndPoint Udp { get; init; }

    /// <summary>The SDK sampling endpoint; default: the UDP address's host and port, as the X-Ray daemon does.</summary>
    public required IPEndPoint Tcp { get; init; }

    public required IPEndPoint Metrics { get; init; }

    /// <summary>The relay's OTLP/HTTP receiver for OpenTelemetry SDKs; null turns it off.</summary>
    public IPEndPoint? OtlpHttp { get; init; } = new(IPAddress.Loopback, 4318);

    /// <summary>The relay's OTLP/gRPC receiver for OpenTelemetry SDKs; null turns it off.</summary>
    public IPEndPoint? OtlpGrpc { get; init; } = new(IPAddress.Loopback, 4317);

    public required StatePaths Paths { get; init; }

    public string? DataDir { get; init; }

    /// <summary>The athena/ directory (table DDL): with it, the mirror's closed hours get search summaries.</summary>
    public string? AthenaDirectory { get; init; }

    public TimeSpan GraphEvery { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan ReportEvery { get; init; } = TimeSpan.FromMinutes(15);

    public bool Demo { get; init; }

    public int DemoRequests { get; init; } = 200;

    public int DemoRps { get; init; } = 10;

    public string DemoDirectory { get; init; } = "demo";

    public string MotoExecutable { get; init; } = MotoServer.Executable;

    public required string RelayExecutable { get; init; }

    public EventSourceMappingOptions Mapping { get; init; } = new();
}

/// <summary>
/// The running local stack: moto, the relay, the event-source mapping into the ingest handler,
/// the scheduled functions and the archive mirror. Started in dependency order by
/// <see cref="StartAsync"/>, stopped in reverse by <see cref="StopAsync"/> so that nothing
/// accepted is lost: demo first, then the relay drains into Kinesis, then the mapping delivers
/// what is in the stream, then the last mirror pass, then moto.
/// </summary>
internal sealed class LocalStack : IAsyncDisposable
{
    private const string Region = AwsSettings.FallbackRegion;
    private static readonly TimeSpan RelayDrainGrace = TimeSpan.FromSeconds(30);

    /// <summary>After the demo traffic ends: relay flush (1 s idle) + batching window + an ingest invocation.</summary>
    private static readonly TimeSpan LiveGraphWindowLength = TimeSpan.FromHours(1);

    private static readonly TimeSpan TrafficSettle = TimeSpan.FromSeconds(4);

    private readonly UpOptions _options;
    private readonly CliConsole _console;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _background = new();
    private readonly List<Task> _backgroundTasks = [];
    private MotoServer? _motoServer;
    private ChildProcess? _moto;
    private ChildProcess? _relay;
    private AwsClients? _aws;
    private EventSourceMapping? _mapping;
    private ArchiveDirectoryMirror? _mirror;
    private Trace.SearchSummaryKeeper? _summaries;
    private DemoApps? _demo;
    private Stream? _functionLog;
    private string? _graphResultSeen;

    /// <summary>The Function dimension of the shared meter's lines: every local function runs in this one process.</summary>
    private const string LocalFunctionsDimension = "local";

    private readonly MetricTotals _functionMetrics = new();
    private readonly EmfPublisher _sharedMetrics;

    public LocalStack(UpOptions options, CliConsole console, HttpClient http, TimeProvider time)
    {
        _options = options;
        _console = console;
        _http = http;
        _time = time;
        // The functions run in this process: what the shared meter counts (retries, give-ups) is theirs.
        _sharedMetrics = new EmfPublisher([new(PipelineMetrics.FunctionDimension, LocalFunctionsDimension)], _functionMetrics, time);
    }

    public StackFile? Stack { get; private set; }

    /// <summary>The functions' EMF totals, with what the shared meter counted since the last call added first.</summary>
    public MetricTotals FunctionMetrics()
    {
        _sharedMetrics.Flush();
        return _functionMetrics;
    }

    public DeliveryCounters? Delivery => _mapping?.Counters;

    public ScheduledFunction? Graph { get; private set; }

    /// <summary>Edges of the latest service graph (see <see cref="RefreshGraphEdgesAsync"/>).</summary>
    public IReadOnlyList<string> GraphEdges { get; private set; } = [];

    public ScheduledFunction? Report { get; private set; }

    public DemoApps? Demo => _demo;

    public ArchiveDirectoryMirror? Mirror => _mirror;

    /// <summary>Refuses a UDP/TCP address that is taken before anything starts: the commonest failure (another daemon on 2000).</summary>
    public static string? CheckAddresses(UpOptions options)
    {
        if (LoopbackPorts.WhyNotBindable(options.Udp, ProtocolType.Udp) is { } udp)
        {
            return $"UDP {options.Udp} is {udp}: is an X-Ray daemon or another `pipeline up` running? Stop it, or pass --udp 127.0.0.1:<port>.";
        }

        if (options.Tcp.Port != 0 && LoopbackPorts.WhyNotBindable(options.Tcp, ProtocolType.Tcp) is { } tcp)
        {
            return $"TCP {options.Tcp} (the SDK sampling endpoint) is {tcp}: pass --tcp 127.0.0.1:<port> (or 127.0.0.1:0 for any).";
        }

        if (options.OtlpHttp is { Port: not 0 } otlpHttp && LoopbackPorts.WhyNotBindable(otlpHttp, ProtocolType.Tcp) is { } otlp)
        {
            return $"TCP {otlpHttp} (OTLP/HTTP) is {otlp}: is an OpenTelemetry Collector running? Stop it, or pass --otlp-http 127.0.0.1:<port> (0 for any, or off).";
        }

        if (options.OtlpGrpc is { Port: not 0 } otlpGrpc && LoopbackPorts.WhyNotBindable(otlpGrpc, ProtocolType.Tcp) is { } grpc)
        {
            return $"TCP {otlpGrpc} (OTLP/gRPC) is {grpc}: is an OpenTelemetry Collector running? Stop it, or pass --otlp-grpc 127.0.0.1:<port> (0 for any, or off).";
        }

        return null;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var paths = _options.Paths;
        Directory.CreateDirectory(paths.LogDir);

        var server = await _console.StepAsync(
            "starting moto_server",
            () => MotoServer.StartAsync(
                new MotoServerOptions { Executable = _options.MotoExecutable, LogPath = paths.Log("moto"), Http = _http, StopWithParent = false, NotFoundHint = ", or pass --moto PATH" },
                cancellationToken),
            r => $"moto_server {r.Endpoint.ToString().TrimEnd('/')} (pid {r.ProcessId})").ConfigureAwait(false);
        _motoServer = server;
        _moto = server.Process;
        var moto = server.Process;
        var endpoint = server.Endpoint;

        var settings = new AwsSettings
        {
            Region = Region,
            EndpointUrl = endpoint,
            AccessKeyId = StackNames.FakeCredential,
            SecretAccessKey = StackNames.FakeCredential,
        };
        _aws = AwsClients.Create(settings, _http, _time);
        var streamArn = await _console.StepAsync(
            "creating the stream, buckets, table and SES identity",
            () => new StackProvisioner(_aws).CreateAsync(_options.Demo, cancellationToken),
            _ => $"created stream {StackNames.Stream} ({StackNames.ShardCount} shards), bucket {StackNames.ArchiveBucket} (SSE AES256, public access blocked), table {StackNames.DecisionTable} (TTL {StackNames.DecisionTtlAttribute}), SES identity {StackNames.ReportSender}").ConfigureAwait(false);

        var relay = await _console.StepAsync(
            "starting the relay",
            () => RelayLauncher.StartAsync(_options.RelayExecutable, _options.Udp, _options.Tcp, _options.Metrics, _options.OtlpHttp, _options.OtlpGrpc, endpoint, Region, StackNames.Stream, paths.SpoolDir, paths.Log("relay"), cancellationToken),
            r => $"relay udp {r.Udp} tcp {r.Tcp} otlp/http {r.OtlpHttp?.ToString() ?? "off"} otlp/grpc {r.OtlpGrpc?.ToString() ?? "off"} metrics http://{r.Metrics}/metrics (pid {r.Process.Id})").ConfigureAwait(false);
        _relay = relay.Process;

        _functionLog = new FileStream(paths.Log("functions"), FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
        var logger = new JsonLineLogger(_functionLog, _time, LogLevel.Information);
        var functions = new LocalFunctions(LocalFunctions.Catalog(_functionMetrics), LocalFunctions.Environment(endpoint, Region), _time, _http, logger);
        if (!functions.Has(FunctionContract.IngestHandler))
        {
            throw new InvalidOperationException($"this build has no '{FunctionContract.IngestHandler}' function: nothing would carry segments from the stream to the archive");
        }

        _mapping = new EventSourceMapping(
            _aws.Kinesis, StackNames.Stream, streamArn, Region,
            ct => functions.CreateAsync(FunctionContract.IngestHandler, ct),
            _options.Mapping, _time, logger);
        await _console.StepAsync(
            "starting the event-source mapping",
            async () =>
            {
                await _mapping.StartAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            },
            _ => $"ingest: event-source mapping polls {StackNames.ShardCount} shards (batch {_options.Mapping.BatchSize}, window {_options.Mapping.BatchingWindow.TotalMilliseconds} ms)").ConfigureAwait(false);

        await StartScheduledAsync(functions, logger, cancellationToken).ConfigureAwait(false);

        if (_options.DataDir is { } dataDir)
        {
            _mirror = new ArchiveDirectoryMirror(_aws.ObjectStore, StackNames.ArchiveBucket, dataDir);
            if (_options.AthenaDirectory is { } athena && Directory.Exists(athena))
            {
                _summaries = new Trace.SearchSummaryKeeper(_mirror.Directory, new Query.AthenaSqlFiles(athena).Tables(), _time);
            }

            _backgroundTasks.Add(Task.Run(() => MirrorLoopAsync(_background.Token), CancellationToken.None));
            _console.Step($"archive mirrored to {_mirror.Directory}" + (_summaries is null ? string.Empty : " (search summaries of closed hours kept current)"));
        }

        Stack = new StackFile
        {
            Endpoint = endpoint.ToString().TrimEnd('/'),
            Region = Region,
            Stream = StackNames.Stream,
            StreamArn = streamArn,
            Buckets = new StackBuckets(StackNames.ArchiveBucket, _options.Demo ? StackNames.DemoBucket : null),
            Table = StackNames.DecisionTable,
            SesIdentity = StackNames.ReportSender,
            Relay = new StackRelay(relay.Udp.ToString(), relay.Tcp.ToString(), $"tcp:{relay.Tcp} udp:{relay.Udp}", relay.OtlpHttp?.ToString(), StackRelay.OtlpEndpointOf(relay.OtlpHttp), relay.OtlpGrpc?.ToString()),
            MetricsUrl = $"http://{relay.Metrics}/metrics",
            Pids = new StackPids { Up = Environment.ProcessId, Moto = moto.Id, Relay = relay.Process.Id },
            DataDir = _mirror?.Directory,
            LogDir = paths.LogDir,
            StartedAt = _time.GetUtcNow(),
            Demo = _options.Demo,
        };
        Stack.Write(paths.StackFile);
    }

    /// <summary>Installs (when needed) and starts the demo; records its pids in stack.json.</summary>
    public async Task StartDemoAsync(CancellationToken cancellationToken)
    {
        var stack = Stack ?? throw new InvalidOperationException("the stack is not started");
        var directory = Path.GetFullPath(_options.DemoDirectory);
        if (!File.Exists(Path.Combine(directory, "package.json")))
        {
            throw new InvalidOperationException($"no demo at {directory} (package.json missing)");
        }

        if (DemoApps.NeedsInstall(directory))
        {
            await _console.StepAsync(
                "npm ci (first run of the demo)",
                async () =>
                {
                    await DemoApps.InstallAsync(directory, _options.Paths.Log("npm"), cancellationToken).ConfigureAwait(false);
                    return 0;
                },
                _ => "demo dependencies installed (npm ci)").ConfigureAwait(false);
        }

        _demo = await _console.StepAsync(
            stack.Relay.OtlpEndpoint is null ? "starting service-a and service-b (service-c needs OTLP: --otlp-http is off)" : "starting service-a, service-b and service-c",
            () => DemoApps.StartAsync(directory, stack, _options.DemoRequests, _options.DemoRps, _options.Paths, cancellationToken),
            d => $"demo: service-a {d.ServiceA!.ToString().TrimEnd('/')} -> service-b {d.ServiceB!.ToString().TrimEnd('/')} (aws-xray-sdk)"
                + (d.ServiceC is { } c ? $" -> service-c {c.ToString().TrimEnd('/')} (OpenTelemetry)" : "")
                + $", traffic {_options.DemoRequests} requests at {_options.DemoRps}/s").ConfigureAwait(false);
        Stack = stack with { Pids = stack.Pids with { Demo = _demo.Pids } };
        Stack.Write(_options.Paths.StackFile);
        if (Graph is not null && _demo.Traffic is { } traffic)
        {
            // The map of the demo's traffic as soon as it has been ingested, not a timer tick later.
            _backgroundTasks.Add(Task.Run(
                async () =>
                {
                    await traffic.Exited.WaitAsync(_background.Token).ConfigureAwait(false);
                    await Task.Delay(TrafficSettle, _time, _background.Token).ConfigureAwait(false);
                    await Graph.TryInvokeAsync(_background.Token).ConfigureAwait(false);
                },
                CancellationToken.None).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
        }
    }

    /// <summary>
    /// Completes with a description when moto or the relay exits on its own: nothing would reach
    /// the archive any more, so `up` stops instead of showing a summary that no longer moves.
    /// </summary>
    public async Task<string> ChildLostAsync(CancellationToken cancellationToken)
    {
        var moto = _moto!.Exited;
        var relay = _relay!.Exited;
        var first = await Task.WhenAny(moto, relay).WaitAsync(cancellationToken).ConfigureAwait(false);
        var child = first == moto ? _moto : _relay;
        return $"{child.Name} (pid {child.Id}) exited with code {await first.ConfigureAwait(false)}; see {_options.Paths.Log(child.Name == "relay" ? "relay" : "moto")}:{Environment.NewLine}{child.Tail}";
    }

    /// <summary>Relay samples from /metrics (empty when it cannot be read).</summary>
    public async Task<Dictionary<string, double>> RelayMetricsAsync(CancellationToken cancellationToken)
    {
        if (Stack is null)
        {
            return [];
        }

        try
        {
            return await PrometheusText.ScrapeAsync(_http, new Uri(Stack.MetricsUrl), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return [];
        }
    }

    /// <summary>Reads the latest graph document the service-graph function wrote, when it wrote a new one.</summary>
    public async Task RefreshGraphEdgesAsync(CancellationToken cancellationToken)
    {
        if (Graph?.LastResult is not { } result || string.Equals(result, _graphResultSeen, StringComparison.Ordinal) || _aws is null)
        {
            return;
        }

        try
        {
            using var response = JsonDocument.Parse(result);
            if (response.RootElement.TryGetProperty("json", out var key) && key.GetString() is { } jsonKey
                && await _aws.ObjectStore.GetAsync(StackNames.ArchiveBucket, jsonKey, cancellationToken).ConfigureAwait(false) is { } bytes
                && ServiceGraphJson.TryDeserialize(bytes) is { } graph)
            {
                GraphEdges = StackSummary.EdgesOf(graph);
            }

            _graphResultSeen = result;
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or Amazon.Runtime.AmazonServiceException)
        {
            // The next sample tries again.
        }
    }

    /// <summary>Stops everything in reverse order; returns false when something had to be killed.</summary>
    public async Task<bool> StopAsync()
    {
        var clean = true;
        if (_demo is not null)
        {
            await _demo.DisposeAsync().ConfigureAwait(false);
            _console.Step("demo stopped");
        }

        if (_relay is not null)
        {
            var code = await _relay.StopAsync(RelayDrainGrace).ConfigureAwait(false);
            clean &= code == 0;
            _console.Step(code switch
            {
                0 => "relay drained and stopped",
                { } c => $"relay exited with code {c.ToString(CultureInfo.InvariantCulture)}",
                null => "relay killed after the drain grace period",
            });
        }

        if (_mapping is not null)
        {
            await _mapping.StopAsync().ConfigureAwait(false);
            _console.Step($"event-source mapping stopped: {_mapping.Counters.Acknowledged} record(s) delivered, {_mapping.Counters.DiscardedRecords} discarded");
        }

        await _background.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_backgroundTasks).ConfigureAwait(false);
        if (_mirror is not null && _moto is { HasExited: false })
        {
            try
            {
                await _mirror.SyncAsync(CancellationToken.None).ConfigureAwait(false);
                _summaries?.Refresh();
                _console.Step($"archive mirror: {_mirror.ObjectsCopied} object(s) in {_mirror.Directory}"
                    + (_summaries is null ? string.Empty : $"; {_summaries.Built} search summary(ies) built, {_summaries.Failures} failed{(_summaries.LastError is { } last ? " (last: " + last + ")" : string.Empty)}"));
            }
            catch (Exception e) when (e is IOException or HttpRequestException or Amazon.Runtime.AmazonServiceException)
            {
                _console.Warn($"last archive mirror pass failed: {e.Message}");
            }
        }

        if (_moto is not null)
        {
            clean &= await _moto.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false) is not null;
            _console.Step("moto_server stopped");
        }

        return clean;
    }

    public async ValueTask DisposeAsync()
    {
        if (_demo is not null)
        {
            await _demo.DisposeAsync().ConfigureAwait(false);
        }

        if (_relay is not null)
        {
            await _relay.DisposeAsync().ConfigureAwait(false);
        }

        if (_mapping is not null)
        {
            await _mapping.DisposeAsync().ConfigureAwait(false);
        }

        if (_motoServer is not null)
        {
            await _motoServer.DisposeAsync().ConfigureAwait(false);
        }

        _aws?.Dispose();
        _sharedMetrics.Dispose();
        _background.Dispose();
        if (_functionLog is not null)
        {
            await _functionLog.DisposeAsync().ConfigureAwait(false);
        }

        if (Stack is not null && StackFile.TryRead(_options.Paths.StackFile)?.Pids.Up == Environment.ProcessId)
        {
            File.Delete(_options.Paths.StackFile);
            File.Delete(_options.Paths.CounterFile);
        }
    }

    private async Task StartScheduledAsync(LocalFunctions functions, Microsoft.Extensions.Logging.ILogger logger, CancellationToken cancellationToken)
    {
        var scheduled = new List<string>();
        if (functions.Has(FunctionContract.ServiceGraphHandler))
        {
            Graph = new ScheduledFunction(
                FunctionContract.ServiceGraphHandler,
                await functions.CreateAsync(FunctionContract.ServiceGraphHandler, cancellationToken).ConfigureAwait(false),
                Region,
                _time,
                logger,
                LiveGraphWindow);
            _backgroundTasks.Add(Task.Run(() => Graph.RunEveryAsync(_options.GraphEvery, _background.Token), CancellationToken.None));
            scheduled.Add($"service-graph every {Durations.Format(_options.GraphEvery)}");
        }

        if (functions.Has(FunctionContract.CostReportHandler))
        {
            Report = new ScheduledFunction(FunctionContract.CostReportHandler, await functions.CreateAsync(FunctionContract.CostReportHandler, cancellationToken).ConfigureAwait(false), Region, _time, logger);
            _backgroundTasks.Add(Task.Run(() => Report.RunEveryAsync(_options.ReportEvery, _background.Token), CancellationToken.None));
            scheduled.Add($"cost-report every {Durations.Format(_options.ReportEvery)}");
        }

        _console.Step(scheduled.Count == 0 ? "no scheduled functions in this build" : "scheduled: " + string.Join(", ", scheduled));
    }

    /// <summary>
    /// The schedule in AWS maps the last whole window (e.g. the previous hour); locally people
    /// want what just happened, so each run maps the hour up to the next whole minute.
    /// </summary>
    private static string LiveGraphWindow(DateTimeOffset now)
    {
        var end = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        var start = end - LiveGraphWindowLength;
        return string.Create(CultureInfo.InvariantCulture, $$"""{"windowStart":"{{start:yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'}}","windowEnd":"{{end:yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'}}"}""");
    }

    private async Task MirrorLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await _mirror!.SyncAsync(cancellationToken).ConfigureAwait(false);
                    _summaries?.Refresh();
                }
                catch (Exception e) when (e is IOException or HttpRequestException or Amazon.Runtime.AmazonServiceException)
                {
                    // Next pass retries; the final pass at shutdown reports.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
