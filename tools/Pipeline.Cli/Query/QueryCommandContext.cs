using System.Text.Json;
using Pipeline.Aws;
using Pipeline.Aws.Athena;
using Pipeline.Aws.CloudFormation;
using Pipeline.Aws.Configuration;
using Pipeline.Cli.Local;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Cli.Query;

/// <summary>
/// What <c>pipeline query</c> needs from its composition root: clock, environment seam, the
/// one pooled HttpClient, working directory, and how to build the Athena client. Tests build
/// one with fakes or a moto endpoint; Program.cs builds the real one.
/// </summary>
internal sealed class QueryCommandContext
{
    /// <summary>moto ignores signatures but needs a well-formed key to route the request.</summary>
    private const string PlaceholderCredential = "testing";

    private readonly IEnvironment _environment;
    private readonly HttpClient _http;

    public QueryCommandContext(TimeProvider time, IEnvironment environment, HttpClient http, string workingDirectory, bool outputIsTerminal)
    {
        Time = time;
        _environment = environment;
        _http = http;
        WorkingDirectory = workingDirectory;
        OutputIsTerminal = outputIsTerminal;
        AthenaFactory = settings => AthenaClientFactory.Create(settings, _http, Time);
        CloudFormationFactory = settings => CloudFormationClientFactory.Create(settings, _http, Time);
    }

    public TimeProvider Time { get; }

    public string WorkingDirectory { get; }

    public bool OutputIsTerminal { get; }

    /// <summary>Builds the Athena client for <c>--target athena</c> (tests substitute a fake).</summary>
    public Func<AwsSettings, IAthenaClient> AthenaFactory { get; init; }

    /// <summary>Builds the CloudFormation client that finds the deployed stack's outputs (tests substitute a fake).</summary>
    public Func<AwsSettings, ICloudFormationClient> CloudFormationFactory { get; init; }

    /// <summary>Polling interval for Athena (tests shorten it; null: the runner's default).</summary>
    public TimeSpan? AthenaPollInterval { get; init; }

    /// <summary>The state directory for <c>--state-dir</c> (<see cref="StatePaths.Resolve"/>, as every command).</summary>
    public StatePaths Paths(string? stateDirFlag) => StatePaths.Resolve(stateDirFlag, _environment, WorkingDirectory, WorkingDirectory);

    /// <summary>
    /// The shared AWS settings from the environment, overridden by the flags, then completed
    /// from the state directory's <c>stack.json</c> written by <c>pipeline up</c> (its endpoint, region
    /// and archive bucket, read through <see cref="StackFile"/>). Against a custom endpoint
    /// without a key pair, placeholder keys are used (moto does not check them).
    /// </summary>
    public (AwsSettings Settings, string? ArchiveBucket) ResolveAws(StatePaths paths, string? endpointFlag, string? regionFlag)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var stack = StackFile.TryRead(paths.StackFile);
        var settings = AwsSettings.FromEnvironment(_environment);
        var endpoint = endpointFlag ?? stack?.Endpoint;
        if (endpointFlag is not null || (settings.EndpointUrl is null && endpoint is not null))
        {
            settings = settings with { EndpointUrl = new Uri(endpoint!) };
        }

        if (regionFlag is not null)
        {
            settings = settings with { Region = regionFlag };
        }
        else if (stack?.Region is not null && _environment.GetVariable(AwsSettings.RegionVariable) is null && _environment.GetVariable(AwsSettings.DefaultRegionVariable) is null)
        {
            settings = settings with { Region = stack.Region };
        }

        if (settings.AccessKeyId is null && (settings.EndpointUrl is not null || settings.ServiceEndpointUrls.Count > 0))
        {
            settings = settings with { AccessKeyId = PlaceholderCredential, SecretAccessKey = PlaceholderCredential };
        }

        return (settings, stack?.Buckets.Archive);
    }

    /// <summary>The shared AWS clients (S3 path-style against a custom endpoint) on the one HttpClient.</summary>
    public AwsClients CreateAwsClients(AwsSettings settings) => AwsClients.Create(settings, _http, Time);
}
