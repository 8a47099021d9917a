using System.Globalization;
using System.Text;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Traces;

/// <summary>
/// A search for traces in a time window, as the UI's search form and its deep links
/// (<c>/search?…</c>) carry it. Every filter is about the trace: it passes through the service,
/// it has a fault, its duration (first start to last end) is in range, some segment of it has the
/// HTTP method, status or URL, or the annotation. Values are checked here, once, so the SQL built
/// from them (<see cref="TraceSearchSql"/>) only ever holds validated literals.
/// </summary>
public sealed record TraceSearch
{
    /// <summary>Longest window a search may cover (a week of hour partitions).</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(7);

    public const int DefaultLimit = 100;

    public const int MaxLimit = 1000;

    /// <summary>Services, URLs and annotation values longer than this are not real input.</summary>
    public const int MaxTextLength = 512;

    public static readonly TimeSpan DefaultSince = TimeSpan.FromHours(1);

    /// <summary>Services a search may require together (a node is one, an edge two).</summary>
    public const int MaxServices = 4;

    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    /// <summary>The relative range the user chose (e.g. 1h), kept so a deep link can stay relative; null for absolute.</summary>
    public TimeSpan? Since { get; init; }

    /// <summary>Services the trace must pass through, every one of them (as a segment, or as a called remote/AWS node).</summary>
    public IReadOnlyList<string> Services { get; init; } = [];

    public bool Error { get; init; }

    public bool Fault { get; init; }

    public bool Throttle { get; init; }

    public double? MinDurationMs { get; init; }

    public double? MaxDurationMs { get; init; }

    public string? HttpMethod { get; init; }

    public int? HttpStatus { get; init; }

    public string? UrlContains { get; init; }

    public string? AnnotationKey { get; init; }

    public string? AnnotationValue { get; init; }

    public int Limit { get; init; } = DefaultLimit;

