using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws.Storage;
using Pipeline.Cli.Graph;
using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;
using Pipeline.Core.Graph;
using Pipeline.Core.Query;
using Pipeline.Core.Traces;
using Pipeline.Functions.CostReport;
using Pipeline.Functions.ServiceGraph;

namespace Pipeline.Cli.Ui;

/// <summary>One row of search results.</summary>
internal sealed record TraceSummary(
    string TraceId, double StartTime, double DurationSeconds, long Segments, bool Error, bool Fault, bool Throttle,
    string? RootService, string? RootMethod, string? RootUrl, int? RootStatus);

/// <summary>A search's answer: the rows shown, the histogram of every match, and what it cost.</summary>
/// <param name="SummarizedHours">Hours read from their search summary (the rest of the window, and objects a summary does not name, raw).</param>
internal sealed record SearchResult(IReadOnlyList<TraceSummary> Traces, IReadOnlyList<(int Bucket, long Traces)> Histogram, IReadOnlyList<ArchiveHour> Hours, long BytesRead, int SummarizedHours)
{
    public long Matches => Histogram.Sum(h => h.Traces);
}

internal sealed record QuarantineSample(string Reason, string? Path, string ArrivalTime, string? SequenceNumber, long Size, string Document);

internal sealed record QuarantineReason(string Reason, long Documents, IReadOnlyList<QuarantineSample> Samples);

internal sealed record StoredReport(DateOnly Day, CostReportModel? Model, bool HasChart, bool HasHtml);

/// <summary>
/// Everything the UI reads, from one archive directory in the bucket's key layout (the mirror
/// <c>pipeline up</c> keeps, or <c>--data-dir</c>): traces and searches by DuckDB over the
/// hour partitions they need, the service graph of any window (the service-graph job itself,
/// its outputs kept in memory: the UI never writes to the archive), stored cost reports and the
/// quarantine. Read-only by construction.
/// </summary>
internal sealed class UiArchive : IDisposable
{
    /// <summary>Samples shown per quarantine reason.</summary>
    public const int SamplesPerReason = 5;

    /// <summary>Characters of a quarantined document shown (the raw document is for the archive, not the page).</summary>
    public const int MaxSampleChars = 4000;

    /// <summary>Report days listed at most, newest first.</summary>
    public const int MaxReports = 62;

    private readonly string _root;
    private readonly IReadOnlyList<AthenaTableDefinition> _tables;
    private readonly DuckDbTraceArchive _traces;
    private readonly DirectoryObjectStore _store;

    public UiArchive(string root, IReadOnlyList<AthenaTableDefinition> tables)
    {
        _root = Path.GetFullPath(root);
        _tables = tables;
        _store = new DirectoryObjectStore(_root);
        _traces = new DuckDbTraceArchive(_root, tables);
    }

    public string Root => _root;

    public void Dispose() => _traces.Dispose();

    public async Task<(TraceTree Tree, TraceReadReport Read)> TraceAsync(string traceId, CancellationToken cancellationToken)
    {
        // A reader of its own per request: the indexed reader keeps per-lookup lists (requests run concurrently).
        using var indexed = new IndexedTraceArchive(_store, "archive", _traces, ownsUnindexed: false);
        return await TraceLookup.FindAsync(indexed, traceId, TraceLookupPlan.ForEpoch(TraceIds.Epoch(traceId)), progress: null, cancellationToken).ConfigureAwait(false);
    }

