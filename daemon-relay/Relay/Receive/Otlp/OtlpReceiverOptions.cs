using System.Net;
using Pipeline.Core.Otlp;

namespace Relay.Receive.Otlp;

/// <summary>
/// The OTLP receivers' settings (flags and cfg.yaml keys in daemon-relay/Relay/cfg.yaml). Endpoints
/// default to the OpenTelemetry Collector's OTLP receiver ports on loopback; null is "off".
/// </summary>
public sealed record OtlpReceiverOptions
{
    /// <summary>OTLP/HTTP default port. Source: OTLP specification ("OTLP/HTTP ... default port 4318").</summary>
    public const int DefaultHttpPort = 4318;

    /// <summary>OTLP/gRPC default port. Source: OTLP specification ("OTLP/gRPC ... default port 4317").</summary>
    public const int DefaultGrpcPort = 4317;

    public static OtlpReceiverOptions Default { get; } = new();

    /// <summary>Both receivers off (embedded relays that only take UDP, benches).</summary>
    public static OtlpReceiverOptions Off { get; } = new() { HttpEndpoint = null, GrpcEndpoint = null };

    public IPEndPoint? HttpEndpoint { get; init; } = new(IPAddress.Loopback, DefaultHttpPort);

    public IPEndPoint? GrpcEndpoint { get; init; } = new(IPAddress.Loopback, DefaultGrpcPort);

    /// <summary>Largest request body read off the wire (compressed): gRPC's default message limit, 4 MiB.</summary>
    public int MaxBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Largest body after gzip, so a small compressed bomb cannot cost more.</summary>
    public int MaxDecompressedBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>The delay a full buffer asks SDKs to wait (Retry-After, gRPC RetryInfo).</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);

    public OtlpLimits Limits { get; init; } = OtlpLimits.Default;
}
