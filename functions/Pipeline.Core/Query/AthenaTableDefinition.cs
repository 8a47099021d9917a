using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Core.Query;

/// <summary>
/// A parsed athena/tables/*.sql file, in the restricted form those files use (one
/// CREATE EXTERNAL TABLE with Hive types, PARTITIONED BY, ROW FORMAT SERDE, optional
/// WITH SERDEPROPERTIES, STORED AS INPUTFORMAT/OUTPUTFORMAT, LOCATION, TBLPROPERTIES). It is the
/// one parser of the DDL: the DuckDB views and the Glue tables of athena/template-athena.yaml
/// (<see cref="AthenaTemplate"/>) are both derived from it, so the DDL is the one schema of both
/// engines and of the deployed catalog.
/// </summary>
public sealed partial record AthenaTableDefinition(
    string Name,
    IReadOnlyList<TableColumn> Columns,
    IReadOnlyList<TableColumn> PartitionKeys,
    string SerDe,
    string Location,
    IReadOnlyDictionary<string, string> Properties)
{
    /// <summary>STORED AS INPUTFORMAT '…' (empty when the file names none).</summary>
    public string InputFormat { get; init; } = "";

    /// <summary>STORED AS … OUTPUTFORMAT '…' (empty when the file names none).</summary>
    public string OutputFormat { get; init; } = "";

    /// <summary>TBLPROPERTIES in the order the file writes them.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> OrderedProperties { get; init; } = [];

    /// <summary>WITH SERDEPROPERTIES in the order the file writes them.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> SerDeProperties { get; init; } = [];

    /// <summary>org.openx.data.jsonserde.JsonSerDe: one JSON document per line, fields by name.</summary>
    public const string JsonSerDe = "org.openx.data.jsonserde.JsonSerDe";

    /// <summary>LazySimpleSerDe: delimited text; with one string column, the whole line.</summary>
    public const string LineSerDe = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe";

    /// <summary>ParquetHiveSerDe: Parquet files, columns by name.</summary>
    public const string ParquetSerDe = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";

    /// <summary>Partition projection's key template (Athena docs: "storage.location.template").</summary>
    public const string LocationTemplateProperty = "storage.location.template";

    /// <summary>The projection's key layout relative to the bucket, e.g. <c>segments/dt=${dt}/hour=${hour}/</c>.</summary>
    public string KeyTemplate =>
        Properties.TryGetValue(LocationTemplateProperty, out var t) ? StripBucket(t) : StripBucket(Location) + string.Concat(PartitionKeys.Select(k => $"{k.Name}=${{{k.Name}}}/"));

    /// <summary>The key prefix under which the table's objects live, e.g. <c>segments/</c>.</summary>
    public string KeyPrefix => StripBucket(Location);

    public static AthenaTableDefinition Parse(string ddl)
    {
        ArgumentNullException.ThrowIfNull(ddl);
        var sql = string.Join('\n', ddl.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)));
        var create = CreatePattern().Match(sql);
        if (!create.Success)
        {
            throw new SqlSyntaxException("no CREATE EXTERNAL TABLE IF NOT EXISTS <name> (");
        }

        var (body, after) = Balanced(sql, create.Index + create.Length - 1);
        var rest = sql[after..];
        var partitioned = PartitionedPattern().Match(rest);
        var partitions = partitioned.Success ? ParseColumns(Balanced(rest, partitioned.Index + partitioned.Length - 1).Body) : [];
        var properties = PropertiesOf(rest, TblPropertiesPattern());
        var serDeProperties = PropertiesOf(rest, SerDePropertiesPattern());
        return new AthenaTableDefinition(
            create.Groups[1].Value,
            ParseColumns(body),
            partitions,
            Required(SerDePattern().Match(rest), "ROW FORMAT SERDE"),
            Required(LocationPattern().Match(rest), "LOCATION"),
            properties.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal))
        {
            InputFormat = InputFormatPattern().Match(rest) is { Success: true } input ? input.Groups[1].Value : "",
            OutputFormat = OutputFormatPattern().Match(rest) is { Success: true } output ? output.Groups[1].Value : "",
            OrderedProperties = properties,
            SerDeProperties = serDeProperties,
        };
    }

    /// <summary>The <c>'key' = 'value'</c> list after <paramref name="opening"/> (a keyword and its parenthesis), in order; empty when absent.</summary>
    private static List<KeyValuePair<string, string>> PropertiesOf(string rest, Regex opening)
    {
        var result = new List<KeyValuePair<string, string>>();
        var match = opening.Match(rest);
        if (!match.Success)
        {
            return result;
        }

        foreach (var part in SplitTopLevel(Balanced(rest, match.Index + match.Length - 1).Body))
        {
            var kv = PropertyPattern().Match(part.Trim());
            if (!kv.Success)
            {
                throw new SqlSyntaxException($"property not in 'key' = 'value' form: {part.Trim()}");
            }

            if (result.Exists(p => p.Key == kv.Groups[1].Value))
            {
                throw new SqlSyntaxException($"property '{kv.Groups[1].Value}' given twice");
            }

            result.Add(new(kv.Groups[1].Value, kv.Groups[2].Value));
        }

        return result;
    }

    private static string StripBucket(string s3Uri)
    {
        var m = S3UriPattern().Match(s3Uri);
        return m.Success ? m.Groups[1].Value : throw new SqlSyntaxException($"not an s3:// location: {s3Uri}");
    }

    private static string Required(Match m, string what) =>
        m.Success ? m.Groups[1].Value : throw new SqlSyntaxException($"missing {what}");

    private static List<TableColumn> ParseColumns(string body) =>
        SplitTopLevel(body).Select(part =>
        {
            var trimmed = part.Trim();
            var space = trimmed.IndexOfAny([' ', '\t', '\n', '\r']);
            if (space < 0)
            {
                throw new SqlSyntaxException($"column without a type: {trimmed}");
            }

            return new TableColumn(trimmed[..space].Trim('`'), HiveType.Parse(trimmed[space..]));
        }).ToList();

    private static (string Body, int After) Balanced(string text, int open)
    {
        var depth = 0;
        var inQuote = false;
        for (var i = open; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\'')
            {
                inQuote = !inQuote;
            }
            else if (!inQuote && c == '(')
            {
                depth++;
            }
            else if (!inQuote && c == ')' && --depth == 0)
            {
                return (text[(open + 1)..i], i + 1);
            }
        }

        throw new SqlSyntaxException("unbalanced parenthesis");
    }

    internal static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        var depth = 0;
        var inQuote = false;
        var current = new StringBuilder();
        foreach (var c in text)
        {
            if (c == '\'')
            {
                inQuote = !inQuote;
            }
            else if (!inQuote && c is '(' or '<')
            {
                depth++;
            }
            else if (!inQuote && c is ')' or '>')
            {
                depth--;
            }

            if (!inQuote && depth == 0 && c == ',')
            {
                parts.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.ToString().Trim().Length > 0)
        {
            parts.Add(current.ToString());
        }

        return parts;
    }

    [GeneratedRegex(@"CREATE\s+EXTERNAL\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(\w+)\s*\(", RegexOptions.IgnoreCase)]
    private static partial Regex CreatePattern();

    [GeneratedRegex(@"PARTITIONED\s+BY\s*\(", RegexOptions.IgnoreCase)]
    private static partial Regex PartitionedPattern();

    [GeneratedRegex(@"TBLPROPERTIES\s*\(", RegexOptions.IgnoreCase)]
    private static partial Regex TblPropertiesPattern();

    [GeneratedRegex(@"WITH\s+SERDEPROPERTIES\s*\(", RegexOptions.IgnoreCase)]
    private static partial Regex SerDePropertiesPattern();

    [GeneratedRegex(@"INPUTFORMAT\s+'([^']+)'", RegexOptions.IgnoreCase)]
    private static partial Regex InputFormatPattern();

    [GeneratedRegex(@"OUTPUTFORMAT\s+'([^']+)'", RegexOptions.IgnoreCase)]
    private static partial Regex OutputFormatPattern();

    [GeneratedRegex(@"^'([^']*)'\s*=\s*'([^']*)'$")]
    private static partial Regex PropertyPattern();

    [GeneratedRegex(@"ROW\s+FORMAT\s+SERDE\s+'([^']+)'", RegexOptions.IgnoreCase)]
    private static partial Regex SerDePattern();

    [GeneratedRegex(@"LOCATION\s+'([^']+)'", RegexOptions.IgnoreCase)]
    private static partial Regex LocationPattern();

    [GeneratedRegex(@"^s3://[^/]+/(.*)$")]
    private static partial Regex S3UriPattern();
}

