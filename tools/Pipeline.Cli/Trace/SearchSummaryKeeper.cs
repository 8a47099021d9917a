using System.Globalization;
using DuckDB.NET.Data;
using Pipeline.Core.Query;
using Pipeline.Core.Traces;

namespace Pipeline.Cli.Trace;

/// <summary>
/// Keeps the search summaries (<see cref="SearchSummary"/>) of a local archive directory current
/// for the hours that have closed, as <c>pipeline up</c>'s mirror fills it: after each mirror
/// pass, every closed hour of the last <see cref="LookBackHours"/> whose objects changed since it
/// was last looked at is checked, and summarised again unless its summary still names exactly
/// its objects. The open hour is left alone (the search reads it raw); older hours are
/// <c>pipeline index</c>'s. A failure is counted and retried on a later pass, never fatal: a
/// missing summary costs search time, never a match.
/// </summary>
internal sealed class SearchSummaryKeeper(string root, IReadOnlyList<AthenaTableDefinition> tables, TimeProvider time)
{
    /// <summary>Closed hours looked at, newest first (a day and a bit: the hours people search locally).</summary>
    public const int LookBackHours = 26;

    private readonly Dictionary<ArchiveHour, (int Objects, long Bytes)> _seen = [];

    public long Built { get; private set; }

    public long Failures { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>One pass; returns the summaries built. Not thread-safe: one caller at a time.</summary>
    public int Refresh()
    {
        var now = time.GetUtcNow();
        var built = 0;
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var current = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        for (var back = 1; back <= LookBackHours; back++)
        {
            var hour = new ArchiveHour(current.AddHours(-back));
            var objects = SearchSummaryFiles.Objects(root, hour);
            if (objects.Count == 0)
            {
                continue;
            }

            var shape = (objects.Count, objects.Sum(o => o.Size));
            if (_seen.TryGetValue(hour, out var seen) && seen == shape)
            {
                continue;
            }

            try
            {
                if (!SearchSummaryFiles.IsCurrent(connection, root, hour))
                {
                    SearchSummaryFiles.Build(root, tables, hour);
                    built++;
                    Built++;
                }

                _seen[hour] = shape;
            }
            catch (Exception e) when (e is DuckDBException or IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                Failures++;
                LastError = string.Create(CultureInfo.InvariantCulture, $"{hour.Prefix}: {e.Message}");
            }
        }

        return built;
    }
}
