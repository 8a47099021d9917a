using System.Globalization;
using System.Net;
using System.Text;
using Pipeline.Runtime.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Relay.Config;

/// <summary>What the command line asked for: run with options, or print help or the version.</summary>
public sealed record ParsedCommandLine(RelayOptions? Options, bool ShowHelp, bool ShowVersion, IReadOnlyList<string> Warnings);

/// <summary>
/// Binds <see cref="RelayOptions"/> from defaults, the YAML config (<c>-c</c>), the environment
/// and flags, later sources winning. Hand-written rather than System.CommandLine to keep the
/// node binary small and free of reflection; every error is an <see cref="OptionsException"/>.
/// </summary>
public static class OptionsParser
{
    private sealed record Flag(string? Short, string Long, bool TakesValue, string Help);

    private static readonly Flag[] Flags =
    [
        new("-b", "--bind", true, "UDP listen address, host:port or 'udp:h:p tcp:h:p' (default 127.0.0.1:2000)"),
        new("-t", "--bind-tcp", true, "TCP address of the SDK sampling endpoint (default 127.0.0.1:2000)"),
        new("-m", "--buffer-memory", true, "buffer size in MB; when full, new segments are dropped and counted (default 16)"),
        new("-n", "--region", true, "AWS region (default AWS_REGION, then AWS_DEFAULT_REGION, then EC2 instance metadata)"),
        new("-e", "--endpoint", true, "Kinesis endpoint URL (for example a local moto_server)"),
        new("-c", "--config", true, "YAML config file (the daemon's cfg.yaml keys plus the relay's)"),
        new("-l", "--log-level", true, "dev, debug, info, warn, error or prod (default prod = info)"),
        new("-o", "--local-mode", false, "do not ask EC2 instance metadata (IMDSv2) for the region or the instance role's credentials"),
        new("-r", "--role-arn", true, "assume this IAM role through STS (cross-account streams), renewed before it expires"),
        new("-v", "--version", false, "print the version and exit"),
        new("-h", "--help", false, "print this help and exit"),
        new(null, "--stream", true, "Kinesis stream name (or RELAY_STREAM)"),
        new(null, "--aggregate", false, "pack segments into KPL aggregated records"),
        new(null, "--spool-dir", true, "directory for batches Kinesis could not take (default: no spool)"),
        new(null, "--spool-max-mb", true, "spool size cap in MB; when full, batches are dropped and counted (default 256)"),
        new(null, "--max-in-flight", true, "PutRecords calls in flight at most; throttling lowers it, clean calls raise it back (default 8)"),
        new(null, "--send-timeout", true, "a PutRecords call that takes longer marks Kinesis down (spool or hold), e.g. 5s (default 5s)"),
        new(null, "--receive-buffer-kb", true, "UDP socket receive buffer (SO_RCVBUF) in KiB, capped by net.core.rmem_max (default 4096)"),
        new(null, "--drain-timeout", true, "time to flush on SIGTERM before spooling the rest, e.g. 5s (default 5s)"),
        new(null, "--metrics", true, "address of /healthz and /metrics, or 'off' (default 127.0.0.1:2112)"),
        new(null, "--sdk-sampling", true, "all (record every request) or proxy (forward to X-Ray) (default all)"),
        new(null, "--sdk-max-per-second", true, "per-node cap on recorded requests for the SDKs, 0 = none (default 0)"),
        new(null, "--otlp-http", true, "OTLP/HTTP receiver address (POST /v1/traces), or 'off' (default 127.0.0.1:4318)"),
        new(null, "--otlp-grpc", true, "OTLP/gRPC receiver address (TraceService/Export, h2c), or 'off' (default 127.0.0.1:4317)"),
        new(null, "--allow-non-loopback", false, "allow binding addresses other than loopback (the DaemonSet sets it)"),
    ];

    private static readonly string[] IgnoredDaemonKeys = ["Concurrency", "ResourceARN", "NoVerifySSL", "ProxyAddress", "Logging.LogRotation", "Logging.LogPath"];

