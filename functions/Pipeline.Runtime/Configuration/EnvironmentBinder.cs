namespace Pipeline.Runtime.Configuration;

/// <summary>
/// The one typed binder over <see cref="IEnvironment"/>, used by every options record. Each getter
/// returns the variable's value, or the fallback when the variable is unset or blank; a bad value
/// is recorded as a problem that names the variable and the value ("GRAPH_ENGINE: 'spark' is not
/// one of stream, sql, athena, auto"), the fallback is returned, and <see cref="ThrowIfInvalid"/>
/// at the end of binding throws one <see cref="ConfigurationException"/> listing every problem.
/// Values are trimmed; the grammars are <see cref="ConfigValue"/>'s (durations: <see cref="Durations"/>).
/// <code>
/// var env = new EnvironmentBinder(environment);
/// var bucket = env.Required("ARCHIVE_BUCKET", "the S3 bucket of the archive");
/// var window = env.Int("GRAPH_WINDOW_MINUTES", 60, min: 1, max: 1440);
/// env.ThrowIfInvalid();
/// </code>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Named for the value kinds they read.")]
public sealed class EnvironmentBinder
{
    private readonly List<string> _problems = [];

    public EnvironmentBinder(IEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Environment = environment;
    }

    public IEnvironment Environment { get; }

    /// <summary>Problems recorded so far.</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>The trimmed value, or null when unset or blank.</summary>
    public string? Text(string name) => Environment.GetVariable(name) is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    /// <summary>The trimmed value; when unset, a problem "<paramref name="name"/> is required (<paramref name="purpose"/>)" and "".</summary>
    public string Required(string name, string purpose)
    {
        if (Text(name) is { } value)
        {
            return value;
        }

        _problems.Add($"{name} is required ({purpose})");
        return "";
    }

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue) =>
        (int)Long(name, fallback, min, max);

    public long Long(string name, long fallback, long min = long.MinValue, long max = long.MaxValue) =>
        Text(name) is not { } text ? fallback
        : ConfigValue.TryLong(text, min, max, out var value, out var error) ? value
        : Problem(name, error, fallback);

    public double Double(string name, double fallback, double min, double max) =>
        Text(name) is not { } text ? fallback
        : ConfigValue.TryDouble(text, min, max, out var value, out var error) ? value
        : Problem(name, error, fallback);

    /// <summary>"true" or "false" (any case).</summary>
    public bool Bool(string name, bool fallback) =>
        Text(name) is not { } text ? fallback
        : ConfigValue.TryBool(text, out var value, out var error) ? value
        : Problem(name, error, fallback);

    /// <summary>A duration of the one grammar (<see cref="Durations"/>) within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public TimeSpan Duration(string name, TimeSpan fallback, TimeSpan min, TimeSpan max) =>
        Text(name) is not { } text ? fallback
        : ConfigValue.TryDuration(text, min, max, out var value, out var error) ? value
        : Problem(name, error, fallback);

    /// <summary>An absolute http or https URL, or null when unset.</summary>
    public Uri? Url(string name) =>
        Text(name) is not { } text ? null
        : ConfigValue.TryUrl(text, out var value, out var error) ? value
        : Problem<Uri?>(name, error, null);

    /// <summary>One of <paramref name="names"/> (case-insensitive; several names may map to one value).</summary>
    public T Choice<T>(string name, T fallback, params ReadOnlySpan<(string Text, T Value)> names) =>
        Text(name) is not { } text ? fallback
        : ConfigValue.TryChoice(text, names, out var value, out var error) ? value
        : Problem(name, error, fallback);

    /// <summary>
    /// A value read by <paramref name="parse"/> (JSON rules, address lists); a
    /// <see cref="FormatException"/> or <see cref="ConfigurationException"/> from it becomes the
    /// problem "<paramref name="name"/>: &lt;its message&gt;".
    /// </summary>
    public T Parsed<T>(string name, T fallback, Func<string, T> parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (Text(name) is not { } text)
        {
            return fallback;
        }

        try
        {
            return parse(text);
        }
        catch (Exception ex) when (ex is FormatException or ConfigurationException)
        {
            return Problem(name, ex.Message, fallback);
        }
    }

    /// <summary>Records a problem the caller's own check found (a rule across two variables, say).</summary>
    public void Invalid(string name, string problem) => _problems.Add($"{name}: {problem}");

    /// <summary>Throws one <see cref="ConfigurationException"/> listing every problem, if any.</summary>
    public void ThrowIfInvalid()
    {
        if (_problems.Count > 0)
        {
            throw new ConfigurationException([.. _problems]);
        }
    }

    private T Problem<T>(string name, string error, T fallback)
    {
        _problems.Add($"{name}: {error}");
        return fallback;
    }
}
