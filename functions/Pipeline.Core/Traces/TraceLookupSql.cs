using System.Text;

namespace Pipeline.Core.Traces;

/// <summary>
/// The Athena SQL that reads the lines of one trace from the given hour partitions of
/// <c>segments_raw</c> (athena/tables/segments_raw.sql): the partition predicate names each
/// (dt, hour) pair so that Athena's partition projection, and DuckDB's hive pruning locally,
/// read only those objects. The filter is a cheap substring test on the lowercased line; the
/// assembler checks the parsed trace id exactly (and counts lines that only mentioned it).
/// </summary>
public static class TraceLookupSql
{
    public const string Table = "segments_raw";

    public static string Build(string traceId, IEnumerable<ArchiveHour> hours)
    {
        ArgumentNullException.ThrowIfNull(hours);
        if (!TraceIds.TryNormalize(traceId, out var id))
        {
            throw new ArgumentException($"'{traceId}' is not a trace id", nameof(traceId));
        }

        var byDay = hours.Distinct().Order().GroupBy(h => h.Day).ToList();
        if (byDay.Count == 0)
        {
            throw new ArgumentException("no hours to read", nameof(hours));
        }

        // Values are generated (dates, two digits, a normalised hex trace id): nothing to quote but the literal marks.
        var partitions = string.Join(" OR ", byDay.Select(day =>
            $"(dt = '{day.Key}' AND \"hour\" IN ({string.Join(", ", day.Select(h => $"'{h.Hour}'"))}))"));
        return new StringBuilder("SELECT line FROM ").Append(Table)
            .Append("\nWHERE (").Append(partitions).Append(')')
            .Append("\n  AND strpos(lower(line), '").Append(id).Append("') > 0")
            .ToString();
    }
}
