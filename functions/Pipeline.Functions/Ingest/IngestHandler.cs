using System.Text.Json;
using Pipeline.Aws.DynamoDb;
using Pipeline.Aws.Storage;
using Pipeline.Aws.XRay;
using Pipeline.Core.Sampling;
using Pipeline.Functions.Events;
using Pipeline.Functions.Hosting;
using Pipeline.Lambda;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Functions.Ingest;

/// <summary>
/// The <c>ingest</c> function: Kinesis event → one <see cref="IngestPipeline"/> run per shard batch
/// (decode → validate/redact → archive ‖ decide → forward/park ‖ remember → account) →
/// <c>batchItemFailures</c>. Why the archive holds every valid segment exactly once whatever
/// Lambda retries: README.md next to this file, "The archive holds each valid segment exactly once".
/// </summary>
public sealed class IngestHandler : ILambdaHandler
{
    private readonly IngestPipeline _pipeline;

    /// <summary>The test (and local-mode) constructor: every dependency behind the project's interfaces (<paramref name="xrayOtlp"/> only for XRAY_FORWARD=otlp).</summary>
    public IngestHandler(
        IngestOptions options,
        IObjectStore store,
        IXRayClient xray,
        ITraceDecisionStore decisions,
        TimeProvider timeProvider,
        IMetricsSink metrics,
        IXRayOtlpClient? xrayOtlp = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(xray);
        ArgumentNullException.ThrowIfNull(decisions);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(metrics);
        if (options.XRayForward == XRayForwardMode.Otlp && xrayOtlp is null)
        {
            throw new ArgumentException("XRAY_FORWARD=otlp needs X-Ray's OTLP client.", nameof(xrayOtlp));
        }

        _pipeline = new IngestPipeline(options, store, xray, decisions, timeProvider, metrics, xrayOtlp);
    }

    /// <summary>The production factory: options and AWS clients from the environment; a bad value fails init.</summary>
    public static ILambdaHandler Create(HandlerInitContext init)
    {
        ArgumentNullException.ThrowIfNull(init);
        var options = IngestOptions.FromEnvironment(init.Environment);
        var clients = init.CreateAwsClients();
        var decisions = new DynamoDbTraceDecisionStore(new DynamoDbDecisionTable(clients.DynamoDb, options.DecisionTable!, init.TimeProvider), init.TimeProvider);
        return new IngestHandler(options, clients.ObjectStore, clients.XRay, decisions, init.TimeProvider, new StreamMetricsSink(Console.OpenStandardOutput()), clients.XRayOtlp);
    }

    public async Task<Stream> HandleAsync(Stream input, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        var kinesisEvent = await JsonSerializer.DeserializeAsync(input, EventsJsonContext.Default.KinesisEvent, context.CancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException("The event is not a Kinesis event (null).");
        var response = await ProcessAsync(kinesisEvent, context).ConfigureAwait(false);
        var output = new MemoryStream();
        await JsonSerializer.SerializeAsync(output, response, EventsJsonContext.Default.KinesisBatchResponse, context.CancellationToken).ConfigureAwait(false);
        output.Position = 0;
        return output;
    }

    /// <summary>
    /// Processes an event. An event-source mapping batch comes from one shard; records of several
    /// shards (local mode) are processed per shard, each under its own key.
    /// </summary>
    public async Task<KinesisBatchResponse> ProcessAsync(KinesisEvent kinesisEvent, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(kinesisEvent);
        ArgumentNullException.ThrowIfNull(context);
        var failures = new List<BatchItemFailure>();
        foreach (var shard in kinesisEvent.Records.GroupBy(r => r.ShardId, StringComparer.Ordinal))
        {
            var metrics = await _pipeline.RunAsync([.. shard], context).ConfigureAwait(false);
            if (metrics.RetryFrom is { } sequence)
            {
                failures.Add(new BatchItemFailure(sequence));
            }
        }

        return failures.Count == 0 ? KinesisBatchResponse.Success : new KinesisBatchResponse { BatchItemFailures = failures };
    }
}
