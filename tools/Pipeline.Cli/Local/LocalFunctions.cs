using Microsoft.Extensions.Logging;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.DynamoDb;
using Pipeline.Functions.Configuration;
using Pipeline.Functions.CostReport;
using Pipeline.Functions.Hosting;
using Pipeline.Functions.Ingest;
using Pipeline.Functions.ServiceGraph;
using Pipeline.Lambda;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Cli.Local;

/// <summary>
/// The functions local mode runs in-process, built the way the bootstrap builds them (by name,
/// from a <see cref="HandlerRegistry"/>, with a <see cref="HandlerInitContext"/>) but with the
/// environment template.yaml would give them, pointed at moto: each function gets its own
/// <see cref="DictionaryEnvironment"/>, never the CLI's process environment.
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
        _registry.CreateAsync(name, new HandlerInitContext(new DictionaryEnvironment(_environment), _time, _http, _logger), cancellationToken);

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

    /// <summary>
    /// The functions this CLI can run locally, registered under their _HANDLER names. The ingest
    /// is built with its public constructor, as its production factory does, except that its EMF
    /// lines go to <paramref name="metrics"/> (the live summary) instead of stdout.
    /// </summary>
    public static HandlerRegistry Catalog(MetricTotals? metrics = null) => new HandlerRegistry()
        .Add(FunctionContract.IngestHandler, init => CreateIngest(init, metrics ?? new MetricTotals()))
        .Add(FunctionContract.ServiceGraphHandler, init => ServiceGraphHandler.Create(init))
        .Add(FunctionContract.CostReportHandler, CostReportHandler.CreateAsync);

    private static IngestHandler CreateIngest(HandlerInitContext init, MetricTotals metrics)
    {
        var options = IngestOptions.FromEnvironment(init.Environment);
        // Lives as long as the handler, which lives as long as the stack.
        var aws = init.CreateAwsClients();

        var decisions = new DynamoDbTraceDecisionStore(new DynamoDbDecisionTable(aws.DynamoDb, options.DecisionTable!, init.TimeProvider), init.TimeProvider);
        return new IngestHandler(options, aws.ObjectStore, aws.XRay, decisions, init.TimeProvider, metrics);
    }
}
