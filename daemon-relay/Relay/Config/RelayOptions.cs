using System.Net;
using Relay.Receive.Otlp;

namespace Relay.Config;

/// <summary>How SDK sampling requests on the TCP address are answered.</summary>
public enum SdkSamplingMode
{
    /// <summary>One rule that records every request: the pipeline archives everything and samples later.</summary>
    All,
    /// <summary>Forward GetSamplingRules/SamplingTargets, signed, to X-Ray.</summary>
    Proxy,
}

/// <summary>The daemon's log levels, most verbose first ("prod" is the daemon's default and means info).</summary>
public enum RelayLogLevel
{
    Dev,
    Debug,
    Info,
    Warn,
    Error,
    Prod,
}

/// <summary>
/// Everything the relay is configured with, bound once from defaults, cfg.yaml, environment and
/// flags (in that order of precedence, flags last) by <see cref="OptionsParser"/>. Every default
/// is documented in daemon-relay/Relay/cfg.yaml.
/// </summary>
public sealed record RelayOptions
{
    public const int DefaultPort = 2000;
    public const int DefaultBufferMemoryMb = 16;
    public const int DefaultSpoolMaxMb = 256;
    public const int DefaultSdkMaxPerSecond = 0;
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultFlushInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultSendTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// PutRecords calls in flight at most (--max-in-flight). Provisional: not yet chosen from a
    /// measurement (issue 15 item 1 leaves the 1/2/4/8 sweep with bench/relay-harness
    /// --relay-args "--max-in-flight N" to do); 4 is a guess that keeps the keep-alive pool small.
    /// </summary>
    public const int DefaultMaxInFlight = 4;

    /// <summary>Upper bound of --max-in-flight: the HTTP connection pool is sized to it.</summary>
    public const int MaxMaxInFlight = 64;

    /// <summary>SO_RCVBUF asked for: 4 MiB holds ~6,000 700-byte datagrams (a 1.5 s stall at 4,000/s).</summary>
    public const int DefaultReceiveBufferKb = 4096;

    public IPEndPoint UdpEndpoint { get; init; } = new(IPAddress.Loopback, DefaultPort);

    public IPEndPoint TcpEndpoint { get; init; } = new(IPAddress.Loopback, DefaultPort);

    /// <summary>Null turns the /healthz + /metrics listener off.</summary>
    public IPEndPoint? MetricsEndpoint { get; init; } = new(IPAddress.Loopback, 2112);

    public int BufferMemoryMb { get; init; } = DefaultBufferMemoryMb;

    /// <summary>Empty: looked up in EC2 instance metadata at start (not in <see cref="LocalMode"/>).</summary>
    public string Region { get; init; } = "";

    public Uri? Endpoint { get; init; }

    public string? ConfigPath { get; init; }

    public RelayLogLevel LogLevel { get; init; } = RelayLogLevel.Prod;

    /// <summary>Never ask EC2 instance metadata (region and instance-role credentials must come from elsewhere).</summary>
    public bool LocalMode { get; init; }

    /// <summary>An IAM role to assume through STS (<c>Relay.Aws.RelayIdentity</c>), for streams in another account.</summary>
    public string? RoleArn { get; init; }

    public string Stream { get; init; } = "";

    public bool Aggregate { get; init; }

    /// <summary>Null disables spooling: batches Kinesis cannot take after retries are dropped and counted.</summary>
    public string? SpoolDir { get; init; }

    public int SpoolMaxMb { get; init; } = DefaultSpoolMaxMb;

    public TimeSpan DrainTimeout { get; init; } = DefaultDrainTimeout;

    public TimeSpan FlushInterval { get; init; } = DefaultFlushInterval;

    /// <summary>Longest a PutRecords call may take before Kinesis counts as down.</summary>
    public TimeSpan SendTimeout { get; init; } = DefaultSendTimeout;

    public int ReceiveBufferKb { get; init; } = DefaultReceiveBufferKb;

    /// <summary>PutRecords calls in flight at most; throttling lowers the live count (AIMD), never above this.</summary>
    public int MaxInFlight { get; init; } = DefaultMaxInFlight;

    public SdkSamplingMode SdkSampling { get; init; } = SdkSamplingMode.All;

    /// <summary>0 = no cap (every request recorded); otherwise a per-node ceiling shared by the SDK clients.</summary>
    public int SdkMaxPerSecond { get; init; } = DefaultSdkMaxPerSecond;

    public bool AllowNonLoopback { get; init; }

    /// <summary>The OTLP receivers (OTLP/HTTP on 127.0.0.1:4318 by default; an endpoint of null is "off").</summary>
    public OtlpReceiverOptions Otlp { get; init; } = OtlpReceiverOptions.Default;

    public long BufferMemoryBytes => (long)BufferMemoryMb * 1024 * 1024;

    public long SpoolMaxBytes => (long)SpoolMaxMb * 1024 * 1024;
}