    public static string HelpText
    {
        get
        {
            var text = new StringBuilder("Usage: xray-relay [options]\n\nReceives X-Ray SDK segments on UDP and OpenTelemetry spans over OTLP and forwards them to a Kinesis stream.\n\nOptions:\n");
            foreach (var flag in Flags)
            {
                var name = flag.Short is null ? $"    {flag.Long}" : $"{flag.Short}, {flag.Long}";
                if (flag.TakesValue)
                {
                    name += " VALUE";
                }

                text.Append(CultureInfo.InvariantCulture, $"  {name,-28} {flag.Help}\n");
            }

            text.Append("\nExit codes: 0 after a clean stop (SIGTERM/Ctrl-C), 2 for bad flags or config, 1 for a failure at start.\n");
            return text.ToString();
        }
    }

    public static ParsedCommandLine Parse(IReadOnlyList<string> args, IEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var given = ReadFlags(args);
        if (given.ContainsKey("--help"))
        {
            return new ParsedCommandLine(null, ShowHelp: true, ShowVersion: false, []);
        }

        if (given.ContainsKey("--version"))
        {
            return new ParsedCommandLine(null, ShowHelp: false, ShowVersion: true, []);
        }

        var warnings = new List<string>();
        var options = new RelayOptions();
        if (given.TryGetValue("--config", out var configPath))
        {
            options = ApplyConfigFile(options, configPath!, warnings) with { ConfigPath = configPath };
        }

        options = ApplyEnvironment(options, environment);
        options = ApplyFlags(options, given);
        Validate(options);

        return new ParsedCommandLine(options, ShowHelp: false, ShowVersion: false, warnings);
    }

    private static Dictionary<string, string?> ReadFlags(IReadOnlyList<string> args)
    {
        var given = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inline = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                inline = arg[(equals + 1)..];
                arg = arg[..equals];
            }

            var flag = Array.Find(Flags, f => f.Long == arg || f.Short == arg)
                ?? throw new OptionsException($"unknown option '{args[i]}' (see --help)");
            if (!flag.TakesValue)
            {
                if (inline is not null)
                {
                    throw new OptionsException($"option {flag.Long} takes no value");
                }

                given[flag.Long] = null;
                continue;
            }

            var value = inline;
            if (value is null)
            {
                if (i + 1 >= args.Count || (args[i + 1].StartsWith('-') && args[i + 1].Length > 1 && !char.IsDigit(args[i + 1][1])))
                {
                    throw new OptionsException($"option {flag.Long} needs a value");
                }

                value = args[++i];
            }

