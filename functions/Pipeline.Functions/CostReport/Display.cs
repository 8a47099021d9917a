using System.Globalization;

namespace Pipeline.Functions.CostReport;

/// <summary>The one place amounts are rounded: for display only, never in the arithmetic.</summary>
public static class Display
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>US dollars to the cent; a non-zero amount under half a cent shows as "&lt;$0.01".</summary>
    public static string Money(decimal usd)
    {
        if (usd != 0m && Math.Abs(usd) < 0.005m)
        {
            return usd > 0 ? "<$0.01" : "-<$0.01";
        }

        var rounded = Math.Round(usd, 2, MidpointRounding.AwayFromZero);
        return rounded < 0
            ? "-$" + (-rounded).ToString("#,##0.00", Invariant)
            : "$" + rounded.ToString("#,##0.00", Invariant);
    }

    public static string Count(long n) => n.ToString("#,##0", Invariant);

    /// <summary>A quantity that may be fractional (GB-months, projected counts); a non-zero one under 0.005 shows as "&lt;0.01".</summary>
    public static string Quantity(decimal q) =>
        q > 0m && q < 0.005m
            ? "<0.01"
            : Math.Round(q, q >= 100m ? 0 : 2, MidpointRounding.AwayFromZero).ToString("#,##0.##", Invariant);

    /// <summary>A fraction as a percentage with one decimal, e.g. 0.1234 → "12.3 %".</summary>
    public static string Percent(decimal fraction) =>
        Math.Round(fraction * 100m, 1, MidpointRounding.AwayFromZero).ToString("0.0", Invariant) + " %";

    /// <summary>Short axis labels: 950, 12K, 1.5M, 2B.</summary>
    public static string Compact(decimal n)
    {
        var (value, suffix) = Math.Abs(n) switch
        {
            >= 1_000_000_000m => (n / 1_000_000_000m, "B"),
            >= 1_000_000m => (n / 1_000_000m, "M"),
            >= 1_000m => (n / 1_000m, "K"),
            _ => (n, ""),
        };
        return Math.Round(value, value >= 10m || suffix.Length == 0 ? 0 : 1, MidpointRounding.AwayFromZero)
            .ToString("0.#", Invariant) + suffix;
    }

    /// <summary>Binary gigabytes with two decimals, as S3 bills storage.</summary>
    public static string Gigabytes(long bytes) =>
        Math.Round(bytes / Pipeline.Core.Cost.CostModel.BytesPerGb, 2, MidpointRounding.AwayFromZero).ToString("#,##0.00", Invariant) + " GB";

    public static string Date(DateOnly day) => day.ToString("d MMM yyyy", Invariant);

    public static string Timestamp(DateTimeOffset at) =>
        at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", Invariant);
}
