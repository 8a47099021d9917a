using Pipeline.Core.Archive;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Ses;
using Pipeline.Aws.Storage;
using Pipeline.Core.Cost;
using Pipeline.Core.Usage;
using Pipeline.Functions.Events;
using Pipeline.Functions.Hosting;
using Pipeline.Lambda;

namespace Pipeline.Functions.CostReport;

/// <summary>
/// The scheduled <c>cost-report</c> function: reads the month's usage counters (and last month's
/// report for the archive size) from the archive bucket, prices and renders the report, keeps
/// <c>reports/dt=YYYY-MM-DD/report.{html,json,png}</c> and emails it as raw MIME through SES.
/// </summary>
/// <remarks>
/// The event is an EventBridge scheduled event; the report covers the month through the day
/// before its <c>time</c>. A <c>detail</c> of <c>{"asOf":"YYYY-MM-DD"}</c> picks the day instead
/// (<c>pipeline report</c> uses it for today's local data). <c>"dryRun":true</c> in the detail
/// builds and stores the report but sends no e-mail: the answer has <c>sent: false</c> and no
/// message id (<c>pipeline verify</c> uses it after a deploy).
/// </remarks>
public sealed class CostReportHandler : ILambdaHandler
{
    /// <summary>Usage files read per day: one per ingest invocation; far above a day of a busy shard set.</summary>
    public const int MaxUsageFilesPerDay = 100_000;

    /// <summary>Graph objects listed to find the latest one.</summary>
    public const int MaxGraphKeys = 1_000;

    public const string GraphsPrefix = "graphs/";

    /// <summary>Concurrent GETs of usage files: enough to hide S3 latency, few enough for a small function.</summary>
    public const int MaxParallelReads = 32;

    private readonly CostReportSettings _settings;
    private readonly PriceTable _prices;
    private readonly IObjectStore _store;
    private readonly ISesClient _ses;
    private readonly TimeProvider _time;
    private readonly IGraphDiffSource _graphDiff;