            given[flag.Long] = value;
        }

        return given;
    }

    private static RelayOptions ApplyEnvironment(RelayOptions options, IEnvironment environment)
    {
        if (environment.GetVariable(RelayEnvironmentVariables.DaemonAddress) is { Length: > 0 } address)
        {
            var (udp, tcp) = AddressParser.ParseDaemonAddress(address, RelayEnvironmentVariables.DaemonAddress);
            options = options with { UdpEndpoint = udp, TcpEndpoint = tcp };
        }

        if (environment.GetVariable(RelayEnvironmentVariables.Stream) is { Length: > 0 } stream)
        {
            options = options with { Stream = stream };
        }

        if (options.Region.Length == 0)
        {
            var region = environment.GetVariable(RelayEnvironmentVariables.Region) ?? environment.GetVariable(RelayEnvironmentVariables.DefaultRegion);
            if (region is { Length: > 0 })
            {
                options = options with { Region = region };
            }
        }

        return options;
    }

    private static RelayOptions ApplyFlags(RelayOptions options, Dictionary<string, string?> given)
    {
        foreach (var (name, value) in given)
        {
            options = name switch
            {
                "--bind" => BindBoth(options, value!, "--bind"),
                "--bind-tcp" => options with { TcpEndpoint = AddressParser.ParseEndpoint(value!, "--bind-tcp") },
                "--buffer-memory" => options with { BufferMemoryMb = ParseInt(value!, "--buffer-memory") },
                "--region" => options with { Region = value! },
                "--endpoint" => options with { Endpoint = ParseUri(value!, "--endpoint") },
                "--config" => options,
                "--log-level" => options with { LogLevel = ParseLogLevel(value!, "--log-level") },
                "--local-mode" => options with { LocalMode = true },
                "--role-arn" => options with { RoleArn = value },
                "--stream" => options with { Stream = value! },
                "--aggregate" => options with { Aggregate = true },
                "--spool-dir" => options with { SpoolDir = value!.Length == 0 ? null : value },
                "--spool-max-mb" => options with { SpoolMaxMb = ParseInt(value!, "--spool-max-mb") },
                "--drain-timeout" => options with { DrainTimeout = ParseDuration(value!, "--drain-timeout") },
                "--send-timeout" => options with { SendTimeout = ParseDuration(value!, "--send-timeout") },
                "--max-in-flight" => options with { MaxInFlight = ParseInt(value!, "--max-in-flight") },
                "--receive-buffer-kb" => options with { ReceiveBufferKb = ParseInt(value!, "--receive-buffer-kb") },
                "--metrics" => options with { MetricsEndpoint = ParseOptionalEndpoint(value!, "--metrics") },
                "--sdk-sampling" => options with { SdkSampling = ParseSampling(value!, "--sdk-sampling") },
                "--sdk-max-per-second" => options with { SdkMaxPerSecond = ParseInt(value!, "--sdk-max-per-second") },
                "--allow-non-loopback" => options with { AllowNonLoopback = true },
                "--otlp-http" => options with { Otlp = options.Otlp with { HttpEndpoint = ParseOptionalEndpoint(value!, "--otlp-http") } },
                "--otlp-grpc" => options with { Otlp = options.Otlp with { GrpcEndpoint = ParseOptionalEndpoint(value!, "--otlp-grpc") } },
                _ => throw new OptionsException($"unhandled option {name}"),
            };
        }

        return options;
    }

    private static RelayOptions BindBoth(RelayOptions options, string value, string what)
    {
        // -b takes the SDK form too; a plain host:port sets only UDP, as the daemon's -b does.
        if (value.Contains(' ', StringComparison.Ordinal) || value.StartsWith("udp:", StringComparison.OrdinalIgnoreCase) || value.StartsWith("tcp:", StringComparison.OrdinalIgnoreCase))
        {
            var (udp, tcp) = AddressParser.ParseDaemonAddress(value, what);
            return options with { UdpEndpoint = udp, TcpEndpoint = tcp };
        }

        return options with { UdpEndpoint = AddressParser.ParseEndpoint(value, what) };
    }

    private static RelayOptions ApplyConfigFile(RelayOptions options, string path, List<string> warnings)
    {
        string text;
        try
        {
            text = ReadBounded(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new OptionsException($"config {path}: cannot read ({e.Message})", e);
        }

        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new OptionsException($"config {path}: not valid YAML at line {e.Start.Line.ToString(CultureInfo.InvariantCulture)}: {e.Message}", e);
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return options;
        }

        if (yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new OptionsException($"config {path}: the top level must be a mapping of keys");
        }

        foreach (var (key, value) in Flatten(root, prefix: "", path))
        {
            var where = $"config {path}: {key}";
            if (IgnoredDaemonKeys.Contains(key, StringComparer.Ordinal))
            {
                warnings.Add($"config key {key} is a daemon setting that does not apply to the relay; ignored");
                continue;
            }

            options = key switch
            {
                "TotalBufferSizeMB" => ParseInt(value, where) is var mb && mb == 0 ? options : options with { BufferMemoryMb = mb },
                "Region" => value.Length == 0 ? options : options with { Region = value },
                "Endpoint" => value.Length == 0 ? options : options with { Endpoint = ParseUri(value, where) },
                "Socket.UDPAddress" => options with { UdpEndpoint = AddressParser.ParseEndpoint(value, where) },
                "Socket.TCPAddress" => options with { TcpEndpoint = AddressParser.ParseEndpoint(value, where) },
                "Logging.LogLevel" => options with { LogLevel = ParseLogLevel(value, where) },
                "LocalMode" => options with { LocalMode = ParseBool(value, where) },
                "RoleARN" => options with { RoleArn = value.Length == 0 ? null : value },
                "Version" => value is "1" or "2" ? options : throw new OptionsException($"{where}: only versions 1 and 2 are understood"),
                "Stream" => options with { Stream = value },
                "Aggregate" => options with { Aggregate = ParseBool(value, where) },
                "SpoolDir" => options with { SpoolDir = value.Length == 0 ? null : value },
                "SpoolMaxMB" => options with { SpoolMaxMb = ParseInt(value, where) },
                "DrainTimeout" => options with { DrainTimeout = ParseDuration(value, where) },
                "FlushInterval" => options with { FlushInterval = ParseDuration(value, where) },
                "SendTimeout" => options with { SendTimeout = ParseDuration(value, where) },
                "MaxInFlight" => options with { MaxInFlight = ParseInt(value, where) },
                "Socket.ReceiveBufferKB" => options with { ReceiveBufferKb = ParseInt(value, where) },
                "MetricsAddress" => options with { MetricsEndpoint = ParseOptionalEndpoint(value, where) },
                "SdkSampling" => options with { SdkSampling = ParseSampling(value, where) },
                "SdkMaxPerSecond" => options with { SdkMaxPerSecond = ParseInt(value, where) },
                "AllowNonLoopback" => options with { AllowNonLoopback = ParseBool(value, where) },
                "Otlp.HTTPAddress" => options with { Otlp = options.Otlp with { HttpEndpoint = ParseOptionalEndpoint(value, where) } },
                "Otlp.GRPCAddress" => options with { Otlp = options.Otlp with { GrpcEndpoint = ParseOptionalEndpoint(value, where) } },
                _ => throw new OptionsException($"config {path}: unknown key '{key}'"),
            };
        }

        return options;
    }

    private static string ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var buffer = new byte[MaxConfigBytes + 1];
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = stream.Read(buffer, filled, buffer.Length - filled)) > 0)
        {
            filled += read;
        }

        if (filled > MaxConfigBytes)
        {
            throw new OptionsException($"config {path}: larger than {MaxConfigBytes / 1024} KiB; is it the right file?");
        }

        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(buffer, 0, filled);
        }
        catch (DecoderFallbackException e)
        {
            throw new OptionsException($"config {path}: not UTF-8 text", e);
        }
    }

    private static IEnumerable<(string Key, string Value)> Flatten(YamlMappingNode node, string prefix, string path)
    {
        foreach (var (keyNode, valueNode) in node.Children)
        {
            var key = prefix + ((keyNode as YamlScalarNode)?.Value ?? throw new OptionsException($"config {path}: keys must be plain names"));
            switch (valueNode)
            {
                case YamlMappingNode child when prefix.Length == 0 && key is "Socket" or "Logging" or "Otlp":
                    foreach (var item in Flatten(child, key + ".", path))
                    {
                        yield return item;
                    }

                    break;
                case YamlScalarNode scalar:
                    yield return (key, scalar.Value ?? "");
                    break;
                default:
                    throw new OptionsException($"config {path}: {key} must be a single value");
            }
        }
    }

    private static void Validate(RelayOptions options)
    {
        if (options.Stream.Length == 0)
        {
            throw new OptionsException("no stream: pass --stream NAME or set RELAY_STREAM");
        }

        if (options.Region.Length == 0 && options.LocalMode)
        {
            throw new OptionsException("no region: pass -n/--region or set AWS_REGION (local mode does not look it up in EC2 instance metadata)");
        }

        if (options.RoleArn is { Length: > 0 } roleArn && !IsRoleArn(roleArn))
        {
            throw new OptionsException($"--role-arn: '{roleArn}' is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)");
        }

        Require(options.BufferMemoryMb is >= 1 and <= 4096, "--buffer-memory must be between 1 and 4096 MB");
        Require(options.SpoolMaxMb is >= 1 and <= 1024 * 1024, "--spool-max-mb must be between 1 and 1048576 MB");
        Require(options.DrainTimeout >= TimeSpan.Zero && options.DrainTimeout <= TimeSpan.FromMinutes(5), "--drain-timeout must be between 0 and 5m");
        Require(options.SendTimeout >= TimeSpan.FromMilliseconds(100) && options.SendTimeout <= TimeSpan.FromMinutes(5), "--send-timeout must be between 100ms and 5m");
        Require(options.MaxInFlight is >= 1 and <= RelayOptions.MaxMaxInFlight, $"--max-in-flight must be between 1 and {RelayOptions.MaxMaxInFlight}");
        Require(options.ReceiveBufferKb is >= 64 and <= 1024 * 1024, "--receive-buffer-kb must be between 64 and 1048576");
        Require(options.FlushInterval > TimeSpan.Zero && options.FlushInterval <= TimeSpan.FromMinutes(1), "FlushInterval must be between 1ms and 1m");
        Require(options.SdkMaxPerSecond >= 0, "--sdk-max-per-second must be 0 (no cap) or more");
        if (!options.AllowNonLoopback)
        {
            RequireLoopback(options.UdpEndpoint, "--bind");
            RequireLoopback(options.TcpEndpoint, "--bind-tcp");
            if (options.MetricsEndpoint is { } metrics)
            {
                RequireLoopback(metrics, "--metrics");
            }

            if (options.Otlp.HttpEndpoint is { } otlpHttp)
            {
                RequireLoopback(otlpHttp, "--otlp-http");
            }

            if (options.Otlp.GrpcEndpoint is { } otlpGrpc)
            {
                RequireLoopback(otlpGrpc, "--otlp-grpc");
            }
        }
    }

    // arn:aws:iam::123456789012:role/path/name (aws, aws-cn, aws-us-gov, ... partitions).
    private static bool IsRoleArn(string arn)
    {
        var parts = arn.Split(':', 6);
        return parts.Length == 6 && parts[0] == "arn" && parts[1].StartsWith("aws", StringComparison.Ordinal) && parts[2] == "iam"
            && parts[3].Length == 0 && parts[4].Length == 12 && parts[4].All(char.IsAsciiDigit)
            && parts[5].StartsWith("role/", StringComparison.Ordinal) && parts[5].Length > "role/".Length;
    }

    private static void RequireLoopback(IPEndPoint endpoint, string what)
    {
        if (!IPAddress.IsLoopback(endpoint.Address))
        {
            throw new OptionsException($"{what} {endpoint} is not a loopback address: segments carry application data, so binding beyond the node needs --allow-non-loopback");
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new OptionsException(message);
        }
    }

    private static int ParseInt(string value, string what) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result)
            ? result
            : throw new OptionsException($"{what}: '{value}' is not a whole number");

    private static bool ParseBool(string value, string what) =>
        bool.TryParse(value, out var result) ? result : throw new OptionsException($"{what}: '{value}' is not true or false");

    private static Uri ParseUri(string value, string what) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new OptionsException($"{what}: '{value}' is not an http(s) URL");

    private static IPEndPoint? ParseOptionalEndpoint(string value, string what) =>
        string.Equals(value, "off", StringComparison.OrdinalIgnoreCase) ? null : AddressParser.ParseEndpoint(value, what);

    private static RelayLogLevel ParseLogLevel(string value, string what) =>
        value.ToLowerInvariant() switch
        {
            "dev" => RelayLogLevel.Dev,
            "debug" => RelayLogLevel.Debug,
            "info" => RelayLogLevel.Info,
            "warn" => RelayLogLevel.Warn,
            "error" => RelayLogLevel.Error,
            "prod" => RelayLogLevel.Prod,
            _ => throw new OptionsException($"{what}: '{value}' is not one of dev, debug, info, warn, error, prod"),
        };

    private static SdkSamplingMode ParseSampling(string value, string what) =>
        value.ToLowerInvariant() switch
        {
            "all" => SdkSamplingMode.All,
            "proxy" => SdkSamplingMode.Proxy,
            _ => throw new OptionsException($"{what}: '{value}' is not 'all' or 'proxy'"),
        };

    /// <summary>A cfg.yaml is a few KiB; reading stops here so that -c /dev/zero or a huge file is an error, not an OOM.</summary>
    public const int MaxConfigBytes = 1024 * 1024;

    /// <summary>
    /// A duration in the one grammar of every executable (<see cref="Durations"/>: 500ms, 5s, 1m; a
    /// bare number is an error). Each option's own range is checked after binding.
    /// </summary>
    internal static TimeSpan ParseDuration(string value, string what) =>
        Durations.TryParse(value, out var duration, out var error) ? duration : throw new OptionsException($"{what}: {error}");
}
