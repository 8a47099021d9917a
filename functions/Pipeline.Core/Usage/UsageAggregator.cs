using System.Numerics;
using System.Globalization;

namespace Pipeline.Core.Usage;

/// <summary>Why a usage record was not counted in the daily totals.</summary>
public enum UsageSkip
{
    None = 0,
    /// <summary>Not JSON, not a usage record, or over <see cref="UsageJson.MaxFileBytes"/>.</summary>
    Malformed,
    /// <summary>Written by a newer schema than this code reads.</summary>
    UnsupportedVersion,
    /// <summary>Sequence numbers are not decimal digits, or last is before first.</summary>
    BadSequence,
    /// <summary>Its range lies inside another record's range on the same shard: a stale record of a retried batch (or the same key read twice).</summary>
    CoveredByRetry,
    /// <summary>Its range overlaps another's only in part: the ingest broke the contract; dropped rather than double counted.</summary>
    PartialOverlap,
    /// <summary>Past <see cref="UsageAggregator.MaxRecords"/>.</summary>
    OverLimit,
    /// <summary>Found under another day's <c>dt=</c> prefix than its own arrival day.</summary>
    WrongPartition,
}

/// <summary>Daily totals and what was left out of them, by reason.</summary>
public sealed record UsageFold(IReadOnlyList<DailyUsage> Days, IReadOnlyDictionary<UsageSkip, long> Skipped)
{
    public long SkippedCount(UsageSkip reason) => Skipped.TryGetValue(reason, out var n) ? n : 0;

    /// <summary>Adds the days of settled rollups (days this fold does not hold) and their skip counts.</summary>
    public UsageFold With(IEnumerable<DailyRollup> rollups)
    {
        ArgumentNullException.ThrowIfNull(rollups);
        var days = Days.ToDictionary(d => d.Day);
        var skipped = new Dictionary<UsageSkip, long>(Skipped);
        foreach (var rollup in rollups)
        {
            if (rollup.Usage is { } usage && !days.TryAdd(usage.Day, usage))
            {
                throw new ArgumentException($"Day {usage.Day:yyyy-MM-dd} is both folded and rolled up.", nameof(rollups));
            }

            foreach (var (reason, count) in rollup.Skipped)
            {
                skipped[reason] = skipped.GetValueOrDefault(reason) + count;
            }
        }

        return new UsageFold(days.Values.OrderBy(d => d.Day).ToArray(), skipped);
    }

    public static UsageFold Empty { get; } = new([], new Dictionary<UsageSkip, long>());
}

/// <summary>
/// Folds usage records into daily totals without double counting retried batches.
/// A retried batch overwrites its own key (same shard and first sequence number); a bisected or
/// shortened retry writes records whose ranges lie inside the stale record of the first attempt,
/// so per shard only the maximal sequence ranges are counted.
/// </summary>
public sealed class UsageAggregator
{
    /// <summary>A month of a busy stream at one record per invocation is far below this.</summary>
    public const int MaxRecords = 2_000_000;

    /// <summary>Services kept by name per day; the rest fold into <see cref="UsageRecorder.OtherServices"/>.</summary>
    public const int MaxServicesPerDay = 2_000;

    private readonly List<(UsageRecord Record, BigInteger First, BigInteger Last)> _records = [];
    private readonly Dictionary<UsageSkip, long> _skipped = [];

    /// <summary>Adds the bytes of one usage file; returns why it was skipped, or <see cref="UsageSkip.None"/>.</summary>
    public UsageSkip Add(ReadOnlySpan<byte> utf8Json)
    {
        var record = UsageJson.TryDeserialize(utf8Json);
        return record is null ? Skip(UsageSkip.Malformed) : Add(record);
    }

    /// <summary>Adds one file read from the <c>dt=</c> partition of <paramref name="partitionDay"/>.</summary>
    public UsageSkip Add(ReadOnlySpan<byte> utf8Json, DateOnly partitionDay)
    {
        var record = UsageJson.TryDeserialize(utf8Json);
        if (record is null)
        {
            return Skip(UsageSkip.Malformed);
        }

        return record.Day == partitionDay ? Add(record) : Skip(UsageSkip.WrongPartition);
    }

    public UsageSkip Add(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Version > UsageRecord.CurrentVersion)
        {
            return Skip(UsageSkip.UnsupportedVersion);
        }

        if (!TryParseSequence(record.FirstSequence, out var first)
            || !TryParseSequence(record.LastSequence, out var last)
            || last < first)
        {
            return Skip(UsageSkip.BadSequence);
        }

        if (_records.Count >= MaxRecords)
        {
            return Skip(UsageSkip.OverLimit);
        }

