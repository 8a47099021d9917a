using System.Globalization;
using System.Text;

namespace Pipeline.Core.Traces;

/// <summary>
/// The Athena SQL of a <see cref="TraceSearch"/> over the typed <c>segments</c> table: one row
/// per trace whose segments started in the window, filtered on the whole trace (HAVING), newest
/// first; and the latency histogram of every match (not only the rows shown). The partition
/// predicate lists each (dt, hour) pair the window's arrivals can be in, so Athena's projection
/// and DuckDB's hive pruning read only those. Literals are validated by
/// <see cref="TraceSearch.TryParse"/> and quoted here.
/// </summary>
public static class TraceSearchSql
{
    public const string Table = "segments";

    /// <summary>Half-octave latency buckets: bucket b holds durations in [2^(b/2), 2^((b+1)/2)) ms.</summary>
    public const double BucketsPerOctave = 2;

    /// <summary>Columns of <see cref="Traces"/>, in order.</summary>
    public static IReadOnlyList<string> TraceColumns { get; } =
        ["trace_id", "start_time", "duration", "segments", "error", "fault", "throttle", "root_service", "root_method", "root_url", "root_status"];

    /// <summary>The matching traces, newest first, at most the search's limit.</summary>
    public static string Traces(TraceSearch search)
    {
        ArgumentNullException.ThrowIfNull(search);
        return "WITH matches AS (\n" + Matches(search) + ")\n" + TracesOfMatches(search.Limit);
    }

    /// <summary>(bucket, traces) for every match; see <see cref="BucketsPerOctave"/>.</summary>
    public static string Histogram(TraceSearch search)
    {
        ArgumentNullException.ThrowIfNull(search);
        return "WITH matches AS (\n" + Matches(search) + ")\n" + HistogramOfMatches();
    }

    /// <summary>
    /// The rows of <see cref="Traces"/> read from a relation named <c>matches</c> holding
    /// <see cref="Matches"/>: an engine that can keep the matches (DuckDB's temporary table) scans
    /// the archive once for both the rows and the histogram.
    /// </summary>
    public static string TracesOfMatches(int limit) =>
        "SELECT " + string.Join(", ", TraceColumns) + " FROM matches\nORDER BY start_time DESC, trace_id\nLIMIT " + limit.ToString(CultureInfo.InvariantCulture);

    /// <summary>The rows of <see cref="Histogram"/> read from <c>matches</c> (see <see cref="TracesOfMatches"/>).</summary>
    public static string HistogramOfMatches() =>
        "SELECT CAST(floor(log2(greatest(duration * 1000, 0.001)) * " + BucketsPerOctave.ToString(CultureInfo.InvariantCulture)
        + ") AS integer) AS bucket, count(*) AS traces FROM matches GROUP BY 1 ORDER BY 1";

    /// <summary>The lower edge of a histogram bucket, in milliseconds.</summary>
    public static double BucketStartMs(int bucket) => Math.Pow(2, bucket / BucketsPerOctave);

    /// <summary>Hours whose objects can hold segments that started in the window (arrival lags the start).</summary>
    public static IReadOnlyList<ArchiveHour> Hours(TraceSearch search)
    {
        ArgumentNullException.ThrowIfNull(search);
        return ArchiveHour.Covering(search.From - TraceLookupPlan.Slack, search.To + TraceLookupPlan.Slack).ToList();
    }

    /// <summary>The partition predicate naming each (dt, hour) pair.</summary>
    public static string Partitions(IEnumerable<ArchiveHour> hours) =>
        "(" + string.Join(" OR ", hours.Distinct().Order().GroupBy(h => h.Day).Select(day =>
            $"(dt = '{day.Key}' AND \"hour\" IN ({string.Join(", ", day.Select(h => $"'{h.Hour}'"))}))")) + ")";

