using System.Globalization;
using System.Text.Json;

namespace Pipeline.Core.Usage;

/// <summary>
/// One settled day's usage, folded once and kept so later reports read one object instead of
/// every usage file of that day. A day is settled when no retried batch can still write to it.
/// </summary>
public sealed record DailyRollup
{
    /// <summary>2 (2026-12): the decision-table counts and the intake by origin were added; a version-1 rollup lacks them and is folded again.</summary>
    public const int CurrentVersion = 2;

    /// <summary>
    /// Days after which a day's usage no longer changes: Kinesis keeps records 24 hours by
    /// default, so a retry of a batch that arrived on day D is written by the end of D + 1.
    /// </summary>
    public const int SettleDays = 2;

    public int Version { get; init; } = CurrentVersion;
    public required DateOnly Day { get; init; }

    /// <summary>Null when the day had no usage at all.</summary>
    public DailyUsage? Usage { get; init; }

    /// <summary>Usage files of the day left out, by reason.</summary>
    public IReadOnlyDictionary<UsageSkip, long> Skipped { get; init; } = new Dictionary<UsageSkip, long>();

    /// <summary>Folds the usage files of one <c>dt=</c> partition.</summary>
    public static DailyRollup Fold(DateOnly day, IEnumerable<ReadOnlyMemory<byte>> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var aggregator = new UsageAggregator();
        foreach (var file in files)
        {
            aggregator.Add(file.Span, day);
        }

        var fold = aggregator.Fold();
        return new DailyRollup { Day = day, Usage = fold.Days.SingleOrDefault(), Skipped = fold.Skipped };
    }

    public static bool IsSettled(DateOnly day, DateOnly asOf) => day <= asOf.AddDays(-SettleDays);

    /// <summary><c>reports/usage-daily/dt=YYYY-MM-DD.json</c>: next to the reports, which the report function may write.</summary>
    public static string KeyFor(DateOnly day) =>
        string.Create(CultureInfo.InvariantCulture, $"reports/usage-daily/dt={day:yyyy-MM-dd}.json");

    public static byte[] Serialize(DailyRollup rollup) =>
        JsonSerializer.SerializeToUtf8Bytes(rollup, UsageJsonContext.Default.DailyRollup);

    /// <summary>Null when the bytes are not a rollup of this version (then the day is folded again from its usage files).</summary>
    public static DailyRollup? TryDeserialize(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var rollup = JsonSerializer.Deserialize(utf8, UsageJsonContext.Default.DailyRollup);
            return rollup is { Version: CurrentVersion } ? rollup : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