    public SearchResult Search(TraceSearch search)
    {
        ArgumentNullException.ThrowIfNull(search);
        var hours = TraceSearchSql.Hours(search);
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();

        // Per hour: its summary where one still covers it, and raw NDJSON for every object the summary does not (or all of them).
        var summaries = new List<string>();
        var raw = new List<string>();
        long bytes = 0;
        var summarized = 0;
        foreach (var hour in hours)
        {
            var listed = SearchSummaryFiles.Objects(_root, hour);
            if (listed.Count == 0)
            {
                continue;
            }

            var cover = SearchSummary.Cover(SearchSummaryFiles.SummarizedObjects(connection, _root, hour), listed);
            if (cover.UseSummary)
            {
                var path = Path.Combine(_root, SearchSummary.Key(hour));
                summaries.Add(path);
                bytes += new FileInfo(path).Length;
                summarized++;
            }

            var sizes = listed.ToDictionary(o => o.Key, o => o.Size, StringComparer.Ordinal);
            foreach (var key in cover.Raw)
            {
                raw.Add(Path.Combine(_root, key));
                bytes += sizes[key];
            }
        }

        if (summaries.Count == 0 && raw.Count == 0)
        {
            return new SearchResult([], [], hours, 0, 0);
        }

        // Both sources as one relation with the columns the search reads; then one scan of it into a
        // temporary table of the matches that both the rows and the histogram read.
        var parts = new List<string>();
        var partitions = "hive_partitioning = true, hive_types = {'dt': 'VARCHAR', 'hour': 'VARCHAR'}";
        if (summaries.Count > 0)
        {
            parts.Add($"SELECT * FROM read_parquet([{string.Join(", ", summaries.Select(DuckDbArchiveViews.QuoteLiteral))}], {partitions})");
        }

        if (raw.Count > 0)
        {
            parts.Add($"SELECT {SearchSummary.Projection}, dt, \"hour\" FROM {DuckDbArchiveViews.ReaderOf(_tables.Single(t => t.Name == SearchSummaryFiles.SegmentsTable), raw)}");
        }

        DuckDbQueryRunner.Execute(connection, "CREATE TEMP VIEW search_rows AS " + string.Join(" UNION ALL BY NAME ", parts));
        return Matches(connection, search, "search_rows", hours, bytes, summarized);
    }

    /// <summary>
    /// The same search over the raw NDJSON of the window only, through the <c>segments</c> view
    /// (as <c>pipeline query</c> runs it): what the summaries must agree with (tests and the bench compare them).
    /// </summary>
    internal SearchResult ScanSearch(TraceSearch search)
    {
        ArgumentNullException.ThrowIfNull(search);
        var hours = TraceSearchSql.Hours(search);
        var bytes = hours.Sum(h => SearchSummaryFiles.Objects(_root, h).Sum(o => o.Size));
        if (bytes == 0)
        {
            return new SearchResult([], [], hours, 0, 0);
        }

        using var connection = DuckDbQueryRunner.OpenWithViews(_root, _tables);
        return Matches(connection, search, TraceSearchSql.Table, hours, bytes, summarizedHours: 0);
    }

    /// <summary>Runs the search over <paramref name="table"/> into a temporary table of its matches, then reads the rows and the histogram from it.</summary>
    private static SearchResult Matches(DuckDBConnection connection, TraceSearch search, string table, IReadOnlyList<ArchiveHour> hours, long bytes, int summarizedHours)
    {
        DuckDbQueryRunner.Execute(connection, "CREATE TEMP TABLE matches AS " + AthenaToDuckDb.Translate(TraceSearchSql.Matches(search, table)));
        var rows = DuckDbQueryRunner.Read(connection, AthenaToDuckDb.Translate(TraceSearchSql.TracesOfMatches(search.Limit)), TraceSearch.MaxLimit).Rows;
        var histogram = DuckDbQueryRunner.Read(connection, AthenaToDuckDb.Translate(TraceSearchSql.HistogramOfMatches()), 1000).Rows
            .Select(r => (int.Parse(r[0]!, CultureInfo.InvariantCulture), long.Parse(r[1]!, CultureInfo.InvariantCulture))).ToList();
        var traces = rows.Select(r => new TraceSummary(
            r[0]!, Number(r[1]), Number(r[2]), (long)Number(r[3]), r[4] == "true", r[5] == "true", r[6] == "true",
            r[7], r[8], r[9], r[10] is { } st ? int.Parse(st, CultureInfo.InvariantCulture) : null)).ToList();
        return new SearchResult(traces, histogram, hours, bytes, summarizedHours);
    }

