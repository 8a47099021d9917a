using System.Globalization;
using DuckDB.NET.Data;
using Pipeline.Cli.Query;
using Pipeline.Core.Archive;
using Pipeline.Core.Query;
using Pipeline.Core.Traces;

namespace Pipeline.Cli.Trace;

/// <summary>What building one hour's search summary did.</summary>
internal sealed record SearchSummaryBuilt(string Key, int Objects, long SourceBytes, long Rows, long SummaryBytes);

/// <summary>
/// The per-hour search summaries (<see cref="SearchSummary"/>) of a local archive directory:
/// built with DuckDB from the hour's objects (the <c>segments</c> view's reader over exactly those
/// files, then <see cref="SearchSummary.Projection"/>), written to a temporary name and renamed
/// so that a reader never sees half a file; and read back (the objects a summary names).
/// </summary>
internal static class SearchSummaryFiles
{
    public const string SegmentsTable = "segments";

    /// <summary>The archive objects of an hour in the local copy, as (key, size); a mirror's in-flight <c>.part</c> copy is not one.</summary>
    public static IReadOnlyList<IndexedObject> Objects(string root, ArchiveHour hour)
    {
        var dir = Path.Combine(root, hour.Prefix);
        return Directory.Exists(dir)
            ? new DirectoryInfo(dir).EnumerateFiles()
                .Where(f => !f.Name.EndsWith(".part", StringComparison.Ordinal))
                .Select(f => new IndexedObject(hour.Prefix + f.Name, f.Length))
                .OrderBy(o => o.Key, StringComparer.Ordinal)
                .ToList()
            : [];
    }

    /// <summary>Builds (or rebuilds) the summary of <paramref name="hour"/> from its objects now.</summary>
    public static SearchSummaryBuilt Build(string root, IReadOnlyList<AthenaTableDefinition> tables, ArchiveHour hour)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var segments = tables.Single(t => t.Name == SegmentsTable);
        var objects = Objects(root, hour);
        if (objects.Count == 0)
        {
            throw new InvalidOperationException($"no segments under {hour.Prefix}");
        }

        var key = SearchSummary.Key(hour);
        var path = Path.Combine(root, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        long rows;
        using (var connection = new DuckDBConnection("Data Source=:memory:"))
        {
            connection.Open();
            var reader = DuckDbArchiveViews.ReaderOf(segments, objects.Select(o => Path.Combine(root, o.Key)));
            // Sorted by start time: a search's window then skips whole row groups.
            var select = $"SELECT {SearchSummary.Projection} FROM {reader} WHERE trace_id IS NOT NULL ORDER BY start_time, trace_id";
            var metadata = DuckDbArchiveViews.QuoteLiteral(SearchSummary.EncodeObjects(objects));
            try
            {
                using var command = connection.CreateCommand();
                command.CommandText = $"COPY ({select}) TO {DuckDbArchiveViews.QuoteLiteral(temp)} "
                    + $"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{DuckDbArchiveViews.QuoteLiteral(SearchSummary.ObjectsMetadataKey)}: {metadata}}})";
                rows = Convert.ToInt64(command.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
                File.Move(temp, path, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }
        }

        return new SearchSummaryBuilt(key, objects.Count, objects.Sum(o => o.Size), rows, new FileInfo(path).Length);
    }

    /// <summary>The objects the summary of <paramref name="hour"/> names; null when there is none or it cannot be read.</summary>
    public static IReadOnlyList<IndexedObject>? SummarizedObjects(DuckDBConnection connection, string root, ArchiveHour hour)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var path = Path.Combine(root, SearchSummary.Key(hour));
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT decode(value) FROM parquet_kv_metadata({DuckDbArchiveViews.QuoteLiteral(path)}) "
                + $"WHERE decode(key) = {DuckDbArchiveViews.QuoteLiteral(SearchSummary.ObjectsMetadataKey)}";
            return SearchSummary.DecodeObjects(command.ExecuteScalar() as string);
        }
        catch (DuckDBException)
        {
            // Not Parquet (truncated, overwritten by hand): the hour is read raw.
            return null;
        }
    }

    /// <summary>Whether the summary of <paramref name="hour"/> names exactly its objects now (nothing to rebuild).</summary>
    public static bool IsCurrent(DuckDBConnection connection, string root, ArchiveHour hour)
    {
        var summarized = SummarizedObjects(connection, root, hour);
        var listed = Objects(root, hour);
        return summarized is not null && summarized.Count == listed.Count && SearchSummary.Cover(summarized, listed) is { UseSummary: true, Raw.Count: 0 };
    }
}
