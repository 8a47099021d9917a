using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Core.Query;

/// <summary>
/// One athena/queries/*.sql file: Athena SQL with a header comment that says what it answers
/// and declares its parameters, one per line:
/// <code>-- param: name type [= default]</code>
/// where type is string, number or date and a date default may be <c>today</c> or
/// <c>today-N</c>. The body refers to a parameter as <c>:name</c> or <c>${name}</c>.
/// </summary>
public sealed partial record NamedQuery(string Name, string Description, string Sql, IReadOnlyList<QueryParameter> Parameters)
{
    /// <summary>Longest string parameter value accepted (an annotation value or trace id is far shorter).</summary>
    public const int MaxStringParameterLength = 1024;

    private const string ParamPrefix = "param:";

    /// <summary>Parses a named query file's text; <paramref name="name"/> is the file name without .sql.</summary>
    /// <exception cref="SqlSyntaxException">A malformed header or a placeholder that is not declared.</exception>
    public static NamedQuery Parse(string name, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var description = new List<string>();
        var parameters = new List<QueryParameter>();
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.Trim();
            if (!trimmed.StartsWith("--", StringComparison.Ordinal))
            {
                break;
            }

            var body = trimmed[2..].Trim();
            if (body.StartsWith(ParamPrefix, StringComparison.OrdinalIgnoreCase))
            {
                parameters.Add(ParseParameter(name, body[ParamPrefix.Length..].Trim()));
            }
            else if (parameters.Count == 0)
            {
                description.Add(body);
            }
        }

        if (description.Count == 0 || string.IsNullOrWhiteSpace(string.Join(' ', description)))
        {
            throw new SqlSyntaxException($"{name}: the header comment must say what the query answers");
        }

