using System.Net;
using Pipeline.Aws.Kinesis;
using Relay.Buffering;
using Relay.Config;
using Relay.Http;
using Relay.Logging;
using Relay.Receive;
using Relay.Receive.Otlp;
using Relay.Sampling;
using Relay.Sending;
using Relay.Spool;
using Relay.Telemetry;

namespace Relay;

/// <summary>
/// The relay as a component: binds the UDP receiver, the SDK sampling endpoint, the OTLP
/// receivers and the /healthz + /metrics listener, runs the send loop, and drains on <see cref="StopAsync"/>.
/// Program.cs is a thin shell around it; tests and local mode start it in-process with any
/// <see cref="IKinesisClient"/> (port 0 binds free ports; read the bound ones back).
/// </summary>
public sealed class RelayHost : IAsyncDisposable
{
    /// <summary>Listener names: the <c>listener</c> label in /metrics and the name in bind errors.</summary>
    public const string SamplingListener = "sampling";

    public const string AdminListener = "metrics";

    /// <summary>/healthz and /metrics take no bodies; a kubelet probe and a scraper need few connections.</summary>
    public static readonly HttpListenerLimits AdminLimits = new() { MaxBodyBytes = 0, MaxConnections = 32 };

    private readonly RelayOptions _options;
    private readonly IKinesisClient _kinesis;
    private readonly JsonLog _log;
    private readonly TimeProvider _time;
    private readonly RecordBuffer _buffer;
    private readonly UdpReceiver _receiver;
    private readonly RelayPump _pump;
    private readonly SpoolDirectory? _spool;
    private readonly List<HttpServer> _listeners = [];
    private readonly HttpServer _sampling;
    private readonly HttpServer? _admin;
    private readonly HttpServer? _otlpHttp;
    private readonly HttpServer? _otlpGrpc;
    private readonly CancellationTokenSource _drain = new();
    private readonly CancellationTokenSource _background = new();
    private ShardMap? _shardMap;
    private Task? _pumpTask;
    private Task? _shardMapTask;
    private int _stopped;

    public RelayHost(RelayOptions options, IKinesisClient kinesis, JsonLog log, TimeProvider time, ISamplingUpstream? samplingUpstream = null, SenderPolicy? policy = null, Random? random = null, TimeSpan? probeInterval = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _kinesis = kinesis;
        _log = log;
        _time = time;
        Metrics = new RelayMetrics();
        policy = (policy ?? new SenderPolicy()) with { CallTimeout = options.SendTimeout };
        _buffer = new RecordBuffer(options.BufferMemoryBytes, Metrics);
        _spool = options.SpoolDir is null ? null : new SpoolDirectory(options.SpoolDir, options.SpoolMaxBytes, Metrics, log);
        var spool = _spool;
        Metrics.ObserveHealth(Health);
        IBatchEncoder encoder = options.Aggregate ? new AggregatingEncoder(() => _shardMap) : new PlainEncoder();
        var collector = new BatchCollector(_buffer, time, options.FlushInterval, encoder.MaxBatchRecords, encoder.MaxBatchBytes);
        var window = new InFlightWindow(options.MaxInFlight);
        Metrics.ObserveInFlight(window);
        var sender = new KinesisSender(kinesis, options.Stream, Metrics, log, time, random ?? Random.Shared, policy, window);
        _pump = new RelayPump(_buffer, collector, encoder, sender, spool, Metrics, log, time, policy, window)
        {
            ProbeInterval = probeInterval ?? RelayPump.DefaultProbeInterval,
        };
        try
        {
            _receiver = new UdpReceiver(options.UdpEndpoint, _buffer, Metrics, log, options.ReceiveBufferKb * 1024);
            var responder = new SamplingResponder(options, time, samplingUpstream, log);
            _sampling = AddListener(SamplingListener, options.TcpEndpoint, responder.HandleAsync, SamplingResponder.Limits);
            var otlp = new OtlpIntake(_buffer, Metrics.Otlp, options.Otlp.Limits);
            _otlpHttp = options.Otlp.HttpEndpoint is { } otlpHttp
                ? AddListener(OtlpHttpListener.Name, otlpHttp, OtlpHttpListener.Handler(new OtlpHttpReceiver(otlp, Metrics.Otlp, options.Otlp)), OtlpHttpListener.Limits(options.Otlp))
                : null;
            _otlpGrpc = options.Otlp.GrpcEndpoint is { } otlpGrpc
                ? AddListener(OtlpGrpcListener.Name, otlpGrpc, OtlpGrpcListener.Http1Handler, OtlpGrpcListener.Limits, OtlpGrpcListener.ConnectionHandler(new OtlpGrpcReceiver(otlp, Metrics.Otlp, options.Otlp), OtlpGrpcListener.Http2Limits(options.Otlp), Metrics.Otlp.Grpc, log, time))
                : null;
            _admin = options.MetricsEndpoint is { } metrics ? AddListener(AdminListener, metrics, HandleAdminAsync, AdminLimits) : null;
        }
        catch
        {
            _receiver?.Dispose();
            foreach (var listener in _listeners)
            {
                listener.Dispose();
            }

            throw;
        }
    }

