using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Core.Query;

/// <summary>
/// Builds the DuckDB views that stand in for the Athena tables over a local copy of the
/// archive (the bucket's keys laid out under one directory). Columns and types come from the
/// DDL, partition columns from the hive path, so the named queries see the same table names,
/// columns and types in both engines.
/// </summary>
public static partial class DuckDbArchiveViews
{
    /// <summary>
    /// The CREATE VIEW statement for <paramref name="table"/> over <paramref name="archiveRoot"/>.
    /// <paramref name="hasObjects"/> false gives an empty view with the same columns (DuckDB's
    /// readers fail on a glob that matches nothing; Athena just returns no rows).
    /// </summary>
    public static string CreateView(AthenaTableDefinition table, string archiveRoot, bool hasObjects)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(archiveRoot);
        var view = QuoteIdentifier(table.Name);
        if (!hasObjects)
        {
            var columns = table.Columns.Concat(table.PartitionKeys)
                .Select(c => $"CAST(NULL AS {c.Type.ToDuckDb()}) AS {QuoteIdentifier(c.Name)}");
            return $"CREATE OR REPLACE VIEW {view} AS SELECT {string.Join(", ", columns)} WHERE false";
        }

        var reader = Reader(table, QuoteLiteral(ObjectGlob(table, archiveRoot)));
        var select = string.Join(", ", table.Columns.Concat(table.PartitionKeys).Select(c => QuoteIdentifier(c.Name)));
        return $"CREATE OR REPLACE VIEW {view} AS SELECT {select} FROM {reader}";
    }

    /// <summary>
    /// The table function reading exactly <paramref name="files"/> (full paths under the archive
    /// root) the way the table's view reads its glob: same reader, options, column types and
    /// hive partition columns. Columns are the table's own (select them by name).
    /// </summary>
    public static string ReaderOf(AthenaTableDefinition table, IEnumerable<string> files)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(files);
        return Reader(table, "[" + string.Join(", ", files.Select(QuoteLiteral)) + "]");
    }

    /// <summary>
    /// The glob matching the table's objects: the projection's key template with each
    /// <c>${partition}</c> replaced by <c>*</c>, plus <c>*</c> for the object name.
    /// </summary>
    public static string ObjectGlob(AthenaTableDefinition table, string archiveRoot)
    {
        ArgumentNullException.ThrowIfNull(table);
        var keys = ProjectionVariable().Replace(table.KeyTemplate, "*");
        return archiveRoot.TrimEnd('/', '\\') + "/" + keys.TrimEnd('/') + "/*";
    }

    /// <summary>A double-quoted DuckDB identifier (quotes inside doubled).</summary>
    public static string QuoteIdentifier(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>A single-quoted SQL string literal (quotes inside doubled).</summary>
    public static string QuoteLiteral(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new StringBuilder("'").Append(value.Replace("'", "''", StringComparison.Ordinal)).Append('\'').ToString();
    }

    private static string Reader(AthenaTableDefinition table, string source)
    {
        var hiveTypes = "{" + string.Join(", ", table.PartitionKeys.Select(k => $"{QuoteLiteral(k.Name)}: {QuoteLiteral(k.Type.ToDuckDb())}")) + "}";
        var columnTypes = "{" + string.Join(", ", table.Columns.Select(c => $"{QuoteLiteral(c.Name)}: {QuoteLiteral(c.Type.ToDuckDb())}")) + "}";
        var partitionOptions = table.PartitionKeys.Count > 0 ? $", hive_partitioning = true, hive_types = {hiveTypes}" : string.Empty;
        return table.SerDe switch
        {
            // ignore_errors mirrors the SerDe's ignore.malformed.json: a bad line is skipped.
            AthenaTableDefinition.JsonSerDe =>
                $"read_json({source}, format = 'newline_delimited', compression = 'auto_detect', ignore_errors = true, columns = {columnTypes}{partitionOptions})",
            // LazySimpleSerDe's default field delimiter \001 never occurs in JSON text, so one
            // string column holds the whole line; read_csv with that delimiter does the same.
            AthenaTableDefinition.LineSerDe when table.Columns.Count == 1 =>
                $"read_csv({source}, columns = {columnTypes}, delim = E'\\x01', quote = '', escape = '', header = false, auto_detect = false, compression = 'auto'{partitionOptions})",
            AthenaTableDefinition.ParquetSerDe =>
                $"read_parquet({source}{partitionOptions})",
            _ => throw new SqlSyntaxException($"{table.Name}: no DuckDB reader for SerDe {table.SerDe} with {table.Columns.Count} column(s)"),
        };
    }

    [GeneratedRegex(@"\$\{\w+\}")]
    private static partial Regex ProjectionVariable();
}