    public CostReportHandler(
        CostReportSettings settings,
        PriceTable prices,
        IObjectStore store,
        ISesClient ses,
        TimeProvider time,
        IGraphDiffSource? graphDiff = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ses);
        ArgumentNullException.ThrowIfNull(time);
        _settings = settings;
        _prices = prices;
        _store = store;
        _ses = ses;
        _time = time;
        _graphDiff = graphDiff ?? GraphDiffSource.Instance;
    }

    /// <summary>The production factory: binds and checks the configuration, builds the clients, resolves the price table.</summary>
    public static async ValueTask<ILambdaHandler> CreateAsync(HandlerInitContext init, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(init);
        var settings = CostReportSettings.FromEnvironment(init.Environment);
        var aws = init.CreateAwsClients();
        var prices = await ResolvePricesAsync(settings, aws.ObjectStore, cancellationToken).ConfigureAwait(false);
        init.Logger.LogInformation(
            "cost-report ready: bucket {Bucket}, {Recipients} recipient(s), price table {PriceTable}",
            settings.ArchiveBucket, settings.Mail.To.Count, prices.TableVersion);
        return new CostReportHandler(settings, prices, aws.ObjectStore, aws.Ses, init.TimeProvider);
    }

    /// <summary>
    /// The price table the settings name: built in, inline (already applied), or an override read
    /// from S3 or a file. A missing or bad override fails init rather than pricing with defaults.
    /// </summary>
    public static async Task<PriceTable> ResolvePricesAsync(CostReportSettings settings, IObjectStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(store);
        string text;
        switch (settings.PriceTableSource)
        {
            case PriceTableSourceKind.S3:
                CostReportSettings.TrySplitS3Uri(settings.PriceTableValue, out var bucket, out var key);
                var bytes = await store.GetAsync(bucket, key, cancellationToken).ConfigureAwait(false)
                    ?? throw new LambdaInitException(LambdaError.Types.ConfigInvalid, $"PRICE_TABLE {settings.PriceTableValue} does not exist.");
                text = System.Text.Encoding.UTF8.GetString(bytes);
                break;
            case PriceTableSourceKind.File:
                if (!File.Exists(settings.PriceTableValue))
                {
                    throw new LambdaInitException(LambdaError.Types.ConfigInvalid, $"PRICE_TABLE file {settings.PriceTableValue} does not exist.");
                }

                text = await File.ReadAllTextAsync(settings.PriceTableValue, cancellationToken).ConfigureAwait(false);
                break;
            default:
                return settings.Prices;
        }

        try
        {
            return PriceTable.Default.WithOverride(text);
        }
        catch (FormatException e)
        {
            throw new LambdaInitException(LambdaError.Types.ConfigInvalid, $"PRICE_TABLE {settings.PriceTableValue}: {e.Message}");
        }
    }

    public async Task<Stream> HandleAsync(Stream input, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        var ct = context.CancellationToken;
        var (asOf, dryRun) = await ReadEventAsync(input, ct).ConfigureAwait(false);
        var bucket = _settings.ArchiveBucket;
        var notes = new List<string>();

        var rollups = new List<DailyRollup>();
        var usageFiles = 0;
        foreach (var day in CostModel.MonthThrough(asOf))
        {
            var (rollup, files) = await DayAsync(day, asOf, notes, ct).ConfigureAwait(false);
            rollups.Add(rollup);
            usageFiles += files;
        }

        var previous = await GetOptionalAsync(ReportKeys.Json(CostReportJob.PreviousMonthEnd(asOf)), notes, ct).ConfigureAwait(false);
        var latestGraph = await LatestGraphKeyAsync(asOf, ct).ConfigureAwait(false);
        var diff = latestGraph is null ? null : await _graphDiff.GetDiffAsync(_store, bucket, latestGraph, ct).ConfigureAwait(false);
        notes.Add(latestGraph is null ? "No service graph found for the period." : $"Latest service graph: {latestGraph}.");

        var outputs = CostReportJob.Run(new CostReportInputs
        {
            AsOf = asOf,
            GeneratedAt = _time.GetUtcNow(),
            Prices = _prices,
            Mail = _settings.Mail,
            Usage = UsageFold.Empty.With(rollups),
            PreviousMonthReport = previous,
            GraphDiff = diff,
            Notes = notes,
        });

        var htmlKey = ReportKeys.Html(asOf);
        await _store.PutAsync(bucket, htmlKey, CostReportJob.Utf8(outputs.StoredHtml), "text/html; charset=utf-8", ct).ConfigureAwait(false);
        await _store.PutAsync(bucket, ReportKeys.Json(asOf), outputs.Json, "application/json", ct).ConfigureAwait(false);
        await _store.PutAsync(bucket, ReportKeys.Png(asOf), outputs.Png, ReportChart.ContentType, ct).ConfigureAwait(false);

        string? messageId = null;
        if (dryRun)
        {
            context.Logger.LogInformation(
                "cost report {AsOf} stored at s3://{Bucket}/{Key}, not sent (dry run); {UsageFiles} usage file(s), month to date {Total} USD",
                asOf, bucket, htmlKey, usageFiles, outputs.Model.MonthToDate.Total);
        }
        else
        {
            messageId = await SendAsync(outputs.RawMessage, ct).ConfigureAwait(false);
            context.Logger.LogInformation(
                "cost report {AsOf} stored at s3://{Bucket}/{Key} and sent as {MessageId} to {Recipients} recipient(s); {UsageFiles} usage file(s), month to date {Total} USD",
                asOf, bucket, htmlKey, messageId, _settings.Mail.To.Count, usageFiles, outputs.Model.MonthToDate.Total);
        }

        var result = new CostReportResult(
            asOf, bucket, htmlKey, ReportKeys.Json(asOf), ReportKeys.Png(asOf), messageId, _settings.Mail.To.Count, usageFiles,
            outputs.Model.MonthToDate.Total, outputs.Model.Projected.Total, outputs.Model.MonthToDate.Savings)
        {
            Sent = !dryRun,
        };
        return new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(result, CostReportResultJsonContext.Default.CostReportResult), writable: false);
    }

    /// <summary>
    /// One day's usage: its rollup when the day is settled and was rolled up before, else its
    /// usage files (read with bounded parallelism), rolled up for next time once settled.
    /// Returns the usage files read (0 from a rollup).
    /// </summary>
    private async Task<(DailyRollup Rollup, int Files)> DayAsync(DateOnly day, DateOnly asOf, List<string> notes, CancellationToken ct)
    {
        var bucket = _settings.ArchiveBucket;
        var settled = DailyRollup.IsSettled(day, asOf);
        if (settled
            && await GetOptionalAsync(DailyRollup.KeyFor(day), notes, ct).ConfigureAwait(false) is { } stored
            && DailyRollup.TryDeserialize(stored) is { } existing
            && existing.Day == day)
        {
            return (existing, 0);
        }

        var objects = await _store.ListAsync(bucket, ArchiveKeys.UsageDayPrefix(day), MaxUsageFilesPerDay, ct).ConfigureAwait(false);
        if (objects.Count >= MaxUsageFilesPerDay)
        {
            notes.Add($"More than {MaxUsageFilesPerDay} usage files on {day:yyyy-MM-dd}: only the first were read.");
        }

        var files = new ReadOnlyMemory<byte>[objects.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, objects.Count),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelReads, CancellationToken = ct },
            async (i, token) => files[i] = await _store.GetAsync(bucket, objects[i].Key, token).ConfigureAwait(false) ?? ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);

        // A file deleted between list and get reads as empty and is counted as malformed.
        var rollup = DailyRollup.Fold(day, files);
        if (settled)
        {
            await _store.PutAsync(bucket, DailyRollup.KeyFor(day), DailyRollup.Serialize(rollup), "application/json", ct).ConfigureAwait(false);
        }

        return (rollup, objects.Count);
    }

    /// <summary>
    /// Reads one of the function's own earlier outputs under <c>reports/</c>: null when it does
    /// not exist (404). The template's role may read and list, so a 403 means the role was changed;
    /// the report then goes on without the earlier output and says, in the report, what is missing.
    /// </summary>
    private async Task<byte[]?> GetOptionalAsync(string key, List<string> notes, CancellationToken ct)
    {
        try
        {
            return await _store.GetAsync(_settings.ArchiveBucket, key, ct).ConfigureAwait(false);
        }
        catch (AwsAccessDeniedException)
        {
            const string Note = "Could not read earlier outputs under reports/ (access denied): grant the function s3:GetObject on reports/* and s3:ListBucket on the archive bucket without an s3:prefix condition (S3 answers 403 for a missing key otherwise).";
            if (!notes.Contains(Note))
            {
                notes.Add(Note);
            }

            return null;
        }
    }

    private async Task<string> SendAsync(byte[] rawMessage, CancellationToken ct)
    {
        try
        {
            return await _ses.SendRawEmailAsync(new RawEmail(rawMessage), ct).ConfigureAwait(false);
        }
        catch (AwsServiceException e) when (IsUnverifiedSender(e))
        {
            throw new InvalidOperationException(
                $"SES refused the report: the sender '{_settings.Mail.From}' (or, in the SES sandbox, a recipient) is not a verified identity in this account and region. Verify it (CreateEmailIdentity) or set REPORT_SENDER to a verified address. SES said: {e.ServiceMessage}",
                e);
        }
    }

    private static bool IsUnverifiedSender(AwsServiceException e) =>
        e.ErrorCode is "MessageRejected" or "MailFromDomainNotVerifiedException" or "NotFoundException"
        || e.ServiceMessage.Contains("not verified", StringComparison.OrdinalIgnoreCase);

    private async Task<(DateOnly AsOf, bool DryRun)> ReadEventAsync(Stream input, CancellationToken ct)
    {
        ScheduledEvent? scheduled = null;
        try
        {
            scheduled = await JsonSerializer.DeserializeAsync(input, EventsJsonContext.Default.ScheduledEvent, ct).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            // A manual invoke with another payload reports through yesterday, like the schedule.
        }

        var dryRun = false;
        if (scheduled?.Detail is { ValueKind: JsonValueKind.Object } detail)
        {
            if (detail.TryGetProperty("dryRun", out var dry))
            {
                dryRun = dry.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new ArgumentException($"detail.dryRun must be true or false, not {dry.GetRawText()}.", nameof(input)),
                };
            }

            if (detail.TryGetProperty("asOf", out var asOf) && asOf.ValueKind == JsonValueKind.String)
            {
                return DateOnly.TryParseExact(asOf.GetString(), "yyyy-MM-dd", out var day)
                    ? (day, dryRun)
                    : throw new ArgumentException($"detail.asOf '{asOf.GetString()}' is not YYYY-MM-DD.", nameof(input));
            }
        }

        return (CostModel.ReportDayFor(scheduled?.Time ?? _time.GetUtcNow()), dryRun);
    }

    /// <summary>The newest graph JSON of the report day or the day before (graph keys sort by time within a day).</summary>
    private async Task<string?> LatestGraphKeyAsync(DateOnly asOf, CancellationToken ct)
    {
        foreach (var day in new[] { asOf, asOf.AddDays(-1) })
        {
            var prefix = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{GraphsPrefix}dt={day:yyyy-MM-dd}/");
            var keys = await _store.ListAsync(_settings.ArchiveBucket, prefix, MaxGraphKeys, ct).ConfigureAwait(false);
            var latest = keys.Where(k => k.Key.EndsWith(".json", StringComparison.Ordinal)).MaxBy(k => k.Key, StringComparer.Ordinal);
            if (latest is not null)
            {
                return latest.Key;
            }
        }

        return null;
    }
}

/// <summary>The handler's response: where the report went (the CLI prints it). <see cref="MessageId"/> is null when nothing was sent (dry run).</summary>
public sealed record CostReportResult(
    DateOnly AsOf,
    string Bucket,
    string HtmlKey,
    string JsonKey,
    string PngKey,
    string? MessageId,
    int Recipients,
    int UsageFiles,
    decimal MonthToDateUsd,
    decimal ProjectedUsd,
    decimal SavingsMonthToDateUsd)
{
    /// <summary>False for a dry run: the report was stored but not e-mailed.</summary>
    public bool Sent { get; init; } = true;
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CostReportResult))]
public sealed partial class CostReportResultJsonContext : JsonSerializerContext;