    /// <summary>The canonical query string (without '?') that reproduces this search.</summary>
    public string ToQueryString()
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }

        if (Since is { } since)
        {
            Add("since", DurationText(since));
        }
        else
        {
            Add("from", Iso(From));
            Add("to", Iso(To));
        }

        foreach (var service in Services)
        {
            Add("service", service);
        }

        Add("error", Error ? "1" : null);
        Add("fault", Fault ? "1" : null);
        Add("throttle", Throttle ? "1" : null);
        Add("min_ms", MinDurationMs?.ToString("R", CultureInfo.InvariantCulture));
        Add("max_ms", MaxDurationMs?.ToString("R", CultureInfo.InvariantCulture));
        Add("method", HttpMethod);
        Add("status", HttpStatus?.ToString(CultureInfo.InvariantCulture));
        Add("url", UrlContains);
        Add("annotation", AnnotationKey is null ? null : AnnotationKey + "=" + AnnotationValue);
        Add("limit", Limit == DefaultLimit ? null : Limit.ToString(CultureInfo.InvariantCulture));
        return string.Join('&', parts);
    }

    /// <summary>The same search with its window fixed (what "link to these results" gives).</summary>
    public TraceSearch Absolute() => this with { Since = null };

    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string DurationText(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays == Math.Floor(span.TotalDays) ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0}d")
        : span.TotalHours >= 1 && span.TotalHours == Math.Floor(span.TotalHours) ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0}h")
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, span.TotalMinutes):0}m");

    /// <summary>
    /// Reads a search from query parameters (the names <see cref="ToQueryString"/> writes). A
    /// missing window means the last hour before <paramref name="now"/>. Problems come back as
    /// messages naming the parameter; a search is returned only when there are none.
    /// </summary>
    public static TraceSearch? TryParse(Func<string, IReadOnlyList<string>> query, DateTimeOffset now, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(query);
        var problems = new List<string>();
        string? Text(string name) => Checked(name, query(name) is { Count: > 0 } values ? values[0] : null);

        string? Checked(string name, string? raw)
        {
            var value = raw?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                return null;
            }

            if (value.Length > MaxTextLength)
            {
                problems.Add($"{name}: longer than {MaxTextLength} characters");
                return null;
            }

            return value;
        }

        bool Flag(string name) => Text(name) is { } v && v is not ("0" or "false" or "off");

        double? Ms(string name)
        {
            if (Text(name) is not { } v)
            {
                return null;
            }

            if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && double.IsFinite(ms) && ms >= 0)
            {
                return ms;
            }

            problems.Add($"{name}: '{v}' is not a number of milliseconds");
            return null;
        }

        TimeSpan? since = null;
        DateTimeOffset from;
        DateTimeOffset to;
        var fromText = Text("from");
        var toText = Text("to");
        if (fromText is null && toText is null)
        {
            since = DefaultSince;
            if (Text("since") is { } s)
            {
                if (TryDuration(s, out var d) && d > TimeSpan.Zero && d <= MaxWindow)
                {
                    since = d;
                }
                else
                {
                    problems.Add($"since: '{s}' is not a duration like 15m, 1h or 2d (at most {DurationText(MaxWindow)})");
                }
            }

            to = now;
            from = now - since.Value;
        }
        else
        {
            from = Time(fromText, "from", now - DefaultSince, problems);
            to = Time(toText, "to", now, problems);
            if (to <= from)
            {
                problems.Add("to: the window must end after it starts");
            }
            else if (to - from > MaxWindow)
            {
                problems.Add($"from/to: a search covers at most {DurationText(MaxWindow)}");
            }
        }

        var method = Text("method")?.ToUpperInvariant();
        if (method is not null && (method.Length > 16 || !method.All(char.IsAsciiLetterUpper)))
        {
            problems.Add($"method: '{method}' is not an HTTP method");
            method = null;
        }

        int? status = null;
        if (Text("status") is { } st)
        {
            if (int.TryParse(st, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 100 and <= 599)
            {
                status = code;
            }
            else
            {
                problems.Add($"status: '{st}' is not an HTTP status (100-599)");
            }
        }

        string? key = null;
        string? value = null;
        if (Text("annotation") is { } annotation)
        {
            var eq = annotation.IndexOf('=', StringComparison.Ordinal);
            key = eq < 0 ? annotation : annotation[..eq];
            value = eq < 0 ? null : annotation[(eq + 1)..];
            if (value is null || !AnnotationRules.IsValidKey(Encoding.UTF8.GetBytes(key)))
            {
                problems.Add("annotation: use key=value with a key of letters, digits and _");
                key = value = null;
            }
        }

        var limit = DefaultLimit;
        if (Text("limit") is { } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            problems.Add($"limit: between 1 and {MaxLimit}");
            limit = DefaultLimit;
        }

        var min = Ms("min_ms");
        var max = Ms("max_ms");
        if (min is { } a && max is { } b && b < a)
        {
            problems.Add("max_ms: smaller than min_ms");
        }

        var services = query("service").Select(v => Checked("service", v)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (services.Count > MaxServices)
        {
            problems.Add($"service: at most {MaxServices}");
        }

        var search = new TraceSearch
        {
            From = from,
            To = to,
            Since = since,
            Services = services,
            Error = Flag("error"),
            Fault = Flag("fault"),
            Throttle = Flag("throttle"),
            MinDurationMs = min,
            MaxDurationMs = max,
            HttpMethod = method,
            HttpStatus = status,
            UrlContains = Text("url"),
            AnnotationKey = key,
            AnnotationValue = value,
            Limit = limit,
        };
        errors = problems;
        return problems.Count == 0 ? search : null;
    }

    /// <summary>"500ms", "30s", "15m", "1h", "2d".</summary>
    public static bool TryDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var t = text.Trim().ToLowerInvariant();
        var unitStart = t.Length;
        while (unitStart > 0 && char.IsAsciiLetter(t[unitStart - 1]))
        {
            unitStart--;
        }

        if (!double.TryParse(t[..unitStart], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || !double.IsFinite(n) || n > 1e6)
        {
            return false;
        }

        TimeSpan? d = t[unitStart..] switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            _ => null,
        };
        duration = d ?? default;
        return d is not null;
    }

    private static DateTimeOffset Time(string? text, string name, DateTimeOffset fallback, List<string> problems)
    {
        if (text is null)
        {
            return fallback;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
        {
            return t;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and < 253402300799)
        {
            return DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
        }

        problems.Add($"{name}: '{text}' is not a time (ISO 8601 or epoch seconds)");
        return fallback;
    }
}
