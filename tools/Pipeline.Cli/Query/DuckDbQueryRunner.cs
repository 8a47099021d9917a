using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Pipeline.Core.Query;

namespace Pipeline.Cli.Query;

/// <summary>
/// Runs Athena-dialect SQL with DuckDB over a local copy of the archive: one view per Athena
/// table (from the DDL), the SQL translated once by <see cref="AthenaToDuckDb"/>, every cell
/// rendered as text the way Athena's GetQueryResults returns it.
/// </summary>
internal static class DuckDbQueryRunner
{
    public static QueryResult Run(string athenaSql, string archiveRoot, IReadOnlyList<AthenaTableDefinition> tables, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRows);
        var duckSql = AthenaToDuckDb.Translate(athenaSql);
        using var connection = OpenWithViews(archiveRoot, tables);
        return Read(connection, duckSql, maxRows);
    }

    /// <summary>Runs DuckDB SQL (already translated) on an open connection, cells rendered as <see cref="Run"/> does.</summary>
    public static QueryResult Read(DuckDBConnection connection, string duckSql, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = duckSql;
        using var reader = command.ExecuteReader();
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<IReadOnlyList<string?>>();
        var truncated = false;
        while (reader.Read())
        {
            if (rows.Count == maxRows)
            {
                truncated = true;
                break;
            }

            var row = new string?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : Render(reader.GetValue(i));
            }

            rows.Add(row);
        }

        return new QueryResult(columns, rows, truncated);
    }

    /// <summary>An in-memory DuckDB with one view per Athena table over <paramref name="archiveRoot"/>.</summary>
    public static DuckDBConnection OpenWithViews(string archiveRoot, IReadOnlyList<AthenaTableDefinition> tables)
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        try
        {
            connection.Open();
            foreach (var table in tables)
            {
                Execute(connection, DuckDbArchiveViews.CreateView(table, archiveRoot, HasObjects(table, archiveRoot)));
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Whether any object exists under the table's key prefix in the local copy.</summary>
    private static bool HasObjects(AthenaTableDefinition table, string archiveRoot)
    {
        var prefix = Path.Combine(archiveRoot, table.KeyPrefix);
        return Directory.Exists(prefix) && Directory.EnumerateFiles(prefix, "*", SearchOption.AllDirectories).Any();
    }

    /// <summary>Text for one cell: numbers invariant, timestamps as Athena prints them, nested values as JSON.</summary>
    internal static string Render(object value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        IDictionary or IList => RenderJson(value),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static string RenderJson(object value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteJson(writer, value, depth: 0);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteJson(Utf8JsonWriter writer, object? value, int depth)
    {
        // Hive types cannot recurse, so real nesting is shallow; the bound guards odd input.
        const int MaxDepth = 32;
        if (depth > MaxDepth)
        {
            throw new InvalidOperationException("value nested too deeply to render");
        }

        switch (value)
        {
            case null or DBNull:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case double or float or decimal or int or long or short or byte or sbyte or uint or ulong or ushort or BigInteger:
                writer.WriteRawValue(Render(value));
                break;
            case IDictionary map:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in map)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                    WriteJson(writer, entry.Value, depth + 1);
                }

                writer.WriteEndObject();
                break;
            case IList list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    WriteJson(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Render(value));
                break;
        }
    }
}