    /// <summary>The graph of [start, end) with its diff against the window before it, computed now from the archive.</summary>
    public async Task<GraphDocument> GraphAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var overlay = new OverlayStore(_store);
        var options = new ServiceGraphOptions { ArchiveBucket = "archive", Window = end - start, Engine = GraphEngine.Stream };
        var job = new ServiceGraphJob(overlay, options, sql: null, NullLogger.Instance);
        await job.RunAsync(start - (end - start), start, GraphEngine.Stream, cancellationToken).ConfigureAwait(false);
        return (await job.RunAsync(start, end, GraphEngine.Stream, cancellationToken).ConfigureAwait(false)).Document;
    }

    public async Task<IReadOnlyList<StoredReport>> ReportsAsync(CancellationToken cancellationToken)
    {
        var objects = await _store.ListAsync("archive", ReportKeys.Prefix, 10_000, cancellationToken).ConfigureAwait(false);
        var days = objects.Select(o => Day(o.Key)).OfType<DateOnly>().Distinct().OrderDescending().Take(MaxReports).ToList();
        var reports = new List<StoredReport>();
        foreach (var day in days)
        {
            reports.Add(await ReportAsync(day, cancellationToken).ConfigureAwait(false));
        }

        return reports;
    }

    public async Task<StoredReport> ReportAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var json = await _store.GetAsync("archive", ReportKeys.Json(day), cancellationToken).ConfigureAwait(false);
        CostReportModel? model = null;
        if (json is not null)
        {
            try
            {
                model = ReportJson.Deserialize(json);
            }
            catch (System.Text.Json.JsonException)
            {
                // Shown as a report without figures.
            }
        }

        return new StoredReport(day, model, File.Exists(_store.PathOf(ReportKeys.Png(day))), File.Exists(_store.PathOf(ReportKeys.Html(day))));
    }

    /// <summary>The stored chart or page of a report day, or null.</summary>
    public Task<byte[]?> ReportFileAsync(DateOnly day, string key, CancellationToken cancellationToken) =>
        _store.GetAsync("archive", key, cancellationToken);

    public IReadOnlyList<QuarantineReason> Quarantine(DateOnly from, DateOnly to)
    {
        var window = $"dt BETWEEN '{from:yyyy-MM-dd}' AND '{to:yyyy-MM-dd}'";
        var reasons = DuckDbQueryRunner.Run(
            $"SELECT reason, count(*) AS documents FROM quarantine WHERE {window} AND reason IS NOT NULL GROUP BY reason ORDER BY documents DESC, reason",
            _root, _tables, 1000).Rows;
        // The document is decoded here, not by SQL: a rejected document may be invalid UTF-8, which DuckDB's decode refuses.
        var samples = DuckDbQueryRunner.Run(
            $"SELECT reason, path, arrival_time, sequence_number, size, original_base64 FROM (SELECT *, row_number() OVER (PARTITION BY reason ORDER BY arrival_time DESC, sequence_number) AS n FROM quarantine WHERE {window}) WHERE n <= {SamplesPerReason} ORDER BY reason, n",
            _root, _tables, 1000 * SamplesPerReason).Rows;
        var byReason = samples.GroupBy(r => r[0] ?? string.Empty).ToDictionary(g => g.Key, g => g.Select(r => new QuarantineSample(
            r[0] ?? string.Empty, r[1], r[2] ?? string.Empty, r[3], r[4] is { } size ? long.Parse(size, CultureInfo.InvariantCulture) : 0, Decode(r[5]))).ToList());
        return reasons.Select(r => new QuarantineReason(r[0]!, long.Parse(r[1]!, CultureInfo.InvariantCulture), byReason.GetValueOrDefault(r[0]!) ?? [])).ToList();
    }

    private static string Decode(string? base64)
    {
        if (base64 is null)
        {
            return string.Empty;
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            return "(not base64)";
        }

        var text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, MaxSampleChars * 4));
        return text.Length > MaxSampleChars ? text[..MaxSampleChars] + DisplayText.Ellipsis : text;
    }

    private static double Number(string? text) => text is null ? 0 : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static DateOnly? Day(string key)
    {
        // reports/dt=YYYY-MM-DD/...
        const string Marker = "dt=";
        var at = key.IndexOf(Marker, StringComparison.Ordinal);
        return at >= 0 && key.Length >= at + Marker.Length + 10
            && DateOnly.TryParseExact(key.AsSpan(at + Marker.Length, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : null;
    }

    /// <summary>Reads through to the archive; writes stay in memory, so running the graph job never changes the archive.</summary>
    private sealed class OverlayStore(IObjectStore inner) : IObjectStore
    {
        private readonly Dictionary<string, byte[]> _written = new(StringComparer.Ordinal);

        public Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
        {
            _written[key] = content.ToArray();
            return Task.CompletedTask;
        }

        public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default) =>
            _written.TryGetValue(key, out var bytes) ? Task.FromResult<byte[]?>(bytes) : inner.GetAsync(bucket, key, cancellationToken);

        public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10_000, CancellationToken cancellationToken = default) =>
            inner.ListAsync(bucket, prefix, maxKeys, cancellationToken);
    }
}
