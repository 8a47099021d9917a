using System.Globalization;

namespace Pipeline.Core.Usage;

/// <summary>Object keys of the usage counters in the archive bucket.</summary>
public static class UsageKeys
{
    public const string Prefix = "usage/";

    /// <summary><c>usage/dt=YYYY-MM-DD/&lt;shard&gt;-&lt;firstSeq&gt;.json</c>: the batch's own key, so a retry overwrites it.</summary>
    public static string For(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return For(record.Day, record.Shard, record.FirstSequence);
    }

    public static string For(DateOnly day, string shard, string firstSequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{DayPrefix(day)}{shard}-{firstSequence}.json");

    /// <summary><c>usage/dt=YYYY-MM-DD/</c>, for listing one day.</summary>
    public static string DayPrefix(DateOnly day) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}dt={day:yyyy-MM-dd}/");
}
