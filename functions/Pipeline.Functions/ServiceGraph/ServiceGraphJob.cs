using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Aws.Storage;
using Pipeline.Core.Archive;
using Pipeline.Core.Graph;

namespace Pipeline.Functions.ServiceGraph;

/// <summary>Runs athena/service_graph.sql somewhere (Athena in AWS, DuckDB locally) and returns its rows as text.</summary>
public interface IGraphSqlEngine
{
    Task<(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows)> RunAsync(string athenaSql, CancellationToken cancellationToken);
}

/// <summary>Where one window's outputs went and what they say.</summary>
public sealed record ServiceGraphOutputs(string JsonKey, string SvgKey, string DotKey, GraphDocument Document, string EngineUsed, int ObjectsRead);

/// <summary>
/// One window of the service graph, end to end: list the window's archive objects
/// (segments/dt=/hour=/ for every hour the window and the arrival grace touch), stream them
/// (gunzip, NDJSON lines) through the builder or run the SQL engine, compare with the previous
/// window's JSON, and write JSON, SVG and DOT. The same window and archive give the same keys
/// and bytes, so a retried or repeated run is harmless.
/// </summary>
public sealed class ServiceGraphJob
{
    public const string JsonContentType = "application/json";
    public const string SvgContentType = "image/svg+xml";
    public const string DotContentType = "text/vnd.graphviz";

    /// <summary>A rough gzip NDJSON size of one segment, to estimate a window's volume from its listing (for engine auto).</summary>
    public const long EstimatedCompressedBytesPerSegment = 200;

    /// <summary>Objects listed per hour partition at most; past that the window is SQL territory.</summary>
    public const int MaxObjectsPerHour = 10_000;

    /// <summary>Longest archive line read; a segment document is ≤ 64 KB, so longer lines are not segments.</summary>
    public const int MaxLineBytes = 256 * 1024;

    private readonly IObjectStore _store;
    private readonly ServiceGraphOptions _options;
    private readonly IGraphSqlEngine? _sql;
    private readonly ILogger _logger;

    public ServiceGraphJob(IObjectStore store, ServiceGraphOptions options, IGraphSqlEngine? sql, ILogger logger)
    {
        _store = store;
        _options = options;
        _sql = sql;
        _logger = logger;
    }