public sealed record TableColumn(string Name, HiveType Type);

/// <summary>A Hive column type: a primitive (string, double, ...) or struct/array/map of them.</summary>
public sealed record HiveType(string Kind, IReadOnlyList<TableColumn> Fields, IReadOnlyList<HiveType> Arguments)
{
    /// <summary>The type as the DDL writes it, without whitespace (what Glue's column type takes).</summary>
    public string Text { get; init; } = "";

    private static readonly Dictionary<string, string> DuckDbPrimitives = new(StringComparer.OrdinalIgnoreCase)
    {
        ["string"] = "VARCHAR",
        ["varchar"] = "VARCHAR",
        ["double"] = "DOUBLE",
        ["float"] = "FLOAT",
        ["boolean"] = "BOOLEAN",
        ["tinyint"] = "TINYINT",
        ["smallint"] = "SMALLINT",
        ["int"] = "INTEGER",
        ["integer"] = "INTEGER",
        ["bigint"] = "BIGINT",
        ["timestamp"] = "TIMESTAMP",
        ["date"] = "DATE",
    };

    public static HiveType Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        var lt = t.IndexOf('<', StringComparison.Ordinal);
        if (lt < 0)
        {
            return DuckDbPrimitives.ContainsKey(t)
                ? new HiveType(t.ToLowerInvariant(), [], []) { Text = t }
                : throw new SqlSyntaxException($"unsupported Hive type '{t}'");
        }

