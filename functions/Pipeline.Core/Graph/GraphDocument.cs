using System.Text.Json.Serialization;

namespace Pipeline.Core.Graph;

// The JSON written to graphs/dt=YYYY-MM-DD/<start>-<end>.json. Field names follow X-Ray
// GetServiceGraph (API reference: Service, Edge, ServiceStatistics, EdgeStatistics,
// HistogramEntry) where it has one; Depth, Percentiles, Diff and the counters are ours.

/// <summary>One window's service map.</summary>
public sealed record GraphDocument
{
    /// <summary>Bumped when a field changes meaning; readers of older windows check it.</summary>
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>ISO 8601 UTC, e.g. 2026-11-25T12:00:00Z.</summary>
    public required string StartTime { get; init; }

    public required string EndTime { get; init; }

    /// <summary>"stream" (the builder) or "sql" (athena/service_graph.sql on Athena or DuckDB).</summary>
    public required string Engine { get; init; }

    /// <summary>Percentiles are within this relative error of the exact nearest-rank value (stream engine).</summary>
    public double PercentileRelativeAccuracy { get; init; }

    public required IReadOnlyList<ServiceDocument> Services { get; init; }

    public GraphDiffDocument? Diff { get; init; }

    public long Documents { get; init; }

    public long Calls { get; init; }

    /// <summary>Most pending joins the streaming builder held at once (the memory bound in use; 0 for SQL).</summary>
    public long PeakPendingJoins { get; init; }

    /// <summary>Skipped items by <see cref="GraphSkipReason"/> name (non-zero only).</summary>
    public IReadOnlyDictionary<string, long> Skipped { get; init; } = new Dictionary<string, long>();
}

public sealed record ServiceDocument
{
    public required int ReferenceId { get; init; }
    public required string Name { get; init; }
    public required IReadOnlyList<string> Names { get; init; }
    public required string Type { get; init; }

    /// <summary>True when the client calls it (an entry point).</summary>
    public required bool Root { get; init; }

    /// <summary>Column in the layered layout (0 = client).</summary>
    public required int Depth { get; init; }

    public SummaryStatisticsDocument? SummaryStatistics { get; init; }
    public required IReadOnlyList<EdgeDocument> Edges { get; init; }
}

public sealed record EdgeDocument
{
    /// <summary>The callee's <see cref="ServiceDocument.ReferenceId"/>.</summary>
    public required int ReferenceId { get; init; }

    public required SummaryStatisticsDocument SummaryStatistics { get; init; }
    public required IReadOnlyList<HistogramEntryDocument> ResponseTimeHistogram { get; init; }
    public required PercentilesDocument Percentiles { get; init; }
}

public sealed record SummaryStatisticsDocument
{
    public required long OkCount { get; init; }
    public required ErrorStatisticsDocument ErrorStatistics { get; init; }
    public required FaultStatisticsDocument FaultStatistics { get; init; }
    public required long TotalCount { get; init; }

    /// <summary>Seconds.</summary>
    public required double TotalResponseTime { get; init; }
}

public sealed record ErrorStatisticsDocument(long ThrottleCount, long OtherCount, long TotalCount);

public sealed record FaultStatisticsDocument(long OtherCount, long TotalCount);

/// <summary>Value in seconds (the bucket's representative), count of calls in the bucket.</summary>
public sealed record HistogramEntryDocument(double Value, long Count);

/// <summary>Seconds; null when the edge had no timed calls.</summary>
public sealed record PercentilesDocument(double? P50, double? P90, double? P99);

/// <summary>What changed against the previous window.</summary>
public sealed record GraphDiffDocument
{
    /// <summary>The previous window's JSON key; null when there was none (then everything is new).</summary>
    public string? PreviousKey { get; init; }

    public required IReadOnlyList<NodeRefDocument> AddedNodes { get; init; }
    public required IReadOnlyList<NodeRefDocument> RemovedNodes { get; init; }
    public required IReadOnlyList<EdgeRefDocument> AddedEdges { get; init; }
    public required IReadOnlyList<EdgeRefDocument> RemovedEdges { get; init; }
    public required IReadOnlyList<RegressionDocument> Regressions { get; init; }
    public required GraphDiffOptions Thresholds { get; init; }
}

public sealed record NodeRefDocument(string Name, string Type);

public sealed record EdgeRefDocument(string From, string To);

/// <summary>An edge that got worse: <see cref="Metric"/> is "failure_rate" (fraction) or "p99" (seconds).</summary>
public sealed record RegressionDocument(string From, string To, string Metric, double Before, double After);

/// <summary>Source-generated serialization of <see cref="GraphDocument"/> (no reflection: trim/AOT safe).</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(GraphDocument))]
public sealed partial class GraphJsonContext : JsonSerializerContext;