    /// <summary>The previous full window before <paramref name="time"/>: windows are aligned to multiples of the window length since the epoch.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) PreviousWindow(DateTimeOffset time, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var end = DateTimeOffset.UnixEpoch.AddTicks(ticks - (ticks % window.Ticks));
        return (end - window, end);
    }

    public async Task<ServiceGraphOutputs> RunAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, GraphEngine? engineOverride = null, CancellationToken cancellationToken = default)
    {
        var objects = await ListAsync(windowStart, windowEnd, cancellationToken).ConfigureAwait(false);
        var engine = engineOverride ?? _options.Engine;
        if (engine == GraphEngine.Auto)
        {
            var estimate = objects.Sum(o => o.Size) / EstimatedCompressedBytesPerSegment;
            engine = estimate > _options.SqlThresholdSegments && _sql is not null ? GraphEngine.Sql : GraphEngine.Stream;
            _logger.LogInformation("service-graph auto: ~{Segments} segments estimated from {Objects} objects, engine {Engine}", estimate, objects.Count, engine);
        }

        Pipeline.Core.Graph.ServiceGraph graph;
        if (engine == GraphEngine.Sql)
        {
            var sql = _sql ?? throw new InvalidOperationException("the SQL engine was asked for but none is configured");
            var (columns, rows) = await sql.RunAsync(ServiceGraphSql.Bind(windowStart, windowEnd), cancellationToken).ConfigureAwait(false);
            graph = ServiceGraphSql.FromRows(windowStart, windowEnd, columns, rows);
        }
        else
        {
            var builder = new ServiceGraphBuilder(windowStart, windowEnd, _options.Builder);
            foreach (var o in objects)
            {
                var bytes = await _store.GetAsync(_options.ArchiveBucket, o.Key, cancellationToken).ConfigureAwait(false);
                if (bytes is not null)
                {
                    await FeedAsync(builder, bytes, o.Key, cancellationToken).ConfigureAwait(false);
                }
            }

            graph = builder.Build();
        }

        var previousStem = ServiceGraphJson.KeyStem(windowStart - (windowEnd - windowStart), windowStart);
        var previousBytes = await _store.GetAsync(_options.ArchiveBucket, previousStem + ".json", cancellationToken).ConfigureAwait(false);
        var previous = previousBytes is null ? null : ServiceGraphJson.TryDeserialize(previousBytes);
        var current = ServiceGraphJson.ToDocument(graph);
        var diff = GraphDiff.Compare(previous, current, previous is null ? null : previousStem + ".json", _options.Diff);
        var document = current with { Diff = diff };

        var stem = ServiceGraphJson.KeyStem(windowStart, windowEnd);
        var outputs = new ServiceGraphOutputs(stem + ".json", stem + ".svg", stem + ".dot", document, graph.Engine, objects.Count);
        await _store.PutAsync(_options.ArchiveBucket, outputs.JsonKey, ServiceGraphJson.Serialize(document), JsonContentType, cancellationToken).ConfigureAwait(false);
        await _store.PutAsync(_options.ArchiveBucket, outputs.SvgKey, Encoding.UTF8.GetBytes(GraphSvg.Render(document)), SvgContentType, cancellationToken).ConfigureAwait(false);
        await _store.PutAsync(_options.ArchiveBucket, outputs.DotKey, Encoding.UTF8.GetBytes(GraphText.Dot(document)), DotContentType, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation(
            "service-graph {Start}..{End}: {Nodes} nodes, {Edges} edges from {Objects} objects ({Engine}); wrote {Key}",
            ServiceGraphJson.Iso(windowStart), ServiceGraphJson.Iso(windowEnd), graph.Nodes.Count, graph.Edges.Count, objects.Count, graph.Engine, outputs.JsonKey);
        return outputs;
    }

    /// <summary>The <c>segments/dt=/hour=/</c> prefixes of every arrival hour from the window start to its end plus <see cref="ServiceGraphSql.ArrivalGrace"/>.</summary>
    public static IReadOnlyList<string> HourPrefixes(DateTimeOffset windowStart, DateTimeOffset windowEnd)
    {
        var prefixes = new List<string>();
        var hour = new DateTimeOffset(windowStart.UtcDateTime.Date.AddHours(windowStart.UtcDateTime.Hour), TimeSpan.Zero);
        for (var last = windowEnd + ServiceGraphSql.ArrivalGrace; hour < last; hour = hour.AddHours(1))
        {
            prefixes.Add(ArchiveKeys.SegmentsHourPrefix(hour));
        }

        return prefixes;
    }

    /// <summary>Archive objects of every arrival hour from the window start to its end plus the grace, in key order.</summary>
    private async Task<List<StoredObject>> ListAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken)
    {
        var objects = new List<StoredObject>();
        foreach (var prefix in HourPrefixes(windowStart, windowEnd))
        {
            var listed = await _store.ListAsync(_options.ArchiveBucket, prefix, MaxObjectsPerHour, cancellationToken).ConfigureAwait(false);
            if (listed.Count >= MaxObjectsPerHour)
            {
                _logger.LogWarning("service-graph: {Prefix} holds {Max} or more objects; only the first {Max} are read (use GRAPH_ENGINE=auto)", prefix, MaxObjectsPerHour, MaxObjectsPerHour);
            }

            objects.AddRange(listed);
        }

        objects.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return objects;
    }

    /// <summary>Gunzips one object (or reads it plain) and adds each NDJSON line; a line over <see cref="MaxLineBytes"/> is skipped as unparseable.</summary>
    internal static async Task FeedAsync(ServiceGraphBuilder builder, byte[] bytes, string key, CancellationToken cancellationToken)
    {
        await using var input = ArchiveObjects.OpenRead(bytes);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var filled = 0;
            var skipping = false;
            while (true)
            {
                if (filled == buffer.Length)
                {
                    if (buffer.Length >= MaxLineBytes)
                    {
                        // An overlong line: drop what we have and skip to its end.
                        skipping = true;
                        filled = 0;
                    }
                    else
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, filled).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                }

                var read = await input.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                var end = filled + read;
                var start = 0;
                for (var nl = Array.IndexOf(buffer, (byte)'\n', filled, read); nl >= 0; nl = Array.IndexOf(buffer, (byte)'\n', start, end - start))
                {
                    if (skipping)
                    {
                        builder.Counters.SkipUnparseable();
                        skipping = false;
                    }
                    else if (nl > start)
                    {
                        builder.AddDocument(buffer.AsMemory(start, nl - start));
                    }

                    start = nl + 1;
                }

                if (read == 0)
                {
                    if (end > start && !skipping)
                    {
                        builder.AddDocument(buffer.AsMemory(start, end - start));
                    }

                    break;
                }

                buffer.AsSpan(start, end - start).CopyTo(buffer);
                filled = end - start;
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{key}: {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
