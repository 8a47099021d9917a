using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Pipeline.Aws.Storage;
using Pipeline.Aws.XRay;
using Pipeline.Core.Archive;
using Pipeline.Core.Otlp;
using Pipeline.Core.Segments;
using Pipeline.Functions.Configuration;
using Pipeline.Functions.Hosting;
using Pipeline.Functions.Ingest;
using Pipeline.Lambda;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Functions.XRayReplay;

/// <summary>Bounds and settings of one replay run.</summary>
public sealed record XRayReplayOptions
{
    public required string ArchiveBucket { get; init; }

    /// <summary>Objects looked at per run (oldest keys first: keys start with the day).</summary>
    public int MaxObjectsPerRun { get; init; } = 200;

    /// <summary>Documents resent per run; the rest waits for the next run.</summary>
    public int MaxDocumentsPerRun { get; init; } = 20_000;

    /// <summary>
    /// Parked objects older than this are deleted unsent and counted: X-Ray keeps traces 30 days
    /// (X-Ray developer guide, "data retention"), so a week-old view is of little use and a poison
    /// document must not be retried forever. The archive still holds every one of them.
    /// </summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>An object larger than this is not a parked batch of ours (a batch parks at most ~6 MB).</summary>
    public int MaxObjectBytes { get; init; } = 16 * 1024 * 1024;


    /// <summary>Resend rounds of what X-Ray leaves unprocessed (as the ingest's, from 200 ms: a replay is not in a hurry).</summary>
    public BackoffOptions XRayResend { get; init; } = IngestOptions.DefaultXRayResend with { BaseDelay = TimeSpan.FromMilliseconds(200) };

    /// <summary>The run stops taking objects when less than this is left before the deadline.</summary>
    public TimeSpan DeadlineReserve { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Binds every variable; bad values throw one <see cref="ConfigurationException"/> naming each.</summary>
    public static XRayReplayOptions FromEnvironment(IEnvironment environment)
    {
        var env = new EnvironmentBinder(environment);
        var options = new XRayReplayOptions { ArchiveBucket = env.Required(EnvironmentNames.ArchiveBucket, "the S3 bucket holding xray-retry/") };
        env.ThrowIfInvalid();
        return options;
    }
}

/// <summary>What one replay run did; also the function's response.</summary>
public sealed record XRayReplayResult
{
    /// <summary>Parked objects looked at.</summary>
    public int Objects { get; init; }

    /// <summary>Documents X-Ray accepted this run.</summary>
    public int Resent { get; init; }

    /// <summary>Objects deleted because every document in them was accepted.</summary>
    public int Deleted { get; init; }

    /// <summary>Objects left for the next run (X-Ray refused some document, or the run's bounds were reached).</summary>
    public int Remaining { get; init; }

    /// <summary>Objects deleted unsent because they were older than <see cref="XRayReplayOptions.MaxAge"/>.</summary>
    public int Expired { get; init; }

    /// <summary>Lines that are not segment documents (dropped with the object once it is otherwise done).</summary>
    public int Unreadable { get; init; }

    public int XRayCalls { get; init; }

    /// <summary>
    /// Parked OTel spans (<c>.otlp</c> objects) dropped with their object: X-Ray's OTLP endpoint refused
    /// them for good (partial_success, 400/413) or its limits exclude them now (older than 14 days, say).
    /// The archive still holds every one of them.
    /// </summary>
    public int SpansDropped { get; init; }
}

/// <summary>
/// The <c>xray-replay</c> function (scheduled; also run by <c>pipeline replay</c>): resends the
/// segments the ingest parked under xray-retry/ with the ingest's batching and retry, and deletes
/// each object once X-Ray took all of it. An object X-Ray still refuses in part stays whole (IAM
/// gives the replay no PutObject; resending accepted documents is harmless since X-Ray keys segments
/// by id). Bounded per run in objects, documents and time.
/// </summary>
public sealed class XRayReplayHandler : ILambdaHandler
{
    private readonly XRayReplayOptions _options;
    private readonly IObjectStore _store;
    private readonly IObjectDeleter _deleter;
    private readonly TimeProvider _timeProvider;
    private readonly XRayForwarder _forwarder;
    private readonly XRayOtlpForwarder? _otlp;

