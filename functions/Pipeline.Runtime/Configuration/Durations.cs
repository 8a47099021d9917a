using System.Globalization;
using System.Text;

namespace Pipeline.Runtime.Configuration;

/// <summary>
/// The one duration grammar of every flag, config key and environment variable (relay, functions,
/// CLI): one or more <c>&lt;number&gt;&lt;unit&gt;</c> terms, units <c>ms</c>, <c>s</c>, <c>m</c>,
/// <c>h</c>, <c>d</c>, e.g. <c>500ms</c>, <c>1.5s</c>, <c>5m</c>, <c>1h30m</c>, <c>1d</c>.
/// A bare number is an error (the one exception is <c>0</c>): "5" meant seconds in one place and
/// minutes in another, so the unit is always written. No sign, no exponent, no overflow: a value
/// beyond <see cref="TimeSpan.MaxValue"/> is an error, not an exception. Ranges are the binder's.
/// </summary>
public static class Durations
{
    /// <summary>How the grammar is described in error messages and help.</summary>
    public const string Examples = "500ms, 30s, 5m, 1h or 1d";

    private static readonly (string Unit, long Ticks)[] Units =
    [
        // "ms" before "m" and "s": the longest unit wins.
        ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond),
        ("m", TimeSpan.TicksPerMinute),
        ("h", TimeSpan.TicksPerHour),
        ("d", TimeSpan.TicksPerDay),
    ];

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why (without naming the source).</summary>
    public static bool TryParse(string? text, out TimeSpan value, out string error)
    {
        value = TimeSpan.Zero;
        error = "";
        var s = (text ?? "").Trim();
        if (s.Length == 0)
        {
            error = $"is empty: write a duration such as {Examples}";
            return false;
        }

        if (s == "0")
        {
            return true;
        }

        var total = 0.0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (i == start)
            {
                error = $"'{text}' is not a duration: write e.g. {Examples}";
                return false;
            }

            if (!double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                error = $"'{text}' is not a duration: write e.g. {Examples}";
                return false;
            }

            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }

            var unit = s[unitStart..i];
            if (unit.Length == 0)
            {
                error = unitStart == s.Length && start == 0
                    ? $"'{text}' has no unit: write {s}s, {s}ms, {s}m or {s}h (a bare number is ambiguous)"
                    : $"'{text}' is not a duration: every number needs a unit, e.g. {Examples}";
                return false;
            }

            var ticks = Array.Find(Units, u => u.Unit.Equals(unit, StringComparison.OrdinalIgnoreCase)).Ticks;
            if (ticks == 0)
            {
                error = $"'{text}': unknown unit '{unit}' (use ms, s, m, h or d)";
                return false;
            }

            total += number * ticks;
        }

        if (!(total < TimeSpan.MaxValue.Ticks))
        {
            error = $"'{text}' is too long a duration";
            return false;
        }

        value = TimeSpan.FromTicks((long)Math.Round(total));
        return true;
    }

    /// <summary>Parses or throws a <see cref="ConfigurationException"/> naming <paramref name="source"/> (a variable, flag or key).</summary>
    public static TimeSpan Parse(string source, string? text) =>
        TryParse(text, out var value, out var error) ? value : throw new ConfigurationException($"{source}: {error}");

    /// <summary>The shortest text <see cref="TryParse"/> reads back as <paramref name="value"/>: 500ms, 30s, 15m, 1h30m, 1d.</summary>
    public static string Format(TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            return "0";
        }

        var text = new StringBuilder();
        var rest = value.Ticks;
        for (var u = Units.Length - 1; u >= 1; u--)
        {
            var (unit, ticks) = Units[u];
            if (rest >= ticks)
            {
                text.Append((rest / ticks).ToString(CultureInfo.InvariantCulture)).Append(unit);
                rest %= ticks;
            }
        }

        if (rest > 0)
        {
            // What is left below a second, in milliseconds (a fraction is kept: 0.5ms).
            text.Append(((double)rest / TimeSpan.TicksPerMillisecond).ToString(CultureInfo.InvariantCulture)).Append("ms");
        }

        return text.ToString();
    }
}
