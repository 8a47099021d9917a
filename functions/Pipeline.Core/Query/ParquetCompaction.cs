using System.Globalization;

namespace Pipeline.Core.Query;

/// <summary>
/// Compaction of one hour of the gzip NDJSON archive into one Parquet object with the same
/// columns (the DDL of <c>segments</c> and <c>segments_parquet</c>), written by DuckDB. The
/// object name is fixed per hour, so rerunning an hour (late segments arrived) rewrites it whole
/// instead of adding a duplicate.
/// </summary>
public static class ParquetCompaction
{
    public const string ObjectName = "part-00000.parquet";

    /// <summary>The object key of an hour's Parquet file, e.g. <c>segments_parquet/dt=2026-11-25/hour=07/part-00000.parquet</c>.</summary>
    public static string ObjectKey(AthenaTableDefinition target, string dt, string hour)
    {
        ArgumentNullException.ThrowIfNull(target);
        Validate(dt, hour);
        return target.KeyTemplate.Replace("${dt}", dt, StringComparison.Ordinal).Replace("${hour}", hour, StringComparison.Ordinal) + ObjectName;
    }

    /// <summary>
    /// The DuckDB COPY that writes <paramref name="source"/>'s rows of one hour (read through its
    /// view) to <paramref name="outputPath"/> with <paramref name="target"/>'s columns.
    /// </summary>
    public static string CopyStatement(AthenaTableDefinition source, AthenaTableDefinition target, string dt, string hour, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        Validate(dt, hour);
        var sourceColumns = source.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var missing = target.Columns.Where(c => !sourceColumns.Contains(c.Name)).Select(c => c.Name).ToList();
        if (missing.Count > 0)
        {
            throw new SqlSyntaxException($"{target.Name} has columns {source.Name} lacks: {string.Join(", ", missing)}");
        }

        var columns = string.Join(", ", target.Columns.Select(c => DuckDbArchiveViews.QuoteIdentifier(c.Name)));
        return $"COPY (SELECT {columns} FROM {DuckDbArchiveViews.QuoteIdentifier(source.Name)} " +
            $"WHERE \"dt\" = {DuckDbArchiveViews.QuoteLiteral(dt)} AND \"hour\" = {DuckDbArchiveViews.QuoteLiteral(hour)}) " +
            $"TO {DuckDbArchiveViews.QuoteLiteral(outputPath)} (FORMAT PARQUET, COMPRESSION ZSTD)";
    }

    private static void Validate(string dt, string hour)
    {
        if (!DateOnly.TryParseExact(dt, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            throw new ArgumentException($"dt '{dt}' is not yyyy-MM-dd", nameof(dt));
        }

        if (hour.Length != 2 || !int.TryParse(hour, NumberStyles.None, CultureInfo.InvariantCulture, out var h) || h > 23)
        {
            throw new ArgumentException($"hour '{hour}' is not 00-23", nameof(hour));
        }
    }
}