    /// <param name="xrayOtlp">X-Ray's OTLP endpoint, for the <c>.otlp</c> objects the ingest parks with XRAY_FORWARD=otlp; without it they are left for a run that has it.</param>
    public XRayReplayHandler(XRayReplayOptions options, IObjectStore store, IObjectDeleter deleter, IXRayClient xray, TimeProvider timeProvider, IXRayOtlpClient? xrayOtlp = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(deleter);
        ArgumentNullException.ThrowIfNull(xray);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options;
        _store = store;
        _deleter = deleter;
        _timeProvider = timeProvider;
        _forwarder = new XRayForwarder(xray, timeProvider, options.XRayResend);
        _otlp = xrayOtlp is null ? null : new XRayOtlpForwarder(xrayOtlp);
    }

    public static ILambdaHandler Create(HandlerInitContext init)
    {
        ArgumentNullException.ThrowIfNull(init);
        var options = XRayReplayOptions.FromEnvironment(init.Environment);
        var clients = init.CreateAwsClients();
        return new XRayReplayHandler(options, clients.ObjectStore, new S3ObjectDeleter(clients.S3), clients.XRay, init.TimeProvider, clients.XRayOtlp);
    }

    public async Task<Stream> HandleAsync(Stream input, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // The event (a schedule, or {} from the CLI) carries nothing the run needs.
        var result = await RunAsync(() => context.RemainingTime > _options.DeadlineReserve, context.Logger, context.CancellationToken).ConfigureAwait(false);
        var output = new MemoryStream();
        await JsonSerializer.SerializeAsync(output, result, XRayReplayJsonContext.Default.XRayReplayResult, context.CancellationToken).ConfigureAwait(false);
        output.Position = 0;
        return output;
    }