        if (t[^1] != '>')
        {
            throw new SqlSyntaxException($"malformed Hive type '{t}'");
        }

        var kind = t[..lt].ToLowerInvariant();
        var inner = AthenaTableDefinition.SplitTopLevel(t[(lt + 1)..^1]);
        var parsed = kind switch
        {
            "array" when inner.Count == 1 => new HiveType(kind, [], [Parse(inner[0])]),
            "map" when inner.Count == 2 => new HiveType(kind, [], [Parse(inner[0]), Parse(inner[1])]),
            "struct" => new HiveType(kind, inner.Select(f =>
            {
                var colon = f.IndexOf(':', StringComparison.Ordinal);
                return colon > 0
                    ? new TableColumn(f[..colon].Trim('`'), Parse(f[(colon + 1)..]))
                    : throw new SqlSyntaxException($"struct field without a type: {f}");
            }).ToList(), []),
            _ => throw new SqlSyntaxException($"malformed Hive type '{t}'"),
        };
        return parsed with { Text = t };
    }

    /// <summary>The DuckDB type with the same shape, e.g. <c>STRUCT("a" VARCHAR)[]</c>.</summary>
    public string ToDuckDb() => Kind switch
    {
        "array" => Arguments[0].ToDuckDb() + "[]",
        "map" => $"MAP({Arguments[0].ToDuckDb()}, {Arguments[1].ToDuckDb()})",
        "struct" => "STRUCT(" + string.Join(", ", Fields.Select(f => $"{DuckDbArchiveViews.QuoteIdentifier(f.Name)} {f.Type.ToDuckDb()}")) + ")",
        _ => DuckDbPrimitives[Kind],
    };
}