    /// <summary>
    /// One row per matching trace (the columns of <see cref="TraceColumns"/>), unordered, over
    /// <paramref name="table"/>: <see cref="Table"/>, or a relation with the columns (and the
    /// nested fields) of it that this reads, such as <see cref="SearchSummary"/> rows.
    /// </summary>
    public static string Matches(TraceSearch s, string table = Table)
    {
        ArgumentNullException.ThrowIfNull(s);
        // Root = the earliest document without a parent (the first service the request entered).
        const string RootKey = "CASE WHEN parent_id IS NULL AND type IS NULL THEN 0 ELSE 1 END * 1e11 + start_time";
        var b = new StringBuilder()
            .Append("  SELECT trace_id,\n")
            .Append("         min(start_time) AS start_time,\n")
            .Append("         max(coalesce(end_time, start_time)) - min(start_time) AS duration,\n")
            .Append("         count(*) AS segments,\n")
            .Append("         bool_or(coalesce(error, false)) AS error,\n")
            .Append("         bool_or(coalesce(fault, false)) AS fault,\n")
            .Append("         bool_or(coalesce(throttle, false)) AS throttle,\n")
            .Append("         min_by(name, ").Append(RootKey).Append(") AS root_service,\n")
            .Append("         min_by(http.request.method, ").Append(RootKey).Append(") AS root_method,\n")
            .Append("         min_by(http.request.url, ").Append(RootKey).Append(") AS root_url,\n")
            .Append("         min_by(http.response.status, ").Append(RootKey).Append(") AS root_status\n")
            .Append("  FROM ").Append(table).Append('\n')
            .Append("  WHERE ").Append(Partitions(Hours(s))).Append('\n')
            .Append("    AND trace_id IS NOT NULL\n")
            .Append("    AND start_time >= ").Append(Seconds(s.From)).Append(" AND start_time < ").Append(Seconds(s.To)).Append('\n')
            .Append("  GROUP BY trace_id\n");
        var having = new List<string>();
        foreach (var service in s.Services)
        {
            // A segment of the service, or a call to it two subsegment levels deep (as the DDL types them),
            // matched the way the service graph names the node it calls (Graph/CallTargets): the
            // subsegment's name, the DynamoDB table, the SQS queue, the database or the HTTP host.
            var v = Literal(service);
            string Call(string x) =>
                $"{x}.name = {v} OR {x}.aws.table_name = {v} OR strpos({x}.aws.queue_url, '/' || {v}) > 0 OR strpos({x}.sql.url, {v}) > 0 OR strpos({x}.http.request.url, '://' || {v}) > 0";
            having.Add($"bool_or(name = {v} OR cardinality(filter(subsegments, x -> {Call("x")} OR cardinality(filter(x.subsegments, y -> {Call("y")})) > 0)) > 0)");
        }

        if (s.Error)
        {
            having.Add("bool_or(coalesce(error, false))");
        }

        if (s.Fault)
        {
            having.Add("bool_or(coalesce(fault, false))");
        }

        if (s.Throttle)
        {
            having.Add("bool_or(coalesce(throttle, false))");
        }

        if (s.MinDurationMs is { } min)
        {
            having.Add("max(coalesce(end_time, start_time)) - min(start_time) >= " + (min / 1000).ToString("R", CultureInfo.InvariantCulture));
        }

        if (s.MaxDurationMs is { } max)
        {
            having.Add("max(coalesce(end_time, start_time)) - min(start_time) <= " + (max / 1000).ToString("R", CultureInfo.InvariantCulture));
        }

        if (s.HttpMethod is { } method)
        {
            having.Add($"bool_or(http.request.method = {Literal(method)})");
        }

        if (s.HttpStatus is { } status)
        {
            having.Add($"bool_or(http.response.status = {status.ToString(CultureInfo.InvariantCulture)})");
        }

        if (s.UrlContains is { } url)
        {
            having.Add($"bool_or(strpos(http.request.url, {Literal(url)}) > 0)");
        }

        if (s.AnnotationKey is { } key)
        {
            having.Add($"bool_or(element_at(annotations, {Literal(key)}) = {Literal(s.AnnotationValue ?? string.Empty)})");
        }

        if (having.Count > 0)
        {
            b.Append("  HAVING ").Append(string.Join("\n     AND ", having)).Append('\n');
        }

        return b.ToString();
    }

    private static string Seconds(DateTimeOffset at) => (at.ToUnixTimeMilliseconds() / 1000.0).ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>A single-quoted literal; quotes doubled, and nothing else can end it (validated text only).</summary>
    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
