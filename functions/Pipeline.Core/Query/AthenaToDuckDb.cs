using System.Text;

namespace Pipeline.Core.Query;

/// <summary>
/// Translates Athena (Trino/Presto) SQL to DuckDB SQL. The .sql files under athena/ are the
/// single source of truth in Athena's dialect; this is the one place that knows where the two
/// engines differ. Only function calls are rewritten (by name, outside strings and comments);
/// everything else the two dialects share, including <c>CROSS JOIN UNNEST(x) AS t(y)</c>,
/// <c>date_trunc</c> and struct field access, passes through unchanged.
/// </summary>
public static class AthenaToDuckDb
{
    private static readonly Dictionary<string, Func<IReadOnlyList<string>, string>> Rules =
        new(StringComparer.OrdinalIgnoreCase)
        {
            // Athena's is an approximation that returns a value present in the data; DuckDB's
            // exact discrete quantile does the same and is deterministic (tests need that).
            ["approx_percentile"] = a => Call("quantile_disc", a, 2),
            // DuckDB's count_if is NULL over a group whose values are all NULL; Athena's is 0.
            ["count_if"] = a => $"count(CASE WHEN {Arg(a, 1, 0)} THEN 1 END)",
            ["approx_distinct"] = a => Call("approx_count_distinct", a, 1),
            // Athena: timestamp (UTC, no zone). to_timestamp would give TIMESTAMPTZ rendered in
            // the session zone, so build a plain TIMESTAMP from microseconds instead.
            ["from_unixtime"] = a => $"make_timestamp(CAST(round(({Arg(a, 1, 0)}) * 1000000) AS BIGINT))",
            ["to_unixtime"] = a => Call("epoch", a, 1),
            ["from_iso8601_timestamp"] = a => $"CAST({Arg(a, 1, 0)} AS TIMESTAMPTZ)",
            ["date_format"] = a => $"strftime({Arg(a, 2, 0)}, {StrftimeFormat(a[1])})",
            // Athena returns NULL for text that is not JSON; DuckDB raises, so wrap in try().
            ["json_extract_scalar"] = a => $"try({Call("json_extract_string", a, 2)})",
            ["json_extract"] = a => $"try({Call("json_extract", a, 2)})",
            ["json_parse"] = a => Call("json", a, 1),
            // Athena's from_base64 gives varbinary and from_utf8 decodes it; DuckDB's decode
            // turns a BLOB into VARCHAR (from_base64 is the same in both).
            ["from_utf8"] = a => Call("decode", a, 1),
            ["json_format"] = a => $"CAST({Arg(a, 1, 0)} AS VARCHAR)",
            // DuckDB's element_at on a map returns a list; subscript returns the value (NULL
            // when missing), for maps and for 1-based arrays alike, as Athena's element_at does.
            ["element_at"] = a => $"({Arg(a, 2, 0)})[{a[1]}]",
            // Arrays only: DuckDB's cardinality takes maps only. For a map write
            // cardinality(map_keys(m)), which both engines accept.
            ["cardinality"] = a => Call("len", a, 1),
            ["array_join"] = a => Call("array_to_string", a, 2),
            ["regexp_like"] = a => Call("regexp_matches", a, 2),
        };

    /// <summary>MySQL-style specifiers (Athena date_format) to strftime (DuckDB).</summary>
    private static readonly Dictionary<char, string> DateFormatSpecifiers = new()
    {
        ['a'] = "%a", ['b'] = "%b", ['c'] = "%-m", ['d'] = "%d", ['e'] = "%-d", ['f'] = "%f",
        ['H'] = "%H", ['h'] = "%I", ['I'] = "%I", ['i'] = "%M", ['j'] = "%j", ['k'] = "%-H",
        ['l'] = "%-I", ['M'] = "%B", ['m'] = "%m", ['p'] = "%p", ['r'] = "%I:%M:%S %p",
        ['S'] = "%S", ['s'] = "%S", ['T'] = "%H:%M:%S", ['W'] = "%A", ['Y'] = "%Y", ['y'] = "%y",
        ['%'] = "%%",
    };

    /// <summary>The Athena function names this translator rewrites (documentation and tests).</summary>
    public static IReadOnlyCollection<string> RewrittenFunctions => Rules.Keys;