        var declared = parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var used in Placeholders(text))
        {
            if (!declared.Contains(used))
            {
                throw new SqlSyntaxException($"{name}: :{used} is used but not declared with -- param:");
            }
        }

        return new NamedQuery(name, string.Join(' ', description).Trim(), text, parameters);
    }

    /// <summary>An ad-hoc query: no header needed; every placeholder is a required string.</summary>
    public static NamedQuery AdHoc(string sql) =>
        new("adhoc", "ad-hoc query", sql, Placeholders(sql).Distinct(StringComparer.Ordinal)
            .Select(p => new QueryParameter(p, QueryParameterType.Text, null)).ToList());

    /// <summary>
    /// Substitutes every placeholder with a validated literal: strings quoted with ' doubled,
    /// numbers checked to be plain decimals, dates checked to be yyyy-MM-dd and quoted (the dt
    /// partition column is a string). Placeholders inside strings and comments are left alone.
    /// </summary>
    /// <param name="values">Values by parameter name; parameters not given take their default.</param>
    /// <param name="today">The UTC date that <c>today</c> defaults resolve against.</param>
    /// <exception cref="QueryParameterException">Unknown, missing or invalid parameter.</exception>
    public string Bind(IReadOnlyDictionary<string, string> values, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(values);
        var literals = ResolveLiterals(values, today);
        var sb = new StringBuilder();
        foreach (var token in SqlTokenizer.Tokenize(Sql))
        {
            sb.Append(token.Kind == SqlTokenKind.Parameter ? literals[SqlTokenizer.ParameterName(token)] : token.Text);
        }

        return sb.ToString();
    }

    /// <summary>The values each parameter takes for this call (given or default), unquoted.</summary>
    public IReadOnlyDictionary<string, string> ResolveValues(IReadOnlyDictionary<string, string> values, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckKnown(values);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in Parameters)
        {
            if (values.TryGetValue(p.Name, out var given))
            {
                result[p.Name] = given;
            }
            else if (p.Default is not null)
            {
                result[p.Name] = p.Type == QueryParameterType.Date ? ResolveDateDefault(p, today) : p.Default;
            }
        }

        return result;
    }

    private Dictionary<string, string> ResolveLiterals(IReadOnlyDictionary<string, string> values, DateOnly today)
    {
        var resolved = ResolveValues(values, today);
        var missing = Parameters.Where(p => !resolved.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        if (missing.Count > 0)
        {
            throw new QueryParameterException($"{Name}: missing parameter(s): {string.Join(", ", missing)} (pass --param name=value)");
        }

        return Parameters.ToDictionary(p => p.Name, p => Literal(p, resolved[p.Name]), StringComparer.Ordinal);
    }

    private void CheckKnown(IReadOnlyDictionary<string, string> values)
    {
        var unknown = values.Keys.Where(k => Parameters.All(p => p.Name != k)).ToList();
        if (unknown.Count > 0)
        {
            var known = Parameters.Count == 0 ? "none" : string.Join(", ", Parameters.Select(p => p.Name));
            throw new QueryParameterException($"{Name}: unknown parameter(s): {string.Join(", ", unknown)} (known: {known})");
        }
    }

    private static string Literal(QueryParameter p, string value)
    {
        switch (p.Type)
        {
            case QueryParameterType.Number:
                if (!NumberPattern().IsMatch(value))
                {
                    throw new QueryParameterException($"{p.Name}: '{value}' is not a number");
                }

                return value;
            case QueryParameterType.Date:
                if (!DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                {
                    throw new QueryParameterException($"{p.Name}: '{value}' is not a yyyy-MM-dd date");
                }

                return $"'{value}'";
            default:
                if (value.Length > MaxStringParameterLength)
                {
                    throw new QueryParameterException($"{p.Name}: longer than {MaxStringParameterLength} characters");
                }

                if (value.Any(char.IsControl))
                {
                    throw new QueryParameterException($"{p.Name}: control characters are not allowed");
                }

                return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
        }
    }

    private static string ResolveDateDefault(QueryParameter p, DateOnly today)
    {
        var m = TodayPattern().Match(p.Default!);
        if (!m.Success)
        {
            return p.Default!;
        }

        var days = m.Groups[1].Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return today.AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    private static QueryParameter ParseParameter(string query, string declaration)
    {
        var m = ParamPattern().Match(declaration);
        if (!m.Success)
        {
            throw new SqlSyntaxException($"{query}: bad parameter declaration '{declaration}' (want: name string|number|date [= default])");
        }

        var type = m.Groups[2].Value.ToUpperInvariant() switch
        {
            "NUMBER" => QueryParameterType.Number,
            "DATE" => QueryParameterType.Date,
            _ => QueryParameterType.Text,
        };
        var parameter = new QueryParameter(m.Groups[1].Value, type, m.Groups[3].Success ? m.Groups[3].Value.Trim() : null);
        if (parameter.Default is { } d)
        {
            // Fail at load time, not when a user first omits the parameter.
            _ = Literal(parameter, type == QueryParameterType.Date ? ResolveDateDefault(parameter, DateOnly.MinValue.AddYears(100)) : d);
        }

        return parameter;
    }

    private static IEnumerable<string> Placeholders(string sql) =>
        SqlTokenizer.Tokenize(sql).Where(t => t.Kind == SqlTokenKind.Parameter).Select(SqlTokenizer.ParameterName);

    [GeneratedRegex(@"^-?[0-9]{1,18}(\.[0-9]{1,9})?$")]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"^today(?:([+-][0-9]{1,4}))?$")]
    private static partial Regex TodayPattern();

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_]*)\s+(string|number|date)(?:\s*=\s*(\S+))?$", RegexOptions.IgnoreCase)]
    private static partial Regex ParamPattern();
}

public sealed record QueryParameter(string Name, QueryParameterType Type, string? Default);

/// <summary>Declared in the header as string, number or date.</summary>
public enum QueryParameterType
{
    Text,
    Number,
    Date,
}

/// <summary>A parameter value that is unknown, missing or fails its type's validation.</summary>
public sealed class QueryParameterException : Exception
{
    public QueryParameterException(string message)
        : base(message)
    {
    }

    public QueryParameterException()
    {
    }

    public QueryParameterException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
