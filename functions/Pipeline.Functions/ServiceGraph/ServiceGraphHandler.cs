using System.Text;
using System.Text.Json;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Microsoft.Extensions.Logging;
using Pipeline.Aws.Storage;
using Pipeline.Core.Graph;
using Pipeline.Functions.Events;
using Pipeline.Functions.Hosting;
using Pipeline.Lambda;

namespace Pipeline.Functions.ServiceGraph;

/// <summary>
/// The <c>service-graph</c> function: an EventBridge schedule event in, the graph of the previous
/// full window before the event's <c>time</c> out (JSON, SVG, DOT under graphs/). The event's
/// <c>detail</c> may name another window: <c>{"windowStart":"2026-11-25T12:00:00Z","windowEnd":"..."}</c>
/// (a rerun or backfill). Then it writes the trace-id index of the hours that have closed
/// (<see cref="TraceIndexWriter"/>), so that <c>pipeline trace</c> opens one or two objects of an
/// hour. Response: <c>{"json":"graphs/...json","svg":"...","dot":"...","engine":"stream","nodes":N,"edges":M,
/// "traceIndex":{"built":B,"current":C,"failed":F}}</c>.
/// </summary>
public sealed class ServiceGraphHandler : ILambdaHandler
{
    private readonly ServiceGraphOptions _options;
    private readonly IObjectStore _store;
    private readonly IGraphSqlEngine? _sql;

    public ServiceGraphHandler(ServiceGraphOptions options, IObjectStore store, IGraphSqlEngine? sql)
    {
        _options = options;
        _store = store;
        _sql = sql;
    }

    /// <summary>
    /// Production factory: options, the S3 store and the Athena client (for GRAPH_ENGINE=athena or
    /// auto) from the environment. <paramref name="athenaFactory"/> replaces the Athena client (tests).
    /// </summary>
    public static ServiceGraphHandler Create(HandlerInitContext init, Func<AwsSettings, Pipeline.Aws.Athena.IAthenaClient>? athenaFactory = null)
    {
        ArgumentNullException.ThrowIfNull(init);
        var options = ServiceGraphOptions.FromEnvironment(init.Environment);
        var clients = init.CreateAwsClients();
        var settings = clients.Settings;
        IGraphSqlEngine? sql = null;
        if (options.Engine != GraphEngine.Stream)
        {
            var athena = athenaFactory is null
                ? Pipeline.Aws.Athena.AthenaClientFactory.Create(settings, init.Http, init.TimeProvider)
                : athenaFactory(settings);
            sql = new AthenaGraphSqlEngine(athena, init.TimeProvider, options);
        }

        return new ServiceGraphHandler(options, clients.ObjectStore, sql);
    }

    public async Task<Stream> HandleAsync(Stream input, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var scheduled = await JsonSerializer.DeserializeAsync(input, EventsJsonContext.Default.ScheduledEvent, context.CancellationToken).ConfigureAwait(false)
            ?? throw new JsonException("The event is not a scheduled event.");
        var (start, end) = Window(scheduled);
        var job = new ServiceGraphJob(_store, _options, _sql, context.Logger);
        var outputs = await job.RunAsync(start, end, cancellationToken: context.CancellationToken).ConfigureAwait(false);
        var indexed = await IndexClosedHoursAsync(start, end, scheduled.Time, context).ConfigureAwait(false);
        var response = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(response))
        {
            writer.WriteStartObject();
            writer.WriteString("json"u8, outputs.JsonKey);
            writer.WriteString("svg"u8, outputs.SvgKey);
            writer.WriteString("dot"u8, outputs.DotKey);
            writer.WriteString("engine"u8, outputs.EngineUsed);
            writer.WriteNumber("nodes"u8, outputs.Document.Services.Count);
            writer.WriteNumber("edges"u8, outputs.Document.Services.Sum(s => s.Edges.Count));
            writer.WriteStartObject("traceIndex"u8);
            writer.WriteNumber("built"u8, indexed.Built);
            writer.WriteNumber("current"u8, indexed.Current);
            writer.WriteNumber("failed"u8, indexed.Failed);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        response.Position = 0;
        return response;
    }

    /// <summary>
    /// Keeps the trace-id index of the hours that closed (<see cref="TraceIndexWriter.ClosedHours"/>)
    /// current. The index is derived data: an hour that fails is logged and counted, and the graph
    /// (already written) still answers; the next run tries the hour again.
    /// </summary>
    private async Task<(int Built, int Current, int Failed)> IndexClosedHoursAsync(DateTimeOffset start, DateTimeOffset end, DateTimeOffset now, InvocationContext context)
    {
        var writer = new TraceIndexWriter(_store, _options.ArchiveBucket);
        int built = 0, current = 0, failed = 0;
        foreach (var hour in TraceIndexWriter.ClosedHours(start, end, now))
        {
            try
            {
                var result = await writer.IndexAsync(hour, force: false, context.CancellationToken).ConfigureAwait(false);
                if (result.Outcome == TraceIndexOutcome.Built)
                {
                    built++;
                    context.Logger.LogInformation("trace index {Key}: {Objects} objects, {Bytes} bytes indexed in {IndexBytes} bytes", result.Key, result.Objects, result.Bytes, result.IndexBytes);
                }
                else if (result.Outcome == TraceIndexOutcome.Current)
                {
                    current++;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed++;
                context.Logger.LogWarning(e, "trace index of {Hour} not written (lookups read the hour without it): {Message}", hour.Prefix, e.Message);
            }
        }

        return (built, current, failed);
    }

    private (DateTimeOffset Start, DateTimeOffset End) Window(ScheduledEvent scheduled)
    {
        if (scheduled.Detail is { ValueKind: JsonValueKind.Object } detail
            && detail.TryGetProperty("windowStart", out var s) && s.TryGetDateTimeOffset(out var start))
        {
            var end = detail.TryGetProperty("windowEnd", out var e) && e.TryGetDateTimeOffset(out var parsed) ? parsed : start + _options.Window;
            if (end <= start || end - start > TimeSpan.FromMinutes(ServiceGraphOptions.MaxWindowMinutes))
            {
                throw new ArgumentException($"detail window {start:O}..{end:O} is empty or longer than a day");
            }

            return (start.ToUniversalTime(), end.ToUniversalTime());
        }

        return ServiceGraphJob.PreviousWindow(scheduled.Time, _options.Window);
    }
}

/// <summary>athena/service_graph.sql on Athena through <see cref="Pipeline.Aws.Athena.AthenaQueryRunner"/>.</summary>
public sealed class AthenaGraphSqlEngine : IGraphSqlEngine
{
    /// <summary>An edge or service per row: far below this for any real map.</summary>
    public const int MaxRows = 100_000;

    private readonly Pipeline.Aws.Athena.AthenaQueryRunner _runner;
    private readonly ServiceGraphOptions _options;

    public AthenaGraphSqlEngine(Pipeline.Aws.Athena.IAthenaClient client, TimeProvider time, ServiceGraphOptions options, TimeSpan? pollInterval = null)
    {
        _runner = new Pipeline.Aws.Athena.AthenaQueryRunner(client, time, pollInterval);
        _options = options;
    }

    public async Task<(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows)> RunAsync(string athenaSql, CancellationToken cancellationToken)
    {
        var outcome = await _runner.RunAsync(
            new Pipeline.Aws.Athena.AthenaQueryRequest(athenaSql, _options.AthenaDatabase, _options.AthenaWorkGroup, _options.AthenaOutputLocation),
            MaxRows,
            cancellationToken).ConfigureAwait(false);
        return (outcome.Columns, outcome.Rows);
    }
}
