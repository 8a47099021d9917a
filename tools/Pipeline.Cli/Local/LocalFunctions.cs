using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Pipeline.Aws.Configuration;
using Pipeline.Functions.Configuration;
using Pipeline.Functions.CostReport;
using Pipeline.Functions.Hosting;
using Pipeline.Lambda;

namespace Pipeline.Cli.Local;

/// <summary>
/// The functions local mode runs in-process, built the way the bootstrap builds them (by name,
/// from a <see cref="HandlerRegistry"/>, with a <see cref="HandlerInitContext"/>) but with the
/// environment template.yaml would give them, pointed at moto.
/// </summary>
internal sealed class LocalFunctions
{
    private readonly HandlerRegistry _registry;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly ILogger _logger;

    public LocalFunctions(HandlerRegistry registry, IReadOnlyDictionary<string, string> environment, TimeProvider time, HttpClient http, ILogger logger)
    {
        _registry = registry;
        _environment = environment;
        _time = time;
        _http = http;
        _logger = logger;
    }

    public bool Has(string name) => _registry.Names.Contains(name, StringComparer.Ordinal);

    public ValueTask<ILambdaHandler> CreateAsync(string name, CancellationToken cancellationToken) =>
        _registry.CreateAsync(name, new HandlerInitContext(new LocalEnvironmentVariables(_environment), _time, _http, _logger), cancellationToken);

    /// <summary>Every function's variables for a stack on <paramref name="endpoint"/> (FunctionContract names).</summary>
    public static Dictionary<string, string> Environment(Uri endpoint, string region) => new(StringComparer.Ordinal)
    {
        [AwsSettings.EndpointUrlVariable] = endpoint.ToString().TrimEnd('/'),
        [AwsSettings.RegionVariable] = region,
        [AwsSettings.AccessKeyIdVariable] = StackNames.FakeCredential,
        [AwsSettings.SecretAccessKeyVariable] = StackNames.FakeCredential,
        [LambdaEnvironmentVariables.LogLevel] = "INFO",
        [EnvironmentNames.ArchiveBucket] = StackNames.ArchiveBucket,
        [EnvironmentNames.DecisionTable] = StackNames.DecisionTable,
        [EnvironmentNames.XRayForward] = "true",
        [EnvironmentNames.ReportSender] = StackNames.ReportSender,
        [EnvironmentNames.ReportRecipients] = StackNames.ReportRecipient,
        [EnvironmentNames.GraphEngine] = "stream",
    };

    /// <summary>The functions this CLI can run locally, registered under their _HANDLER names.</summary>
    public static HandlerRegistry Catalog() => new HandlerRegistry()
        .Add(FunctionContract.CostReportHandler, CostReportHandler.CreateAsync);
}

/// <summary>A function's own environment (the local stand-in for the sandbox's), never the CLI's process environment.</summary>
internal sealed class LocalEnvironmentVariables(IReadOnlyDictionary<string, string> initial) : IEnvironmentVariables
{
    private readonly ConcurrentDictionary<string, string> _variables = new(initial, StringComparer.Ordinal);

    public string? GetEnvironmentVariable(string name) => _variables.TryGetValue(name, out var value) ? value : null;

    public void SetEnvironmentVariable(string name, string? value)
    {
        if (value is null)
        {
            _variables.TryRemove(name, out _);
        }
        else
        {
            _variables[name] = value;
        }
    }
}