    public RelayMetrics Metrics { get; }

    public IPEndPoint UdpEndpoint => _receiver.LocalEndpoint;

    public IPEndPoint? TcpEndpoint => _sampling.LocalEndpoint;

    public IPEndPoint? MetricsEndpoint => _admin?.LocalEndpoint;

    /// <summary>The bound OTLP/HTTP address, or null when it is off.</summary>
    public IPEndPoint? OtlpHttpEndpoint => _otlpHttp?.LocalEndpoint;

    /// <summary>The bound OTLP/gRPC address, or null when it is off.</summary>
    public IPEndPoint? OtlpGrpcEndpoint => _otlpGrpc?.LocalEndpoint;

    /// <summary>False while Kinesis is considered down (reported by /healthz, which still answers 200).</summary>
    public bool KinesisHealthy => _pump.Healthy;

    /// <summary>What /healthz and /readyz report: each problem a short reason.</summary>
    public HealthReport Health()
    {
        var problems = new List<string>();
        if (!_pump.Healthy)
        {
            problems.Add(_spool is null ? "kinesis unavailable (no spool: holding in memory, then buffer_full)" : "kinesis unavailable (spooling)");
        }

        if (_spool is { Failing: true })
        {
            problems.Add("spool unwritable (outage batches are dropped as spool_unwritable)");
        }

        return problems.Count == 0 ? HealthReport.Ok : new HealthReport(problems);
    }

