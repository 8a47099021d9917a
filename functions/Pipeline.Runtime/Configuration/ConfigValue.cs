using System.Globalization;

namespace Pipeline.Runtime.Configuration;

/// <summary>
/// The value grammars every setting is read with, whatever its source (environment variable,
/// flag, YAML key): whole numbers, numbers, true/false, durations (<see cref="Durations"/>),
/// http(s) URLs and named choices. Each <c>Try</c> method gives an error that names the bad value
/// (the caller adds the source); the throwing forms raise a <see cref="ConfigurationException"/>
/// "&lt;source&gt;: &lt;error&gt;". <see cref="EnvironmentBinder"/> is these over an <see cref="IEnvironment"/>.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Named for the value kinds they read.")]
public static class ConfigValue
{
    public static bool TryLong(string text, long min, long max, out long value, out string error)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
        {
            error = "";
            return true;
        }

        error = $"'{text}' is not a whole number{RangeText(min, max)}";
        return false;
    }

    public static bool TryDouble(string text, double min, double max, out double value, out string error)
    {
        if (double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value)
            && double.IsFinite(value) && value >= min && value <= max)
        {
            error = "";
            return true;
        }

        error = $"'{text}' is not a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}";
        return false;
    }

    /// <summary>"true" or "false", any case.</summary>
    public static bool TryBool(string text, out bool value, out string error)
    {
        value = text.Equals("true", StringComparison.OrdinalIgnoreCase);
        if (value || text.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            error = "";
            return true;
        }

        error = $"'{text}' is not true or false";
        return false;
    }

    /// <summary>A duration of the one grammar within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static bool TryDuration(string text, TimeSpan min, TimeSpan max, out TimeSpan value, out string error)
    {
        if (!Durations.TryParse(text, out value, out error))
        {
            return false;
        }

        if (value >= min && value <= max)
        {
            return true;
        }

        error = $"'{text}' is not between {Durations.Format(min)} and {Durations.Format(max)}";
        return false;
    }

    /// <summary>An absolute http or https URL.</summary>
    public static bool TryUrl(string text, out Uri? value, out string error)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out value) && (value.Scheme == Uri.UriSchemeHttp || value.Scheme == Uri.UriSchemeHttps))
        {
            error = "";
            return true;
        }

        value = null;
        error = $"'{text}' is not an absolute http(s) URL";
        return false;
    }

    /// <summary>One of <paramref name="names"/>, case-insensitive (several names may map to one value).</summary>
    public static bool TryChoice<T>(string text, ReadOnlySpan<(string Text, T Value)> names, out T value, out string error)
    {
        foreach (var (candidate, choice) in names)
        {
            if (candidate.Equals(text, StringComparison.OrdinalIgnoreCase))
            {
                value = choice;
                error = "";
                return true;
            }
        }

        var known = new string[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            known[i] = names[i].Text;
        }

        value = default!;
        error = $"'{text}' is not one of {string.Join(", ", known)}";
        return false;
    }

    public static int Int(string source, string text, int min = int.MinValue, int max = int.MaxValue) =>
        TryLong(text.Trim(), min, max, out var value, out var error) ? (int)value : throw Invalid(source, error);

    public static bool Bool(string source, string text) =>
        TryBool(text.Trim(), out var value, out var error) ? value : throw Invalid(source, error);

    public static TimeSpan Duration(string source, string text, TimeSpan min, TimeSpan max) =>
        TryDuration(text.Trim(), min, max, out var value, out var error) ? value : throw Invalid(source, error);

    public static Uri Url(string source, string text) =>
        TryUrl(text.Trim(), out var value, out var error) ? value! : throw Invalid(source, error);

    public static T Choice<T>(string source, string text, params ReadOnlySpan<(string Text, T Value)> names) =>
        TryChoice(text.Trim(), names, out var value, out var error) ? value : throw Invalid(source, error);

    private static ConfigurationException Invalid(string source, string error) => new($"{source}: {error}");

    private static string RangeText(long min, long max)
    {
        var noMin = min <= int.MinValue;
        var noMax = max >= int.MaxValue;
        return (noMin, noMax) switch
        {
            (true, true) => "",
            (false, true) => $" ≥ {min.ToString(CultureInfo.InvariantCulture)}",
            (true, false) => $" ≤ {max.ToString(CultureInfo.InvariantCulture)}",
            _ => $" from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}",
        };
    }
}
