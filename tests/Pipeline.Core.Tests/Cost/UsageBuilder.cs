using Pipeline.Core.Usage;

namespace Pipeline.Core.Tests.Cost;

/// <summary>Usage records and days for cost tests, with every count defaulting to zero.</summary>
internal static class UsageBuilder
{
    public static UsageRecord Record(
        string shard, long first, long last, DateTimeOffset? arrivedAt = null, long traces = 10, long kept = 1) =>
        new()
        {
            Shard = shard,
            FirstSequence = first.ToString(System.Globalization.CultureInfo.InvariantCulture),
            LastSequence = last.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ArrivedAt = arrivedAt ?? new DateTimeOffset(2026, 11, 3, 10, 0, 0, TimeSpan.Zero),
            SegmentsIn = traces * 2,
            SegmentsValid = traces * 2,
            TracesSeen = traces,
            TracesKept = kept,
            KeptByReason = new KeptByReason { Head = kept },
            LambdaDurationMs = 1000,
            LambdaMemoryMb = 1024,
            S3Puts = 2,
        };

    public static DailyUsage Day(int year, int month, int day, long tracesSeen, long tracesKept = 0) =>
        new()
        {
            Day = new DateOnly(year, month, day),
            TracesSeen = tracesSeen,
            TracesKept = tracesKept,
        };
}
