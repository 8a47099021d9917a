using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.LocalAws.Stack;

/// <summary>
/// <c>.pipeline/stack.json</c>: what <c>pipeline up</c> is running, for the other commands
/// (status, send, report, down, query) and for people. Written once the stack is ready, removed
/// when <c>up</c> exits cleanly (so <c>pipeline query</c> then reads the on-disk archive).
/// </summary>
public sealed record StackFile
{
    public required string Endpoint { get; init; }

    public required string Region { get; init; }

    public required string Stream { get; init; }

    public required string StreamArn { get; init; }

    public required StackBuckets Buckets { get; init; }

    public required string Table { get; init; }

    public required string SesIdentity { get; init; }

    public required StackRelay Relay { get; init; }

    /// <summary>The relay's Prometheus endpoint, e.g. http://127.0.0.1:41234/metrics.</summary>
    public required string MetricsUrl { get; init; }

    public required StackPids Pids { get; init; }

    /// <summary>The archive mirror on disk (<c>--data-dir</c>), or null.</summary>
    public string? DataDir { get; init; }

    public required string LogDir { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public bool Demo { get; init; }

    public static StackFile? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), StackJsonContext.Default.StackFile);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Writes through a temporary file and a rename so readers never see half a file.</summary>
    public void Write(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(this, StackJsonContext.Default.StackFile));
        File.Move(temp, path, overwrite: true);
    }
}

public sealed record StackBuckets(string Archive, string? Demo);

/// <param name="Udp">Where SDKs send segments (host:port).</param>
/// <param name="Tcp">The SDKs' sampling endpoint (host:port).</param>
/// <param name="DaemonAddress">The AWS_XRAY_DAEMON_ADDRESS value for an SDK.</param>
/// <param name="OtlpHttp">The OTLP/HTTP receiver (host:port), or null when off.</param>
/// <param name="OtlpEndpoint">The OTEL_EXPORTER_OTLP_ENDPOINT value for an OpenTelemetry SDK (http://host:port), or null.</param>
/// <param name="OtlpGrpc">The OTLP/gRPC receiver (host:port), or null when off (or a stack.json from before it).</param>
public sealed record StackRelay(string Udp, string Tcp, string DaemonAddress, string? OtlpHttp = null, string? OtlpEndpoint = null, string? OtlpGrpc = null)
{
    /// <summary>The OTEL_EXPORTER_OTLP_ENDPOINT value for an SDK exporting over gRPC to <paramref name="otlpGrpc"/> (host:port).</summary>
    public static string? GrpcEndpointOf(string? otlpGrpc) => otlpGrpc is null ? null : $"http://{otlpGrpc}";

    /// <summary>The OTEL_EXPORTER_OTLP_ENDPOINT value for an OTLP/HTTP receiver.</summary>
    public static string? OtlpEndpointOf(System.Net.IPEndPoint? otlpHttp) => otlpHttp is null ? null : $"http://{otlpHttp}";
}

/// <summary>Process ids: <c>Up</c> is the <c>pipeline up</c> process that <c>down</c> signals.</summary>
public sealed record StackPids
{
    public required int Up { get; init; }

    public required int Moto { get; init; }

    public required int Relay { get; init; }

    /// <summary>Demo processes (service-a, service-b, traffic) by name.</summary>
    public IReadOnlyDictionary<string, int> Demo { get; init; } = new Dictionary<string, int>();

    [JsonIgnore]
    public IEnumerable<int> All => [Up, Moto, Relay, .. Demo.Values];
}

/// <summary>Counters <c>pipeline up</c> refreshes in <c>.pipeline/counters.json</c> for <c>pipeline status</c>.</summary>
public sealed record CounterFile(DateTimeOffset UpdatedAt, IReadOnlyDictionary<string, long> Counters, IReadOnlyList<string> GraphEdges);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StackFile))]
[JsonSerializable(typeof(CounterFile))]
public sealed partial class StackJsonContext : JsonSerializerContext;