    /// <summary>Completes when the send loop ends (after <see cref="StopAsync"/> drained).</summary>
    public Task Completion => _pumpTask ?? Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_options.Aggregate)
        {
            _shardMap = await RelayPump.LoadShardMapAsync(_kinesis, _options.Stream, _log, cancellationToken).ConfigureAwait(false);
            _shardMapTask = RefreshShardMapAsync(_background.Token);
        }

        _pumpTask = Task.Run(() => _pump.RunAsync(_drain.Token), CancellationToken.None);
        foreach (var listener in _listeners)
        {
            listener.Start();
        }

        _receiver.Start();
        _log.Info("relay ready",
            ("udp", UdpEndpoint.ToString()),
            ("tcp", TcpEndpoint?.ToString()),
            ("metrics", MetricsEndpoint?.ToString()),
            ("otlp_http", OtlpHttpEndpoint?.ToString()),
            ("otlp_grpc", OtlpGrpcEndpoint?.ToString()),
            ("stream", _options.Stream),
            ("region", _options.Region),
            ("aggregate", _options.Aggregate),
            ("buffer_mb", _options.BufferMemoryMb),
            ("max_in_flight", _options.MaxInFlight),
            ("udp_receive_buffer_bytes", _receiver.ReceiveBufferBytes),
            ("spool", _options.SpoolDir),
            ("sdk_sampling", _options.SdkSampling.ToString().ToLowerInvariant()));
    }

    /// <summary>
    /// Stops receiving (UDP, then OTLP/HTTP once its exports in flight are buffered), sends what is
    /// buffered within --drain-timeout, spools (or counts as dropped) what is left after it, then
    /// stops the other HTTP listeners.
    /// </summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            await Completion.ConfigureAwait(false);
            return;
        }

        _log.Info("relay stopping", ("buffered_bytes", _buffer.Bytes), ("drain_timeout_s", _options.DrainTimeout.TotalSeconds));
        _receiver.Stop();
        // Exports in a handler finish into the buffer before it closes (gRPC clients get GOAWAY); later ones find the port closed and retry.
        await Task.WhenAll(new[] { _otlpHttp, _otlpGrpc }.OfType<HttpServer>().Select(l => l.StopAsync())).ConfigureAwait(false);

        _buffer.Complete();
        _drain.CancelAfter(_options.DrainTimeout);
        await Completion.ConfigureAwait(false);
        await _background.CancelAsync().ConfigureAwait(false);
        if (_shardMapTask is not null)
        {
            await _shardMapTask.ConfigureAwait(false);
        }

        await Task.WhenAll(_listeners.Select(l => l.StopAsync())).ConfigureAwait(false);

        _log.Info("relay stopped",
            ("received", Metrics.Received),
            ("forwarded", Metrics.Forwarded),
            ("spooled", Metrics.Spooled),
            ("dropped", Metrics.DroppedTotal));
    }

    public async ValueTask DisposeAsync()
    {
        if (_pumpTask is not null)
        {
            await StopAsync().ConfigureAwait(false);
        }

        _receiver.Dispose();
        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        _drain.Dispose();
        _background.Dispose();
    }

    private async Task RefreshShardMapAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RelayPump.ShardMapRefresh, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                _shardMap = await RelayPump.LoadShardMapAsync(_kinesis, _options.Stream, _log, cancellationToken).ConfigureAwait(false) ?? _shardMap;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Binds one more HTTP listener with its own connection budget and counters (label
    /// <paramref name="name"/>); it starts with the relay and stops after the drain. Binding
    /// happens here, so a taken port fails the constructor with a <see cref="ListenerBindException"/>
    /// naming the listener. This is where a receiver such as OTLP/HTTP plugs in.
    /// </summary>
    private HttpServer AddListener(string name, IPEndPoint endpoint, HttpHandler handler, HttpListenerLimits limits, Http2ConnectionHandler? http2 = null)
    {
        var server = new HttpServer(name, endpoint, handler, limits, Metrics.Http(name), _log, _time, http2);
        _listeners.Add(server);
        return server;
    }

    private Task<HttpResponse> HandleAdminAsync(HttpRequest request, CancellationToken cancellationToken) =>
        Task.FromResult((request.Method, request.Path) switch
        {
            ("GET", "/healthz") => HttpResponse.Text(200, HealthText(Health())),
            ("GET", "/readyz") => Readiness(),
            ("GET", "/metrics") => HttpResponse.Text(200, Metrics.ToPrometheus(), "text/plain; version=0.0.4; charset=utf-8"),
            (_, "/healthz" or "/readyz" or "/metrics") => HttpResponse.Text(405, "method not allowed\n"),
            _ => HttpResponse.Text(404, "not found\n"),
        });

    private HttpResponse Readiness()
    {
        var health = Health();
        return health.Healthy ? HttpResponse.Text(200, "ok\n") : HttpResponse.Text(503, HealthText(health));
    }

    private static string HealthText(HealthReport health) =>
        health.Healthy ? "ok\n" : "degraded: " + string.Join("; ", health.Problems) + "\n";
}
