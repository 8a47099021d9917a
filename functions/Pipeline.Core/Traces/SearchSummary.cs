using System.Globalization;
using System.Text;
using Pipeline.Core.Archive;

namespace Pipeline.Core.Traces;

/// <summary>Which objects of one hour a search reads from the hour's summary and which it reads raw.</summary>
/// <param name="UseSummary">Whether the summary is read at all (every object it names is still there, unchanged).</param>
/// <param name="Raw">Keys read from the raw NDJSON: every object when the summary is not used, else those it does not name.</param>
public sealed record SearchSummaryCoverage(bool UseSummary, IReadOnlyList<string> Raw);

/// <summary>
/// The per-hour search summary, written beside the trace index: a narrow Parquet copy of the
/// <c>segments</c> rows of an hour with only the columns and nested fields
/// <see cref="TraceSearchSql.Matches"/> reads (trace id, parent, type, name, times,
/// error/fault/throttle, the HTTP method/URL/status, the annotations, and the call targets of
/// two levels of subsegments), so that a search reads a few MB of columns instead of parsing every
/// NDJSON line of the window. The same SQL runs over either source: the summary is a projection,
/// not a re-implementation, and <see cref="Projection"/> is what both build it and read raw
/// objects beside it.
/// <para>It is derived data, never the only copy. Its Parquet key/value metadata
/// (<see cref="ObjectsMetadataKey"/>) names the objects (key and size) it was built from.
/// <see cref="Cover"/> trusts it only while every one of those is still there with that size
/// (a retried batch rewrites an object longer): then objects it does not name (late arrivals)
/// are read raw beside it; otherwise the whole hour is read raw. A stale summary costs time,
/// never a match.</para>
/// <para>Key: <c>trace-index/dt=YYYY-MM-DD/hour=HH/search.parquet</c> (outside <c>segments/</c>,
/// so no Athena table reads it).</para>
/// </summary>
public static class SearchSummary
{
    public const string ObjectName = "search.parquet";

    /// <summary>Parquet key/value metadata naming the objects a summary covers.</summary>
    public const string ObjectsMetadataKey = "pipeline.search-summary.objects";

    /// <summary>First line of the metadata value; another version is not trusted.</summary>
    public const string Header = "# pipeline search-summary v1";

    /// <summary>
    /// The select list, in DuckDB SQL over the <c>segments</c> view's columns, of a summary row:
    /// each column keeps its name and nesting, holding only the fields the search reads.
    /// </summary>
    public static string Projection { get; } =
        "trace_id, parent_id, type, name, start_time, end_time, error, fault, throttle, "
        + "struct_pack(request := struct_pack(method := http.request.method, url := http.request.url), response := struct_pack(status := http.response.status)) AS http, "
        + "annotations, "
        + "list_transform(subsegments, x -> struct_pack(" + Call("x") + ", subsegments := list_transform(x.subsegments, y -> struct_pack(" + Call("y") + ")))) AS subsegments";

    /// <summary><c>trace-index/dt=…/hour=…/search.parquet</c> for <paramref name="hour"/>.</summary>
    public static string Key(ArchiveHour hour) => string.Create(CultureInfo.InvariantCulture, $"{TraceIndex.Prefix}dt={hour.Day}/hour={hour.Hour}/{ObjectName}");

    /// <summary>The metadata value naming <paramref name="objects"/>: the header, then one <c>&lt;size&gt; &lt;key&gt;</c> line each.</summary>
    public static string EncodeObjects(IEnumerable<IndexedObject> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var text = new StringBuilder(Header).Append('\n');
        foreach (var o in objects.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            if (o.Key.Contains('\n', StringComparison.Ordinal) || o.Key.Contains('\'', StringComparison.Ordinal))
            {
                throw new ArgumentException($"archive key with a line break or quote: {o.Key}", nameof(objects));
            }

            text.Append(o.Size.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(o.Key).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The objects named by a metadata value; null when it is not one (other header, malformed line).</summary>
    public static IReadOnlyList<IndexedObject>? DecodeObjects(string? value)
    {
        if (value is null || !value.StartsWith(Header + "\n", StringComparison.Ordinal))
        {
            return null;
        }

        var objects = new List<IndexedObject>();
        foreach (var line in value[(Header.Length + 1)..].Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || space == line.Length - 1
                || !long.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                return null;
            }

            objects.Add(new IndexedObject(line[(space + 1)..], size));
        }

        return objects;
    }

    /// <summary>
    /// What a search reads of an hour whose objects are <paramref name="listed"/> now and whose
    /// summary names <paramref name="summarized"/> (null: no usable summary).
    /// </summary>
    public static SearchSummaryCoverage Cover(IReadOnlyList<IndexedObject>? summarized, IReadOnlyList<IndexedObject> listed)
    {
        ArgumentNullException.ThrowIfNull(listed);
        var all = listed.Select(o => o.Key).Order(StringComparer.Ordinal).ToList();
        if (summarized is null)
        {
            return new SearchSummaryCoverage(false, all);
        }

        var now = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var o in listed)
        {
            now[o.Key] = o.Size;
        }

        // Every object the summary holds rows of must be unchanged, or its rows could differ from the object's.
        if (summarized.Any(o => !now.TryGetValue(o.Key, out var size) || size != o.Size))
        {
            return new SearchSummaryCoverage(false, all);
        }

        var named = summarized.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        return new SearchSummaryCoverage(true, all.Where(k => !named.Contains(k)).ToList());
    }

    /// <summary>The fields of a subsegment that a service filter matches a call on (Graph/CallTargets' names).</summary>
    private static string Call(string x) =>
        $"name := {x}.name, aws := struct_pack(table_name := {x}.aws.table_name, queue_url := {x}.aws.queue_url), sql := struct_pack(url := {x}.sql.url), "
        + $"http := struct_pack(request := struct_pack(url := {x}.http.request.url))";
}
