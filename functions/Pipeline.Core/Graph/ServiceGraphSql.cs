using System.Globalization;
using Pipeline.Core.Query;

namespace Pipeline.Core.Graph;

/// <summary>
/// The SQL engine of the service graph: athena/service_graph.sql (embedded) bound to a window,
/// and its result rows (from Athena, or DuckDB through <see cref="AthenaToDuckDb"/>) turned into
/// the same <see cref="ServiceGraph"/> the streaming builder makes. Histograms are not computed
/// by the SQL (the percentiles come from approx_percentile), so SQL edges have none.
/// </summary>
public static class ServiceGraphSql
{
    public const string QueryName = "service_graph";
    private const string ResourceName = "Pipeline.Core.Graph.service_graph.sql";

    /// <summary>Segments arriving this long after a window still count (they land in the next dt partition near midnight).</summary>
    public static readonly TimeSpan ArrivalGrace = TimeSpan.FromMinutes(10);

    private static readonly Lazy<NamedQuery> Query = new(() =>
    {
        using var stream = typeof(ServiceGraphSql).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        using var reader = new StreamReader(stream);
        return NamedQuery.Parse(QueryName, reader.ReadToEnd());
    });

    /// <summary>The query text as written in athena/service_graph.sql.</summary>
    public static string QueryText => Query.Value.Sql;

    /// <summary>Athena SQL for the window [start, end): partitions dt of start .. dt of end + grace.</summary>
    public static string Bind(DateTimeOffset windowStart, DateTimeOffset windowEnd)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dt_from"] = windowStart.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["dt_to"] = (windowEnd + ArrivalGrace).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["window_start"] = Seconds(windowStart),
            ["window_end"] = Seconds(windowEnd),
        };
        return Query.Value.Bind(values, DateOnly.FromDateTime(windowStart.UtcDateTime));
    }

    /// <summary>Builds the graph from the query's rows (cells as text, as Athena returns them).</summary>
    /// <exception cref="FormatException">A column is missing or a cell is not what the query produces.</exception>
    public static ServiceGraph FromRows(DateTimeOffset windowStart, DateTimeOffset windowEnd, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string?>> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        var col = new Columns(columns);
        var nodes = new List<ServiceGraphBuilder.RawNode>();
        var ids = new Dictionary<(string, string), int>();
        var edges = new List<ServiceGraphBuilder.RawEdge>();
        var counters = new GraphBuildCounters();
        int Node(string name, string type, string kind)
        {
            if (!ids.TryGetValue((name, type), out var id))
            {
                id = nodes.Count;
                ids[(name, type)] = id;
                nodes.Add(new ServiceGraphBuilder.RawNode(name, type, Kind(kind), new EdgeStatistics()));
            }

            return id;
        }

        Node(CallTargets.ClientName, CallTargets.ClientType, "client");
        var inferredIncoming = new List<(int Node, EdgeStatistics Stats)>();
        foreach (var row in rows)
        {
            var stats = Statistics(row, col);
            var caller = Node(Text(row, col.Caller), Text(row, col.CallerType), Text(row, col.CallerKind));
            if (Text(row, col.RowKind) == "node")
            {
                nodes[caller].Summary.Merge(stats);
                counters.Documents += stats.TotalCount;
                continue;
            }

            var calleeKind = Text(row, col.CalleeKind);
            var callee = Node(Text(row, col.Callee), Text(row, col.CalleeType), calleeKind);
            var percentiles = new Percentiles(Number(row, col.P50), Number(row, col.P90), Number(row, col.P99));
            edges.Add(new ServiceGraphBuilder.RawEdge(caller, callee, stats, percentiles));
            if (nodes[caller].Kind != GraphNodeKind.Client)
            {
                counters.Calls += stats.TotalCount;
            }

            if (calleeKind != "service")
            {
                inferredIncoming.Add((callee, stats));
            }
        }

        // The builder's inferred nodes summarise the calls into them; do the same.
        foreach (var (node, stats) in inferredIncoming)
        {
            nodes[node].Summary.Merge(stats);
        }

        return ServiceGraphBuilder.Assemble(windowStart, windowEnd, nodes, edges, counters, "sql");
    }

    private static EdgeStatistics Statistics(IReadOnlyList<string?> row, Columns col)
    {
        var stats = new EdgeStatistics();
        var total = Count(row, col.TotalSeconds);
        stats.AddCounts(CallOutcome.Ok, Long(row, col.Ok), total);
        stats.AddCounts(CallOutcome.Error, Long(row, col.Errors), 0);
        stats.AddCounts(CallOutcome.Throttle, Long(row, col.Throttles), 0);
        stats.AddCounts(CallOutcome.Fault, Long(row, col.Faults), 0);
        if (stats.TotalCount != Long(row, col.Requests))
        {
            throw new FormatException("requests is not the sum of ok, errors, throttles and faults");
        }

        return stats;
    }

    private static GraphNodeKind Kind(string kind) => kind switch
    {
        "client" => GraphNodeKind.Client,
        "service" => GraphNodeKind.Service,
        "aws" => GraphNodeKind.Aws,
        "database" => GraphNodeKind.Database,
        "remote" => GraphNodeKind.Remote,
        _ => throw new FormatException($"unknown node kind '{kind}'"),
    };

    private static string Text(IReadOnlyList<string?> row, int index) =>
        row[index] ?? throw new FormatException($"column {index} is NULL");

    private static long Long(IReadOnlyList<string?> row, int index) =>
        long.Parse(Text(row, index), NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static double Count(IReadOnlyList<string?> row, int index) =>
        row[index] is { } s ? double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) : 0;

    private static double Number(IReadOnlyList<string?> row, int index) =>
        row[index] is { } s ? double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) : double.NaN;

    private static string Seconds(DateTimeOffset time) =>
        (time.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);

    private sealed class Columns
    {
        public Columns(IReadOnlyList<string> names)
        {
            int Find(string name)
            {
                for (var i = 0; i < names.Count; i++)
                {
                    if (string.Equals(names[i], name, StringComparison.OrdinalIgnoreCase))
                    {
                        return i;
                    }
                }

                throw new FormatException($"the result has no column '{name}'");
            }

            RowKind = Find("row_kind");
            Caller = Find("caller");
            CallerType = Find("caller_type");
            CallerKind = Find("caller_kind");
            Callee = Find("callee");
            CalleeType = Find("callee_type");
            CalleeKind = Find("callee_kind");
            Requests = Find("requests");
            Ok = Find("ok");
            Errors = Find("errors");
            Throttles = Find("throttles");
            Faults = Find("faults");
            TotalSeconds = Find("total_seconds");
            P50 = Find("p50");
            P90 = Find("p90");
            P99 = Find("p99");
        }

        public int RowKind { get; }
        public int Caller { get; }
        public int CallerType { get; }
        public int CallerKind { get; }
        public int Callee { get; }
        public int CalleeType { get; }
        public int CalleeKind { get; }
        public int Requests { get; }
        public int Ok { get; }
        public int Errors { get; }
        public int Throttles { get; }
        public int Faults { get; }
        public int TotalSeconds { get; }
        public int P50 { get; }
        public int P90 { get; }
        public int P99 { get; }
    }
}