    /// <param name="mayContinue">False once the run must stop (deadline); checked before each object and each X-Ray call.</param>
    public async Task<XRayReplayResult> RunAsync(Func<bool> mayContinue, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mayContinue);
        ArgumentNullException.ThrowIfNull(logger);
        var listed = await _store.ListAsync(_options.ArchiveBucket, ArchiveKeys.XRayRetryPrefix, _options.MaxObjectsPerRun, cancellationToken).ConfigureAwait(false);
        var now = _timeProvider.GetUtcNow();
        int objects = 0, resent = 0, deleted = 0, remaining = 0, expired = 0, unreadable = 0, calls = 0, dropped = 0, documentBudget = _options.MaxDocumentsPerRun;
        foreach (var parked in listed)
        {
            objects++;
            if (now - parked.LastModified > _options.MaxAge)
            {
                await _deleter.DeleteAsync(_options.ArchiveBucket, parked.Key, cancellationToken).ConfigureAwait(false);
                logger.LogWarning("Deleted {Key} unsent: parked since {Since}, older than {MaxAge}", parked.Key, parked.LastModified, _options.MaxAge);
                expired++;
                continue;
            }

            if (!mayContinue() || documentBudget <= 0 || parked.Size > _options.MaxObjectBytes)
            {
                remaining++;
                continue;
            }

            var content = await _store.GetAsync(_options.ArchiveBucket, parked.Key, cancellationToken).ConfigureAwait(false);
            if (content is null)
            {
                continue;
            }

            if (parked.Key.EndsWith(ArchiveKeys.XRayRetryOtlpExtension, StringComparison.Ordinal))
            {
                if (_otlp is null)
                {
                    remaining++;
                    continue;
                }

                var spans = ParkedSpans(content);
                if (spans is null)
                {
                    // Not an OTLP record of a version we read: it can never be sent (the archive holds its spans).
                    unreadable++;
                    await _deleter.DeleteAsync(_options.ArchiveBucket, parked.Key, cancellationToken).ConfigureAwait(false);
                    deleted++;
                    logger.LogWarning("Deleted {Key}: not a readable OTLP record", parked.Key);
                    continue;
                }

                if (spans.Count > documentBudget)
                {
                    remaining++;
                    documentBudget = 0;
                    continue;
                }

                documentBudget -= spans.Count;
                var sent = await _otlp.SendAsync(spans, now, mayContinue, message => logger.LogWarning("{Message}", message), cancellationToken).ConfigureAwait(false);
                calls += sent.Requests;
                resent += (int)(sent.Sent - sent.Rejected);
                if (sent.Parked.Count == 0)
                {
                    dropped += (int)sent.Rejected + sent.Unsendable;
                    await _deleter.DeleteAsync(_options.ArchiveBucket, parked.Key, cancellationToken).ConfigureAwait(false);
                    deleted++;
                    continue;
                }

                remaining++;
                if (sent.Outage)
                {
                    logger.LogWarning("X-Ray's OTLP endpoint is unavailable; {Key} and the rest stay parked", parked.Key);
                    remaining += listed.Count - objects;
                    objects = listed.Count;
                    break;
                }

                continue;
            }

            var documents = new List<ForwardDocument>();
            foreach (var line in ArchiveObjects.Lines(content))
            {
                var parsed = SegmentParser.Parse(line);
                if (!parsed.IsOk || parsed.Segment.GetString(parsed.Segment.Root.Id) is not { } id)
                {
                    unreadable++;
                    continue;
                }

                documents.Add(new ForwardDocument(id, Encoding.UTF8.GetString(line.Span)));
            }

            if (documents.Count > documentBudget)
            {
                remaining++;
                documentBudget = 0;
                continue;
            }

            documentBudget -= documents.Count;
            var result = documents.Count == 0
                ? new ForwardResult([], [], Outage: false)
                : await _forwarder.SendAsync(documents, mayContinue, cancellationToken).ConfigureAwait(false);
            calls += result.Calls;
            resent += documents.Count - result.Refused.Count;
            if (result.Refused.Count == 0)
            {
                await _deleter.DeleteAsync(_options.ArchiveBucket, parked.Key, cancellationToken).ConfigureAwait(false);
                deleted++;
            }
            else
            {
                remaining++;
                if (result.Outage)
                {
                    logger.LogWarning("X-Ray is unavailable; {Key} and the rest stay parked", parked.Key);
                    remaining += listed.Count - objects;
                    objects = listed.Count;
                    break;
                }
            }
        }

        var summary = new XRayReplayResult
        {
            Objects = objects,
            Resent = resent,
            Deleted = deleted,
            Remaining = remaining,
            Expired = expired,
            Unreadable = unreadable,
            XRayCalls = calls,
            SpansDropped = dropped,
        };
        logger.LogInformation(
            "xray-replay: {Objects} objects, {Resent} resent, {Deleted} deleted, {Remaining} remaining, {Expired} expired, {Unreadable} unreadable lines, {Calls} X-Ray calls, {Dropped} spans dropped",
            summary.Objects, summary.Resent, summary.Deleted, summary.Remaining, summary.Expired, summary.Unreadable, summary.XRayCalls, summary.SpansDropped);
        return summary;
    }

    /// <summary>The spans of a parked <c>.otlp</c> object (one OTLP record, docs/kinesis-records.md); null when it is not one.</summary>
    private static List<OtlpForwardSpan>? ParkedSpans(ReadOnlyMemory<byte> content)
    {
        if (OtlpRecord.TryRead(content, out var payload) != OtlpRecordStatus.Ok)
        {
            return null;
        }

        var decoded = OtlpProtobufDecoder.Decode(payload.Span);
        if (!decoded.IsOk)
        {
            return null;
        }

        var spans = new List<OtlpForwardSpan>();
        foreach (var resource in decoded.Request!.ResourceSpans)
        {
            foreach (var scope in resource.ScopeSpans)
            {
                spans.AddRange(scope.Spans.Select(span => new OtlpForwardSpan(resource, scope, span)));
            }
        }

        return spans;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(XRayReplayResult))]
internal sealed partial class XRayReplayJsonContext : JsonSerializerContext;