        _records.Add((record, first, last));
        return UsageSkip.None;
    }

    public UsageFold Fold()
    {
        var counted = new List<UsageRecord>(_records.Count);
        foreach (var shard in _records.GroupBy(r => r.Record.Shard, StringComparer.Ordinal))
        {
            // Widest range first at each start, so a covering record is seen before what it covers.
            var ordered = shard.OrderBy(r => r.First).ThenByDescending(r => r.Last);
            BigInteger? coveredTo = null;
            foreach (var (record, first, last) in ordered)
            {
                if (coveredTo is { } end && first <= end)
                {
                    Skip(last <= end ? UsageSkip.CoveredByRetry : UsageSkip.PartialOverlap);
                    continue;
                }

                counted.Add(record);
                coveredTo = last;
            }
        }

        var days = counted
            .GroupBy(r => r.Day)
            .OrderBy(g => g.Key)
            .Select(g => Sum(g.Key, g))
            .ToArray();
        return new UsageFold(days, new Dictionary<UsageSkip, long>(_skipped));
    }

    private static DailyUsage Sum(DateOnly day, IEnumerable<UsageRecord> records)
    {
        long invocations = 0, kinesisRecords = 0, payloadUnits = 0, billedKb = 0, segmentsIn = 0, segmentsValid = 0,
            segmentsInvalid = 0, segmentsKept = 0, tracesSeen = 0, tracesKept = 0, bytesIn = 0,
            bytesArchived = 0, xrayCalls = 0, xrayDocuments = 0, s3Puts = 0, decisionReads = 0, decisionWrites = 0;
        var byOrigin = new OriginUsage();
        var kept = new KeptByReason();
        var gbSeconds = 0m;
        var services = new Dictionary<string, ServiceUsage>(StringComparer.Ordinal);
        var shards = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in records)
        {
            invocations++;
            shards.Add(r.Shard);
            kinesisRecords += r.KinesisRecords;
            payloadUnits += r.KinesisPayloadUnits;
            billedKb += r.KinesisBilledKb;
            segmentsIn += r.SegmentsIn;
            segmentsValid += r.SegmentsValid;
            segmentsInvalid += r.SegmentsInvalid;
            segmentsKept += r.SegmentsKept;
            tracesSeen += r.TracesSeen;
            tracesKept += r.TracesKept;
            kept = kept.Plus(r.KeptByReason);
            bytesIn += r.BytesIn;
            bytesArchived += r.BytesArchived;
            xrayCalls += r.XRayPutCalls;
            xrayDocuments += r.XRayDocuments;
            s3Puts += r.S3Puts;
            decisionReads += r.DecisionReads;
            decisionWrites += r.DecisionWrites;
            byOrigin = byOrigin.Plus(r.ByOrigin ?? new OriginUsage());
            gbSeconds += DailyUsage.GbSeconds(r.LambdaDurationMs, r.LambdaMemoryMb);
            foreach (var s in r.Services)
            {
                var name = services.ContainsKey(s.Name) || services.Count < MaxServicesPerDay
                    ? s.Name
                    : UsageRecorder.OtherServices;
                services[name] = services.TryGetValue(name, out var sum)
                    ? sum.Plus(s)
                    : s with { Name = name };
            }
        }

        return new DailyUsage
        {
            Day = day,
            Invocations = invocations,
            Shards = shards.Count,
            KinesisRecords = kinesisRecords,
            KinesisPayloadUnits = payloadUnits,
            KinesisBilledKb = billedKb,
            SegmentsIn = segmentsIn,
            SegmentsValid = segmentsValid,
            SegmentsInvalid = segmentsInvalid,
            SegmentsKept = segmentsKept,
            TracesSeen = tracesSeen,
            TracesKept = tracesKept,
            KeptByReason = kept,
            BytesIn = bytesIn,
            BytesArchived = bytesArchived,
            XRayPutCalls = xrayCalls,
            XRayDocuments = xrayDocuments,
            LambdaGbSeconds = gbSeconds,
            S3Puts = s3Puts,
            DecisionReads = decisionReads,
            DecisionWrites = decisionWrites,
            ByOrigin = byOrigin,
            Services = services.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ToArray(),
        };
    }

    /// <summary>Kinesis sequence numbers are decimal strings of up to 128 digits; moto's are short counters.</summary>
    private static bool TryParseSequence(string text, out BigInteger value)
    {
        value = default;
        return !string.IsNullOrEmpty(text)
            && text.Length <= 128
            && text.All(char.IsAsciiDigit)
            && BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private UsageSkip Skip(UsageSkip reason)
    {
        _skipped[reason] = _skipped.GetValueOrDefault(reason) + 1;
        return reason;
    }
}
