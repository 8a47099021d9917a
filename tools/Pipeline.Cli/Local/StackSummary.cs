using System.Globalization;
using System.Text;
using Pipeline.Core.Graph;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Pipeline.Cli.Local;

/// <summary>
/// One sample of everything the live summary and <c>pipeline status</c> show: relay counters
/// (its /metrics), delivery counters (the event-source mapping), the functions' EMF totals and
/// the latest service-graph edges.
/// </summary>
internal sealed record StackSummary(IReadOnlyDictionary<string, long> Counters, IReadOnlyList<string> GraphEdges, string? Traffic)
{
    /// <summary>Relay metric → summary name.</summary>
    private static readonly (string Metric, string Name)[] RelayCounters =
    [
        ("xray_relay_received_datagrams_total", "relay.received"),
        ("xray_relay_forwarded_segments_total", "relay.forwarded"),
        ("xray_relay_spooled_segments_total", "relay.spooled"),
        ("xray_relay_otlp_spans_accepted_total", "relay.otlp_spans"),
        ("xray_relay_otlp_spans_retry_total", "relay.otlp_retried"),
    ];

    /// <summary>EMF metric names of the ingest that read as what people ask: archived, quarantined.</summary>
    private static readonly (string Metric, string Label)[] Highlights =
    [
        ("SegmentsValid", "archived"),
        ("SegmentsInvalid", "quarantined"),
        ("TracesSeen", "traces seen"),
        ("TracesKept", "traces kept"),
        ("SegmentsKept", "segments sent to X-Ray"),
    ];

    public const int MaxGraphEdges = 12;

    public static StackSummary Sample(
        IReadOnlyDictionary<string, double> relay, DeliveryCounters? delivery, MetricTotals functions, IReadOnlyList<string> graphEdges, string? traffic,
        params ScheduledFunction?[] scheduled)
    {
        var counters = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (metric, name) in RelayCounters)
        {
            counters[name] = relay.TryGetValue(metric, out var v) ? (long)v : 0;
        }

        counters["relay.dropped"] = (long)relay.Where(p => p.Key.StartsWith("xray_relay_dropped_segments_total", StringComparison.Ordinal)).Sum(p => p.Value);
        counters["relay.otlp_refused"] = (long)relay.Where(p => p.Key.StartsWith("xray_relay_otlp_spans_refused_total", StringComparison.Ordinal)).Sum(p => p.Value);
        if (delivery is not null)
        {
            counters["ingest.invocations"] = delivery.Invocations;
            counters["ingest.records_delivered"] = delivery.Acknowledged;
            counters["ingest.partial_failures"] = delivery.Count(DeliveryOutcome.PartialFailure) + delivery.Count(DeliveryOutcome.BadItemIdentifier);
            counters["ingest.function_errors"] = delivery.Count(DeliveryOutcome.FunctionError);
            counters["ingest.records_discarded"] = delivery.DiscardedRecords;
        }

        foreach (var function in scheduled.OfType<ScheduledFunction>())
        {
            counters[function.Name + ".runs"] = function.Runs;
            counters[function.Name + ".failures"] = function.Failures;
            counters[function.Name + ".skipped"] = function.Skipped;
        }

        foreach (var (name, value) in functions.Snapshot())
        {
            counters["fn." + name] = value;
        }

        return new StackSummary(counters, graphEdges, traffic);
    }

    public long Get(string name) => Counters.TryGetValue(name, out var v) ? v : 0;

    /// <summary>One line for redirected output.</summary>
    public string ToLine()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"relay received={Get("relay.received")} otlp_spans={Get("relay.otlp_spans")} forwarded={Get("relay.forwarded")} dropped={Get("relay.dropped")}");
        if (Get("relay.otlp_refused") > 0 || Get("relay.otlp_retried") > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" otlp_refused={Get("relay.otlp_refused")} otlp_retried={Get("relay.otlp_retried")}");
        }

        text.Append(CultureInfo.InvariantCulture, $" | ingest records={Get("ingest.records_delivered")} retries={Get("ingest.partial_failures") + Get("ingest.function_errors")} discarded={Get("ingest.records_discarded")}");
        foreach (var (metric, label) in Highlights)
        {
            if (Counters.ContainsKey("fn." + metric))
            {
                text.Append(CultureInfo.InvariantCulture, $" | {label.Replace(' ', '_')}={Get("fn." + metric)}");
            }
        }

        if (GraphEdges.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" | graph edges={GraphEdges.Count}");
        }

        return text.ToString();
    }

    public IRenderable ToRenderable(string title)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(title).AddColumn("").AddColumn(new TableColumn("").RightAligned());
        table.ShowHeaders = false;
        void Row(string label, long value) => table.AddRow(new Text(label, new Style(Color.Grey)), new Text(value.ToString("N0", CultureInfo.InvariantCulture)));
        Row("segments received (relay, UDP)", Get("relay.received"));
        Row("OTLP spans received (relay)", Get("relay.otlp_spans"));
        Row("records forwarded to Kinesis", Get("relay.forwarded"));
        Row("segments dropped by the relay", Get("relay.dropped"));
        Row("OTLP spans refused (partial_success)", Get("relay.otlp_refused"));
        Row("OTLP spans told to retry (buffer full)", Get("relay.otlp_retried"));
        Row("Kinesis records delivered to ingest", Get("ingest.records_delivered"));
        Row("batches retried", Get("ingest.partial_failures") + Get("ingest.function_errors"));
        Row("records discarded after retries", Get("ingest.records_discarded"));
        foreach (var (metric, label) in Highlights)
        {
            if (Counters.ContainsKey("fn." + metric))
            {
                Row(label, Get("fn." + metric));
            }
        }

        const string rejected = "fn." + MetricTotals.RejectPrefix;
        foreach (var (name, value) in Counters.Where(p => p.Key.StartsWith(rejected, StringComparison.Ordinal)))
        {
            Row("  quarantined: " + name[rejected.Length..], value);
        }

        var rows = new List<IRenderable> { table };
        if (GraphEdges.Count > 0)
        {
            rows.Add(new Panel(new Rows(GraphEdges.Select(e => new Text(e)))).Header("latest service graph").Border(BoxBorder.Rounded));
        }

        if (Traffic is not null)
        {
            rows.Add(new Text("demo traffic: " + Traffic, new Style(Color.Grey)));
        }

        rows.Add(new Text("Ctrl-C (or ./pipeline down) stops the stack", new Style(Color.Grey)));
        return new Rows(rows);
    }

    /// <summary>"caller -> callee  (N requests, F faults)" lines of a service graph document, busiest first.</summary>
    public static IReadOnlyList<string> EdgesOf(GraphDocument graph)
    {
        var names = graph.Services.ToDictionary(s => s.ReferenceId, s => s.Name);
        return [.. graph.Services
            .SelectMany(s => s.Edges.Select(e => (From: s.Name, To: names.GetValueOrDefault(e.ReferenceId, "?"), Stats: e.SummaryStatistics)))
            .OrderByDescending(e => e.Stats.TotalCount)
            .ThenBy(e => e.From, StringComparer.Ordinal)
            .Take(MaxGraphEdges)
            .Select(e => string.Create(CultureInfo.InvariantCulture,
                $"{e.From} -> {e.To}  ({e.Stats.TotalCount} requests, {e.Stats.ErrorStatistics.TotalCount} errors, {e.Stats.FaultStatistics.TotalCount} faults)"))];
    }
}
