using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Pipeline.Aws.Athena;

namespace Pipeline.Cli.Query;

/// <summary>
/// What <c>pipeline query</c> needs from its composition root: clock, environment, working
/// directory, and how to build the S3 and Athena clients. Tests build one with fakes or a moto
/// endpoint; Program.cs builds the real one.
/// </summary>
internal sealed class QueryCommandContext
{
    /// <summary>Where local mode keeps its state (stack.json) and, by default, an archive mirror.</summary>
    public const string StateDir = ".pipeline";

    /// <summary>The archive directory <c>--data-dir</c> defaults to, relative to the working directory.</summary>
    public static readonly string DefaultDataDir = Path.Combine(StateDir, "archive");

    public const string EndpointVariable = "AWS_ENDPOINT_URL";
    public const string S3EndpointVariable = "AWS_ENDPOINT_URL_S3";
    public const string AthenaEndpointVariable = "AWS_ENDPOINT_URL_ATHENA";
    public const string RegionVariable = "AWS_REGION";
    public const string DefaultRegionVariable = "AWS_DEFAULT_REGION";
    public const string AccessKeyVariable = "AWS_ACCESS_KEY_ID";
    public const string SecretKeyVariable = "AWS_SECRET_ACCESS_KEY";
    public const string DefaultRegion = "us-east-1";

    /// <summary>moto ignores signatures; any well-formed key routes the request.</summary>
    private const string LocalCredential = "testing";

    private readonly Func<string, string?> _environment;
    private readonly Func<QueryCommandContext.AwsSettings, IAthenaClient> _athenaFactory;

    public QueryCommandContext(
        TimeProvider time,
        Func<string, string?> environment,
        string workingDirectory,
        bool outputIsTerminal,
        Func<QueryCommandContext.AwsSettings, IAthenaClient> athenaFactory)
    {
        Time = time;
        _environment = environment;
        WorkingDirectory = workingDirectory;
        OutputIsTerminal = outputIsTerminal;
        _athenaFactory = athenaFactory;
    }

    public TimeProvider Time { get; }

    public string WorkingDirectory { get; }

    public bool OutputIsTerminal { get; }

    /// <summary>Polling interval for Athena (tests shorten it; null: the runner's default).</summary>
    public TimeSpan? AthenaPollInterval { get; init; }

    /// <summary>
    /// Endpoint, region, credentials and archive bucket: flags first, then the environment,
    /// then <c>.pipeline/stack.json</c> written by <c>pipeline up</c> (keys read: "endpoint",
    /// "region", and "archiveBucket" or "buckets": {"archive": ...}).
    /// </summary>
    public AwsSettings ResolveAws(string? endpointFlag, string? regionFlag)
    {
        var stack = ReadStack();
        var endpoint = endpointFlag ?? _environment(EndpointVariable) ?? stack.Endpoint;
        var region = regionFlag ?? _environment(RegionVariable) ?? _environment(DefaultRegionVariable) ?? stack.Region ?? DefaultRegion;
        var accessKey = _environment(AccessKeyVariable);
        var secretKey = _environment(SecretKeyVariable);
        return new AwsSettings(
            _environment(S3EndpointVariable) ?? endpoint,
            _environment(AthenaEndpointVariable) ?? endpoint,
            region,
            accessKey,
            secretKey,
            stack.ArchiveBucket);
    }

    public static IAmazonS3 CreateS3(AwsSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var config = new AmazonS3Config { RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(settings.Region) };
        if (settings.S3Endpoint is { } url)
        {
            config.ServiceURL = url;
            config.ForcePathStyle = true; // moto: bucket.localhost does not resolve
            config.AuthenticationRegion = settings.Region;
        }

        var credentials = settings.Credentials();
        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    public IAthenaClient CreateAthena(AwsSettings settings) => _athenaFactory(settings);

    private StackFile ReadStack()
    {
        var path = Path.Combine(WorkingDirectory, StateDir, "stack.json");
        if (!File.Exists(path))
        {
            return new StackFile(null, null, null);
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var bucket = String(root, "archiveBucket")
            ?? (root.TryGetProperty("buckets", out var buckets) && buckets.ValueKind == JsonValueKind.Object ? String(buckets, "archive") : null);
        return new StackFile(String(root, "endpoint"), String(root, "region"), bucket);
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private sealed record StackFile(string? Endpoint, string? Region, string? ArchiveBucket);

    internal sealed record AwsSettings(string? S3Endpoint, string? AthenaEndpoint, string Region, string? AccessKey, string? SecretKey, string? ArchiveBucket)
    {
        /// <summary>Explicit keys from the environment; for a custom endpoint (moto) without keys,
        /// placeholder keys; otherwise null, meaning the SDK's default chain.</summary>
        public AWSCredentials? Credentials() =>
            AccessKey is not null && SecretKey is not null ? new BasicAWSCredentials(AccessKey, SecretKey)
            : S3Endpoint is not null || AthenaEndpoint is not null ? new BasicAWSCredentials(LocalCredential, LocalCredential)
            : null;
    }
}
