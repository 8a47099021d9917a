using System.Globalization;
using System.Text.Json;

namespace Pipeline.Core.Graph;

/// <summary>Keys of the graph outputs and the mapping between <see cref="ServiceGraph"/> and its JSON document.</summary>
public static class ServiceGraphJson
{
    public const string GraphsPrefix = "graphs/";

    private const string KeyTimeFormat = "yyyyMMdd'T'HHmm'Z'";

    /// <summary><c>graphs/dt=YYYY-MM-DD/&lt;start&gt;-&lt;end&gt;</c> (no extension), times as yyyyMMddTHHmmZ, dt of the start (UTC).</summary>
    public static string KeyStem(DateTimeOffset windowStart, DateTimeOffset windowEnd)
    {
        var s = windowStart.UtcDateTime;
        var e = windowEnd.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{GraphsPrefix}dt={s:yyyy-MM-dd}/{s.ToString(KeyTimeFormat, CultureInfo.InvariantCulture)}-{e.ToString(KeyTimeFormat, CultureInfo.InvariantCulture)}");
    }

    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static GraphDocument ToDocument(ServiceGraph graph, GraphDiffDocument? diff = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var services = graph.Nodes.Select(n => new ServiceDocument
        {
            ReferenceId = n.ReferenceId,
            Name = n.Name,
            Names = [n.Name],
            Type = n.Type,
            Root = n.Root,
            Depth = n.Depth,
            SummaryStatistics = n.Kind == GraphNodeKind.Client ? null : Summary(n.Summary),
            Edges = graph.Edges.Where(e => e.From == n.ReferenceId).Select(Edge).ToList(),
        }).ToList();
        return new GraphDocument
        {
            StartTime = Iso(graph.WindowStart),
            EndTime = Iso(graph.WindowEnd),
            Engine = graph.Engine,
            PercentileRelativeAccuracy = LatencySketch.RelativeAccuracy,
            Services = services,
            Diff = diff,
            Documents = graph.Counters.Documents,
            Calls = graph.Counters.Calls,
            PeakPendingJoins = graph.Counters.PeakPending,
            Skipped = graph.Counters.NonZero().ToDictionary(r => r.Reason.ToString(), r => r.Count),
        };
    }

    public static byte[] Serialize(GraphDocument document) =>
        JsonSerializer.SerializeToUtf8Bytes(document, GraphJsonContext.Default.GraphDocument);

    /// <summary>Reads a document written by <see cref="Serialize"/>; null when it is not one (or of a newer schema).</summary>
    public static GraphDocument? TryDeserialize(ReadOnlySpan<byte> json)
    {
        try
        {
            var document = JsonSerializer.Deserialize(json, GraphJsonContext.Default.GraphDocument);
            return document is { SchemaVersion: <= GraphDocument.CurrentSchemaVersion, Services: not null } ? document : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static EdgeDocument Edge(GraphEdge e) => new()
    {
        ReferenceId = e.To,
        SummaryStatistics = Summary(e.Statistics),
        ResponseTimeHistogram = e.Statistics.Latency.Buckets().Select(b => new HistogramEntryDocument(Round(b.Value), b.Count)).ToList(),
        Percentiles = new PercentilesDocument(Seconds(e.Percentiles.P50), Seconds(e.Percentiles.P90), Seconds(e.Percentiles.P99)),
    };

    private static SummaryStatisticsDocument Summary(EdgeStatistics s) => new()
    {
        OkCount = s.OkCount,
        ErrorStatistics = new ErrorStatisticsDocument(s.ThrottleCount, s.ErrorOtherCount, s.ErrorCount),
        FaultStatistics = new FaultStatisticsDocument(s.FaultCount, s.FaultCount),
        TotalCount = s.TotalCount,
        TotalResponseTime = Round(s.TotalResponseTime),
    };

    private static double? Seconds(double value) => double.IsNaN(value) ? null : Round(value);

    /// <summary>Microseconds: X-Ray's time resolution, and it keeps the bytes stable across summation orders.</summary>
    private static double Round(double seconds) => Math.Round(seconds, 6, MidpointRounding.ToEven);
}