    /// <summary>Returns <paramref name="athenaSql"/> as DuckDB SQL.</summary>
    /// <exception cref="SqlSyntaxException">Unbalanced text, a rewritten function with the
    /// wrong argument count, or a date_format pattern DuckDB cannot express.</exception>
    public static string Translate(string athenaSql)
    {
        var tokens = SqlTokenizer.Tokenize(athenaSql);
        return Rewrite(tokens, 0, tokens.Count);
    }

    private static string Rewrite(List<SqlToken> tokens, int start, int end)
    {
        var sb = new StringBuilder();
        var i = start;
        while (i < end)
        {
            var token = tokens[i];
            if (token.Kind == SqlTokenKind.Identifier
                && Rules.TryGetValue(token.Text, out var rule)
                && !PrecededByDot(tokens, i, start)
                && NextSignificant(tokens, i + 1, end) is var open && open >= 0 && tokens[open].Is("("))
            {
                var close = MatchingParen(tokens, open, end);
                var args = SplitArguments(tokens, open + 1, close)
                    .Select(r => Rewrite(tokens, r.Start, r.End).Trim())
                    .ToList();
                if (args is [""])
                {
                    args.Clear();
                }

                sb.Append(rule(args));
                i = close + 1;
                continue;
            }

            sb.Append(token.Text);
            i++;
        }

        return sb.ToString();
    }

    private static string Call(string name, IReadOnlyList<string> args, int arity)
    {
        if (args.Count != arity)
        {
            throw new SqlSyntaxException($"{name}: expected {arity} argument(s), got {args.Count}");
        }

        return $"{name}({string.Join(", ", args)})";
    }

    private static string Arg(IReadOnlyList<string> args, int arity, int index) =>
        args.Count == arity ? args[index] : throw new SqlSyntaxException($"expected {arity} argument(s), got {args.Count}");

    private static string StrftimeFormat(string literal)
    {
        if (literal.Length < 2 || literal[0] != '\'' || literal[^1] != '\'')
        {
            throw new SqlSyntaxException("date_format: the format must be a string literal to translate it");
        }

        var body = literal[1..^1];
        var sb = new StringBuilder("'");
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] != '%')
            {
                sb.Append(body[i]);
                continue;
            }

            if (i + 1 >= body.Length || !DateFormatSpecifiers.TryGetValue(body[i + 1], out var mapped))
            {
                var spec = i + 1 < body.Length ? body[i + 1].ToString() : string.Empty;
                throw new SqlSyntaxException($"date_format: specifier %{spec} has no DuckDB equivalent here");
            }

            sb.Append(mapped);
            i++;
        }

        return sb.Append('\'').ToString();
    }

    private static bool PrecededByDot(List<SqlToken> tokens, int i, int start)
    {
        for (var j = i - 1; j >= start; j--)
        {
            if (!tokens[j].IsTrivia)
            {
                return tokens[j].Is(".");
            }
        }

        return false;
    }

    private static int NextSignificant(List<SqlToken> tokens, int i, int end)
    {
        for (; i < end; i++)
        {
            if (!tokens[i].IsTrivia)
            {
                return i;
            }
        }

        return -1;
    }

    private static int MatchingParen(List<SqlToken> tokens, int open, int end)
    {
        var depth = 0;
        for (var i = open; i < end; i++)
        {
            if (tokens[i].Is("("))
            {
                depth++;
            }
            else if (tokens[i].Is(")") && --depth == 0)
            {
                return i;
            }
        }

        throw new SqlSyntaxException("unbalanced parentheses");
    }

    private static List<(int Start, int End)> SplitArguments(List<SqlToken> tokens, int start, int end)
    {
        var result = new List<(int, int)>();
        var depth = 0;
        var argStart = start;
        for (var i = start; i < end; i++)
        {
            if (tokens[i].Is("(") || tokens[i].Is("["))
            {
                depth++;
            }
            else if (tokens[i].Is(")") || tokens[i].Is("]"))
            {
                depth--;
            }
            else if (depth == 0 && tokens[i].Is(","))
            {
                result.Add((argStart, i));
                argStart = i + 1;
            }
        }

        result.Add((argStart, end));
        return result;
    }
}
