using System.Globalization;
using Pipeline.Core.Archive;

namespace Pipeline.Core.Traces;

/// <summary>One hour partition of the segments archive (<c>segments/dt=…/hour=…/</c>).</summary>
public readonly record struct ArchiveHour : IComparable<ArchiveHour>
{
    public ArchiveHour(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        Start = new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    public DateTimeOffset Start { get; }

    /// <summary>The <c>dt</c> partition value (yyyy-MM-dd).</summary>
    public string Day => Start.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The <c>hour</c> partition value (two digits).</summary>
    public string Hour => Start.UtcDateTime.ToString("HH", CultureInfo.InvariantCulture);

    public string Prefix => ArchiveKeys.SegmentsHourPrefix(Start);

    public ArchiveHour Next => new(Start.AddHours(1));

    /// <summary>Every hour that overlaps [from, to].</summary>
    public static IEnumerable<ArchiveHour> Covering(DateTimeOffset from, DateTimeOffset to)
    {
        for (var h = new ArchiveHour(from); h.Start <= to; h = h.Next)
        {
            yield return h;
        }
    }

    /// <summary>"2026-11-25 07..09" style ranges for messages.</summary>
    public static string Describe(IEnumerable<ArchiveHour> hours)
    {
        var runs = new List<string>();
        ArchiveHour? first = null;
        ArchiveHour? last = null;
        foreach (var h in hours.Distinct().Order())
        {
            if (last is { } l && h == l.Next)
            {
                last = h;
                continue;
            }

            Flush();
            first = last = h;
        }

        Flush();
        return runs.Count == 0 ? "no hours" : string.Join(", ", runs);

        void Flush()
        {
            if (first is not { } f || last is not { } e)
            {
                return;
            }

            runs.Add(f == e ? $"{f.Day} {f.Hour}h"
                : f.Day == e.Day ? $"{f.Day} {f.Hour}..{e.Hour}h"
                : $"{f.Day} {f.Hour}h..{e.Day} {e.Hour}h");
        }
    }

    public int CompareTo(ArchiveHour other) => Start.CompareTo(other.Start);

    public static bool operator <(ArchiveHour left, ArchiveHour right) => left.CompareTo(right) < 0;

    public static bool operator >(ArchiveHour left, ArchiveHour right) => left.CompareTo(right) > 0;

    public static bool operator <=(ArchiveHour left, ArchiveHour right) => left.CompareTo(right) <= 0;

    public static bool operator >=(ArchiveHour left, ArchiveHour right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Day} {Hour}h";
}

/// <summary>What a round of reading found, as far as the plan cares.</summary>
/// <param name="Segments">Segment documents of the trace found so far.</param>
/// <param name="LatestTime">The latest start or end time of any of them (epoch seconds).</param>
/// <param name="OpenSpans">Spans seen only in progress (their completed copy may have arrived later).</param>
public readonly record struct TraceFindings(int Segments, double LatestTime, int OpenSpans);

/// <summary>
/// Which hour partitions a trace lookup reads, round by round. The archive is partitioned by the
/// arrival hour of a batch's first record, and a trace id carries the epoch of its first request,
/// so a trace normally lies in the hour of that epoch (or the next, when it straddles one). The
/// first round reads only the hours within <see cref="Slack"/> of the epoch; later rounds widen
/// only when they must: nothing found (the ingest was behind, or the client clock is off), or a
/// segment of the trace runs past what was read. Never more than <see cref="MaxBefore"/> before
/// and <see cref="MaxAfter"/> after the epoch: the plan is bounded whatever the archive holds.
/// </summary>
public sealed class TraceLookupPlan
{
    /// <summary>
    /// Distance from the epoch (and from the latest time seen) that the reads always cover: the
    /// batch's first record may have arrived a little before the trace began (batching window,
    /// client clock skew), and a segment is archived a little after it ends (relay flush, Kinesis,
    /// the event-source mapping).
    /// </summary>
    public static readonly TimeSpan Slack = TimeSpan.FromMinutes(10);

    /// <summary>Segments far after the epoch: a relay that spooled through an outage replays late.</summary>
    public static readonly TimeSpan MaxAfter = TimeSpan.FromHours(24);

    public static readonly TimeSpan MaxBefore = TimeSpan.FromHours(2);

    /// <summary>How far past a span seen only in progress its completed copy is looked for.</summary>
    public static readonly TimeSpan OpenSpanGrace = TimeSpan.FromHours(1);

    /// <summary>The widening steps when nothing was found: (before, after) the epoch.</summary>
    private static readonly (TimeSpan Before, TimeSpan After)[] NotFoundSteps =
    [
        (TimeSpan.FromHours(1), TimeSpan.FromHours(3)),
        (MaxBefore, MaxAfter),
    ];

    private readonly SortedSet<ArchiveHour> _read = [];
    private readonly ArchiveHour _first;
    private readonly ArchiveHour _last;
    private readonly bool _fixed;
    private int _notFoundStep;

    private TraceLookupPlan(DateTimeOffset epoch, ArchiveHour first, ArchiveHour last, bool isFixed)
    {
        Epoch = epoch;
        _first = first;
        _last = last;
        _fixed = isFixed;
    }

    public DateTimeOffset Epoch { get; }

    /// <summary>Every hour read so far, in order.</summary>
    public IReadOnlyCollection<ArchiveHour> Read => _read;

    /// <summary>Rounds handed out so far.</summary>
    public int Rounds { get; private set; }

    /// <summary>A plan that starts at the trace id's epoch and widens as needed.</summary>
    public static TraceLookupPlan ForEpoch(DateTimeOffset epoch) =>
        new(epoch, new ArchiveHour(epoch - MaxBefore), new ArchiveHour(epoch + MaxAfter), isFixed: false);

    /// <summary>A plan that reads exactly the hours overlapping [from, to] in one round (the user chose them).</summary>
    public static TraceLookupPlan Between(DateTimeOffset from, DateTimeOffset to, DateTimeOffset epoch)
    {
        if (to < from)
        {
            throw new ArgumentException("the window ends before it starts");
        }

        if (to - from > MaxBefore + MaxAfter)
        {
            throw new ArgumentException($"a trace window may span at most {(MaxBefore + MaxAfter).TotalHours:0} hours");
        }

        return new TraceLookupPlan(epoch, new ArchiveHour(from), new ArchiveHour(to), isFixed: true);
    }

    /// <summary>The hours of the first round.</summary>
    public IReadOnlyList<ArchiveHour> First() =>
        _fixed ? Take(_first.Start, _last.Start) : Take(Epoch - Slack, Epoch + Slack);

    /// <summary>The hours to read next given everything found so far; empty when the lookup is done.</summary>
    public IReadOnlyList<ArchiveHour> Next(TraceFindings found)
    {
        if (_fixed)
        {
            return [];
        }

        if (found.Segments == 0)
        {
            while (_notFoundStep < NotFoundSteps.Length)
            {
                var (before, after) = NotFoundSteps[_notFoundStep++];
                var hours = Take(Epoch - before, Epoch + after);
                if (hours.Count > 0)
                {
                    return hours;
                }
            }

            return [];
        }

        // Times come from documents: clamp before any arithmetic so an absurd end_time cannot overflow.
        var latestMs = Math.Clamp(found.LatestTime * 1000, Epoch.ToUnixTimeMilliseconds(), (Epoch + MaxAfter).ToUnixTimeMilliseconds());
        var latest = DateTimeOffset.FromUnixTimeMilliseconds((long)latestMs);
        var until = latest + Slack + (found.OpenSpans > 0 ? OpenSpanGrace : TimeSpan.Zero);
        return Take(Epoch - Slack, until);
    }

    /// <summary>Hours overlapping [from, to], clamped to the plan's bounds, not read before; marks them read.</summary>
    private List<ArchiveHour> Take(DateTimeOffset from, DateTimeOffset to)
    {
        var hours = new List<ArchiveHour>();
        foreach (var h in ArchiveHour.Covering(from, to))
        {
            if (h >= _first && h <= _last && _read.Add(h))
            {
                hours.Add(h);
            }
        }

        if (hours.Count > 0)
        {
            Rounds++;
        }

        return hours;
    }
}
