using System.Globalization;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Pipeline.Core.Query;

namespace Pipeline.Cli.Query;

/// <summary>
/// Compacts hours of a local archive copy from gzip NDJSON (<c>segments</c>) into Parquet
/// (<c>segments_parquet</c>) with DuckDB, and estimates the bytes Athena would scan for each
/// named query on either format: a text object is read whole; a Parquet object only for the
/// column chunks of the columns a query names, plus its footer.
/// </summary>
internal static partial class ParquetCompactor
{
    public const string SourceTable = "segments";
    public const string TargetTable = "segments_parquet";

    public static CompactedHour Compact(string archiveRoot, IReadOnlyList<AthenaTableDefinition> tables, string dt, string hour)
    {
        var source = tables.Single(t => t.Name == SourceTable);
        var target = tables.Single(t => t.Name == TargetTable);
        var key = ParquetCompaction.ObjectKey(target, dt, hour);
        var output = Path.Combine(archiveRoot, key);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        using (var connection = DuckDbQueryRunner.OpenWithViews(archiveRoot, [source]))
        {
            DuckDbQueryRunner.Execute(connection, ParquetCompaction.CopyStatement(source, target, dt, hour, output));
        }

        var rows = DuckDbQueryRunner.Run($"SELECT count(*) FROM {SourceTable} WHERE dt = {DuckDbArchiveViews.QuoteLiteral(dt)} AND hour = {DuckDbArchiveViews.QuoteLiteral(hour)}", archiveRoot, [source], 1).Rows[0][0];
        return new CompactedHour(key, long.Parse(rows!, CultureInfo.InvariantCulture), SourceBytes(archiveRoot, source, dt, hour), new FileInfo(output).Length);
    }

    /// <summary>The hours (HH) of <paramref name="dt"/> that have NDJSON objects in the local copy.</summary>
    public static IReadOnlyList<string> Hours(string archiveRoot, IReadOnlyList<AthenaTableDefinition> tables, string dt)
    {
        var source = tables.Single(t => t.Name == SourceTable);
        var day = Path.Combine(archiveRoot, source.KeyPrefix, $"dt={dt}");
        return Directory.Exists(day)
            ? Directory.GetDirectories(day, "hour=*").Select(d => Path.GetFileName(d)["hour=".Length..]).Order(StringComparer.Ordinal).ToList()
            : [];
    }

    /// <summary>Bytes scanned per named query over <paramref name="hour"/> on either format.</summary>
    public static QueryResult EstimateScans(string archiveRoot, IReadOnlyList<AthenaTableDefinition> tables, IEnumerable<NamedQuery> queries, CompactedHour hour)
    {
        var source = tables.Single(t => t.Name == SourceTable);
        var parquetPath = Path.Combine(archiveRoot, hour.ParquetKey);
        var chunks = ColumnChunkBytes(parquetPath);
        var overhead = new FileInfo(parquetPath).Length - chunks.Values.Sum();
        var rows = new List<IReadOnlyList<string?>>();
        foreach (var query in queries)
        {
            // Upper bound: any column name outside comments and string literals counts as read
            // (an alias that happens to be a column name too); row-group skipping is ignored.
            var sql = StringLiteral().Replace(CommentLine().Replace(query.Sql, string.Empty), "''");
            if (!Word(sql, SourceTable))
            {
                continue;
            }

            var named = source.Columns.Where(c => Word(sql, c.Name)).Select(c => c.Name).ToList();
            var parquet = overhead + named.Sum(c => chunks.GetValueOrDefault(c));
            rows.Add([
                query.Name,
                hour.NdjsonBytes.ToString(CultureInfo.InvariantCulture),
                parquet.ToString(CultureInfo.InvariantCulture),
                (100.0 * parquet / Math.Max(1, hour.NdjsonBytes)).ToString("0.0", CultureInfo.InvariantCulture),
                string.Join(' ', named),
            ]);
        }

        return new QueryResult(["query", "ndjson_gz_bytes", "parquet_bytes", "parquet_pct", "columns_read"], rows, Truncated: false);
    }

    /// <summary>Compressed bytes of each top-level column's chunks (all row groups).</summary>
    internal static Dictionary<string, long> ColumnChunkBytes(string parquetPath)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT path_in_schema, total_compressed_size FROM parquet_metadata({DuckDbArchiveViews.QuoteLiteral(parquetPath)})";
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        while (reader.Read())
        {
            // path_in_schema is "http, request, url": the first part is the table column.
            var column = reader.GetString(0).Split(", ")[0];
            result[column] = result.GetValueOrDefault(column) + reader.GetInt64(1);
        }

        return result;
    }

    private static long SourceBytes(string archiveRoot, AthenaTableDefinition source, string dt, string hour)
    {
        var dir = Path.Combine(archiveRoot, source.KeyPrefix, $"dt={dt}", $"hour={hour}");
        return Directory.Exists(dir) ? Directory.EnumerateFiles(dir).Sum(f => new FileInfo(f).Length) : 0;
    }

    private static bool Word(string sql, string word) =>
        Regex.IsMatch(sql, $@"(?<![A-Za-z0-9_]){Regex.Escape(word)}(?![A-Za-z0-9_])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    [GeneratedRegex(@"--[^\n]*")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"'(?:[^']|'')*'")]
    private static partial Regex StringLiteral();
}

/// <param name="ParquetKey">Key of the Parquet object, relative to the archive root.</param>
/// <param name="NdjsonBytes">Bytes of the hour's gzip NDJSON objects (what Athena scans for any query).</param>
internal sealed record CompactedHour(string ParquetKey, long Rows, long NdjsonBytes, long ParquetBytes);
