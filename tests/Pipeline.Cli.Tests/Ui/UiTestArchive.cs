using System.Buffers;
using System.Text;
using Pipeline.Core.Archive;
using Pipeline.Core.Cost;
using Pipeline.Core.Segments;
using Pipeline.Core.Usage;
using Pipeline.Functions.CostReport;
using Pipeline.Testing;
using Pipeline.Testing.BadInput;
using Pipeline.Testing.Builders;

namespace Pipeline.Cli.Tests.Ui;

/// <summary>
/// An archive directory for the UI's tests, written with the ingest's own key and line writers:
/// in the hour before <see cref="Now"/>, the faulted demo trace, <see cref="OkTraces"/> healthy
/// service-a → service-b traces (durations 20, 40, … ms; every third annotated customer=alice),
/// a throttled trace and a trace full of script and markup payloads; in the hour before that,
/// healthy traffic only (so the map's diff shows DynamoDB as new); the bad-input corpus
/// quarantined with the validator's reasons; and one stored cost report with its chart.
/// </summary>
public sealed class UiTestArchive : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    public static readonly DateTimeOffset FaultedStart = new(2026, 11, 25, 11, 40, 0, TimeSpan.Zero);

    public static readonly string Faulted = DemoTrace.TraceId(FaultedStart);

    public static readonly DateTimeOffset HostileStart = new(2026, 11, 25, 11, 45, 0, TimeSpan.Zero);

    public static readonly string Hostile = DemoTrace.TraceId(HostileStart, seed: 666);

    public static readonly DateTimeOffset ThrottledStart = new(2026, 11, 25, 11, 50, 0, TimeSpan.Zero);

    public static readonly string Throttled = DemoTrace.TraceId(ThrottledStart, seed: 429);

    public static readonly DateOnly ReportDay = new(2026, 11, 24);

    public const int OkTraces = 12;

    /// <summary>Script and markup payloads, put in every string field of the hostile trace.</summary>
    public static readonly IReadOnlyList<string> Payloads =
    [
        "<script>window.__pwned=1</script>",
        "\"><img src=x onerror=\"window.__pwned=1\">",
        "'><svg onload=window.__pwned=1>",
        "</style></title><script>window.__pwned=1</script>",
        "javascript:window.__pwned=1",
        "\u001b]0;owned\u0007\u001b[2J",
        "\u202egnp.exe",
    ];

    public UiTestArchive()
    {
        Root = Path.Combine(Path.GetTempPath(), "pipeline-ui-tests-" + Guid.NewGuid().ToString("N"));
        var current = new List<string>(DemoTrace.Documents(FaultedStart, Faulted));
        for (var i = 0; i < OkTraces; i++)
        {
            current.AddRange(Healthy(new DateTimeOffset(2026, 11, 25, 11, 2 + (3 * i), 0, TimeSpan.Zero), seed: 1000 + i, durationMs: 20 * (i + 1), annotated: i % 3 == 0));
        }

        current.Add(SegmentBuilder.Segment("service-b", seed: 7, ThrottledStart).WithTraceId(Throttled).WithDuration(TimeSpan.FromMilliseconds(5))
            .WithHttp("POST", "http://service-b/pay", 429).WithError().WithThrottle().ToJson());
        current.AddRange(HostileTrace());
        var previous = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            previous.AddRange(Healthy(new DateTimeOffset(2026, 11, 25, 10, 5 + (10 * i), 0, TimeSpan.Zero), seed: 2000 + i, durationMs: 30, annotated: false));
        }

        WriteGzip(ArchiveKeys.Segments("shardId-000000000000", "100", new DateTimeOffset(2026, 11, 25, 11, 0, 5, TimeSpan.Zero)), current.Where((_, i) => i % 2 == 0));
        WriteGzip(ArchiveKeys.Segments("shardId-000000000001", "100", new DateTimeOffset(2026, 11, 25, 11, 0, 7, TimeSpan.Zero)), current.Where((_, i) => i % 2 == 1));
        WriteGzip(ArchiveKeys.Segments("shardId-000000000000", "50", new DateTimeOffset(2026, 11, 25, 10, 0, 5, TimeSpan.Zero)), previous);
        WriteQuarantine();
        WriteReport();
    }

    public string Root { get; }

    /// <summary>Ingest-stage bad inputs (by the validator's own verdict) and their reason codes.</summary>
    public static IReadOnlyList<string> QuarantineReasons { get; } = BadInputCorpus.Cases(Now)
        .Where(c => c.Stage == BadInputStage.Ingest)
        .Select(c => SegmentValidator.ParseAndValidate(c.Document.ToArray(), Now).Rejection)
        .Where(r => r.IsRejected)
        .Select(r => r.Reason.ToCode())
        .ToList();

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }

    private static IEnumerable<string> Healthy(DateTimeOffset start, int seed, double durationMs, bool annotated)
    {
        var traceId = DemoTrace.TraceId(start, seed);
        var random = new Random(seed);
        var a = SegmentBuilder.Segment("service-a", seed, start).WithTraceId(traceId).WithDuration(TimeSpan.FromMilliseconds(durationMs))
            .WithHttp("GET", "http://service-a/cart", 200);
        var callId = SegmentBuilder.NewId(random);
        a = a.WithSubsegment(SegmentBuilder.Embedded("service-b", seed + 1, start.AddMilliseconds(1)).WithId(callId).WithNamespace("remote")
            .WithDuration(TimeSpan.FromMilliseconds(durationMs - 2)).WithHttp("GET", "http://service-b/price", 200));
        if (annotated)
        {
            a = a.WithAnnotation("customer", "alice");
        }

        var b = SegmentBuilder.Segment("service-b", seed + 2, start.AddMilliseconds(2)).WithTraceId(traceId).WithParentId(callId)
            .WithDuration(TimeSpan.FromMilliseconds(durationMs - 4)).WithHttp("GET", "http://service-b/price", 200);
        return [a.ToJson(), b.ToJson()];
    }

    private static IEnumerable<string> HostileTrace()
    {
        var p = string.Concat(Payloads);
        var root = SegmentBuilder.Segment("service-a", seed: 66, HostileStart).WithTraceId(Hostile).WithDuration(TimeSpan.FromMilliseconds(50))
            .Set("name", "evil " + p).WithOrigin(p).WithHttp("GET", "http://service-a/?q=" + p, 500).WithFault()
            .WithAnnotation("note", p).WithMetadata("default", "payload", p).WithCause(p, type: p)
            .WithSubsegment(SegmentBuilder.Embedded(p, seed: 67, HostileStart.AddMilliseconds(5)).WithDuration(TimeSpan.FromMilliseconds(10)).WithSql("jdbc:" + p, p, p));
        return [root.ToJson()];
    }

    private void WriteQuarantine()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var sequence = 1;
        foreach (var c in BadInputCorpus.Cases(Now).Where(c => c.Stage == BadInputStage.Ingest))
        {
            var document = c.Document.ToArray();
            var rejection = SegmentValidator.ParseAndValidate(document, Now).Rejection;
            if (rejection.IsRejected)
            {
                ArchiveLines.WriteQuarantine(buffer, QuarantineEntry.FromRejection(rejection, (sequence++).ToString(System.Globalization.CultureInfo.InvariantCulture), Now.AddMinutes(-30), document));
            }
        }

        Write(ArchiveKeys.Quarantine("shardId-000000000000", "1", Now.AddMinutes(-30)), TestGzip.Compress(buffer.WrittenSpan));
    }

    private void WriteReport()
    {
        var aggregator = new UsageAggregator();
        for (var day = 1; day <= ReportDay.Day; day++)
        {
            aggregator.Add(UsageJson.Serialize(new UsageRecord
            {
                Shard = "shardId-000000000000",
                FirstSequence = day.ToString(System.Globalization.CultureInfo.InvariantCulture),
                LastSequence = day.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ArrivedAt = new DateTimeOffset(ReportDay.Year, ReportDay.Month, day, 8, 0, 0, TimeSpan.Zero),
                TracesSeen = 200_000 + (day * 1000),
                TracesKept = 20_000,
                KeptByReason = new KeptByReason { Head = 20_000 },
                BytesArchived = 5_000_000,
                Services = [new ServiceUsage { Name = "service-a", Segments = 300_000, Traces = 200_000 }],
            }));
        }

        var outputs = CostReportJob.Run(new CostReportInputs
        {
            AsOf = ReportDay,
            GeneratedAt = Now.AddHours(-5),
            Prices = PriceTable.Default,
            Mail = new ReportMailSettings { From = "reports@example.com", To = ["ops@example.com"] },
            Usage = aggregator.Fold(),
        });
        Write(ReportKeys.Html(ReportDay), CostReportJob.Utf8(outputs.StoredHtml));
        Write(ReportKeys.Png(ReportDay), outputs.Png);
        Write(ReportKeys.Json(ReportDay), outputs.Json);
    }

    /// <summary>Writes (or rewrites) one gzip NDJSON object of segment documents at <paramref name="key"/>.</summary>
    public void WriteGzip(string key, IEnumerable<string> lines) => Write(key, TestGzip.Compress(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n")));

    /// <summary>The segment documents of a healthy service-a → service-b trace (public for tests that add traffic).</summary>
    public static IEnumerable<string> HealthyTrace(DateTimeOffset start, int seed, double durationMs) => Healthy(start, seed, durationMs, annotated: false);

    private void Write(string key, byte[] bytes)
    {
        var path = Path.Combine(Root, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }
}
