using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Pipeline.Core.Archive;
using Pipeline.Core.Segments;
using Pipeline.Core.Usage;

namespace Pipeline.Cli.Tests.Query;

/// <summary>
/// A fixed archive in the ingest's layout (gzip NDJSON under segments/dt=/hour=/, quarantine/dt=/,
/// usage/dt=/) built from a known set of segment documents, so every named query has a known
/// answer. The documents are shaped like the SDKs' (ids, http, aws, subsegments, annotations).
/// The window the tests query is 2026-11-24..2026-11-25; one slow trace on 2026-11-20 lies
/// outside it and must never show up.
/// </summary>
public sealed class QueryTestArchive : IDisposable
{
    public const string DtFrom = "2026-11-24";
    public const string DtTo = "2026-11-25";

    /// <summary>2026-11-25T07:00:00Z.</summary>
    public const double T = 1795590000;

    public const string Trace1 = "1-69255570-000000000000000000000001";
    public const string Trace2 = "1-69255570-000000000000000000000002";
    public const string Trace3 = "1-6924ee00-000000000000000000000003";
    public const string Trace4 = "1-69255570-000000000000000000000004";
    public const string Trace6 = "1-69255570-000000000000000000000006";
    public const string TraceOld = "1-691e5000-0000000000000000000000ff";

    public const string Shard0 = "shardId-000000000000";
    public const string Shard1 = "shardId-000000000001";

    public const string S1A = "a100000000000001";
    public const string S1B = "b100000000000001";
    public const string Sub1 = "c100000000000001";
    public const string Independent1 = "d100000000000001";

    /// <summary>Segment documents archived inside the window (the malformed line is not one).</summary>
    public const int SegmentsInWindow = 8;

    public const int SegmentsTotal = 9;

    /// <summary>
    /// Rows of the segments table: a malformed line reads as a row of NULLs, as the OpenX
    /// SerDe with ignore.malformed.json does in Athena.
    /// </summary>
    public const int SegmentRowsTotal = 10;

    /// <summary>Lines in the segment objects (segments_raw rows), including the malformed one.</summary>
    public const int SegmentLinesTotal = SegmentRowsTotal;

    public QueryTestArchive()
    {
        Root = Path.Combine(Path.GetTempPath(), "pipeline-query-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);

        // Keys and lines come from the ingest's own writers (Pipeline.Core.Archive / Usage), so a
        // change to the archive layout or line formats shows up here against the DDL.
        WriteGzipLines(ArchiveKeys.Segments(Shard0, "1", At(2026, 11, 25, 7)),
            Trace1SegmentA(), Trace1SegmentB(), Trace1Independent(), Trace4InProgress(), Trace6Throttled(),
            "{\"trace_id\": \"1-broken\", \"id\": ");
        WriteGzipLines(ArchiveKeys.Segments(Shard1, "7", At(2026, 11, 25, 8)), Trace2SegmentA(), Trace2SegmentB());
        WriteGzipLines(ArchiveKeys.Segments(Shard0, "0", At(2026, 11, 24, 23)), Trace3Error());
        WriteGzipLines(ArchiveKeys.Segments(Shard0, "0", At(2026, 11, 20, 12)), OldSlowTrace());

        WriteGzipLines(ArchiveKeys.Quarantine(Shard0, "1", At(2026, 11, 25, 7)),
            Quarantine(SegmentRejectReason.InvalidTraceId, "$.trace_id", "11", At(2026, 11, 25, 7, 1), "{\"trace_id\":\"x\"}"),
            Quarantine(SegmentRejectReason.MissingName, "$.name", "13", At(2026, 11, 25, 7, 3), "{\"id\":\"0000000000000001\"}"),
            Quarantine(SegmentRejectReason.InvalidTraceId, "$.trace_id", "15", At(2026, 11, 25, 7, 5), "{\"trace_id\":\"1-zz\"}"));
        WriteGzipLines(ArchiveKeys.Quarantine(Shard0, "0", At(2026, 11, 24, 23)),
            Quarantine(SegmentRejectReason.TooLarge, "$", "0", At(2026, 11, 24, 23, 59), "{}"));

        WriteUsage(Usage(Shard0, "1", At(2026, 11, 25, 7), 10, 8, 2, 4, 5, 2, 2048), extraFutureCounter: 7);
        WriteUsage(Usage(Shard1, "7", At(2026, 11, 25, 8), 5, 4, 1, 2, 3, 1, 1024), extraFutureCounter: null);
        WriteUsage(Usage(Shard0, "0", At(2026, 11, 24, 23), 3, 3, 0, 1, 2, 1, 512), extraFutureCounter: null);
    }

    public string Root { get; }

    public static IReadOnlyDictionary<string, string> Window => new Dictionary<string, string>
    {
        ["dt_from"] = DtFrom,
        ["dt_to"] = DtTo,
    };

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless; the test result matters more.
        }
    }

    private static string Trace1SegmentA() => Segment(Trace1, S1A, null, "service-a", T + 10.0, T + 10.5,
        http: Http("GET", "https://shop.example/cart", 200),
        annotations: new JsonObject { ["customer"] = "alice", ["tier"] = "gold", ["retries"] = 2, ["vip"] = true },
        subsegments: new JsonArray(
            Sub(Sub1, "b.internal", "remote", T + 10.1, T + 10.4, http: Http("GET", "http://service-b/price", 200)),
            Sub("c100000000000002", "DynamoDB", "aws", T + 10.41, T + 10.45,
                aws: new JsonObject { ["operation"] = "GetItem", ["table_name"] = "carts", ["region"] = "us-east-1" })));

    private static string Trace1SegmentB() => Segment(Trace1, S1B, Sub1, "service-b", T + 10.12, T + 10.38,
        http: Http("GET", "http://service-b/price", 200),
        subsegments: new JsonArray(
            Sub("c100000000000003", "## compute", null, T + 10.13, T + 10.37, nested: new JsonArray(
                Sub("c100000000000004", "postgres@db", "remote", T + 10.14, T + 10.2,
                    sql: new JsonObject { ["url"] = "jdbc:postgresql://db:5432/shop", ["database_type"] = "PostgreSQL" })))));

    private static string Trace1Independent()
    {
        var doc = JsonNode.Parse(Segment(Trace1, Independent1, S1A, "service-a", T + 10.46, T + 10.49))!.AsObject();
        doc["type"] = "subsegment";
        doc["namespace"] = "local";
        return doc.ToJsonString();
    }

    private static string Trace2SegmentA() => Segment(Trace2, "a200000000000001", null, "service-a", T + 3605.0, T + 3606.2,
        http: Http("POST", "https://shop.example/checkout", 500), fault: true,
        annotations: new JsonObject { ["customer"] = "bob" },
        subsegments: new JsonArray(
            Sub("c200000000000001", "b.internal", "remote", T + 3605.05, T + 3606.05, fault: true,
                http: Http("POST", "http://service-b/pay", 500))));

    private static string Trace2SegmentB() => Segment(Trace2, "b200000000000001", "c200000000000001", "service-b", T + 3605.1, T + 3606.0,
        http: Http("POST", "http://service-b/pay", 500), fault: true,
        subsegments: new JsonArray(
            Sub("c200000000000002", "## charge", null, T + 3605.2, T + 3605.9,
                annotations: new JsonObject { ["payment_id"] = "p-42" })));

    private static string Trace3Error() => Segment(Trace3, "a300000000000001", null, "service-a", T - 27000, T - 26999.9,
        http: Http("GET", "https://shop.example/cart", 404), error: true,
        annotations: new JsonObject { ["customer"] = "alice" });

    private static string Trace4InProgress()
    {
        var doc = JsonNode.Parse(Segment(Trace4, "a400000000000001", null, "service-a", T + 20, null,
            http: Http("GET", "https://shop.example/cart", null)))!.AsObject();
        doc["in_progress"] = true;
        return doc.ToJsonString();
    }

    private static string Trace6Throttled() => Segment(Trace6, "b600000000000001", null, "service-b", T + 30, T + 30.05,
        http: Http("GET", "http://service-b/price", 429), error: true, throttle: true);

    private static string OldSlowTrace() => Segment(TraceOld, "a0000000000000ff", null, "service-a", T - 432000, T - 431901,
        http: Http("GET", "https://shop.example/cart", 200), error: true,
        annotations: new JsonObject { ["customer"] = "alice" });

    private static string Segment(
        string traceId, string id, string? parentId, string name, double start, double? end,
        JsonObject? http = null, JsonObject? annotations = null, JsonArray? subsegments = null,
        bool error = false, bool fault = false, bool throttle = false)
    {
        var doc = new JsonObject
        {
            ["trace_id"] = traceId,
            ["id"] = id,
            ["name"] = name,
            ["start_time"] = start,
        };
        if (parentId is not null)
        {
            doc["parent_id"] = parentId;
        }

        if (end is { } e)
        {
            doc["end_time"] = e;
        }

        doc["origin"] = "AWS::EC2::Instance";
        doc["aws"] = new JsonObject
        {
            ["ec2"] = new JsonObject { ["instance_id"] = "i-0123456789abcdef0", ["availability_zone"] = "us-east-1a" },
            ["xray"] = new JsonObject { ["sdk"] = "X-Ray for Node.js", ["sdk_version"] = "3.10.1" },
        };
        Flags(doc, error, fault, throttle);
        Add(doc, "http", http);
        Add(doc, "annotations", annotations);
        doc["metadata"] = new JsonObject { ["default"] = new JsonObject { ["note"] = "not typed in the DDL" } };
        Add(doc, "subsegments", subsegments);
        return doc.ToJsonString();
    }

    private static JsonObject Sub(
        string id, string name, string? ns, double start, double end,
        JsonObject? http = null, JsonObject? aws = null, JsonObject? sql = null, JsonObject? annotations = null,
        JsonArray? nested = null, bool fault = false)
    {
        var sub = new JsonObject { ["id"] = id, ["name"] = name, ["start_time"] = start, ["end_time"] = end };
        if (ns is not null)
        {
            sub["namespace"] = ns;
        }

        Flags(sub, error: false, fault, throttle: false);
        Add(sub, "http", http);
        Add(sub, "aws", aws);
        Add(sub, "sql", sql);
        Add(sub, "annotations", annotations);
        Add(sub, "subsegments", nested);
        return sub;
    }

    private static void Flags(JsonObject doc, bool error, bool fault, bool throttle)
    {
        // The SDKs write a flag only when it is true.
        if (error)
        {
            doc["error"] = true;
        }

        if (fault)
        {
            doc["fault"] = true;
        }

        if (throttle)
        {
            doc["throttle"] = true;
        }
    }

    private static void Add(JsonObject doc, string name, JsonNode? value)
    {
        if (value is not null)
        {
            doc[name] = value;
        }
    }

    private static JsonObject Http(string method, string url, int? status)
    {
        var http = new JsonObject
        {
            ["request"] = new JsonObject { ["method"] = method, ["url"] = url, ["client_ip"] = "10.0.0.7", ["user_agent"] = "curl/8.5.0" },
        };
        if (status is { } s)
        {
            http["response"] = new JsonObject { ["status"] = s, ["content_length"] = 120 };
        }

        return http;
    }

    private static DateTimeOffset At(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    private static string Quarantine(SegmentRejectReason reason, string path, string sequence, DateTimeOffset arrival, string original)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ArchiveLines.WriteQuarantine(buffer, QuarantineEntry.FromRejection(new SegmentRejection(reason, path), sequence, arrival, Encoding.UTF8.GetBytes(original)));
        return Encoding.UTF8.GetString(buffer.WrittenSpan).TrimEnd('\n');
    }

    private static UsageRecord Usage(string shard, string firstSequence, DateTimeOffset arrived, long segmentsIn, long valid, long invalid, long kept, long tracesSeen, long tracesKept, long bytes) => new()
    {
        Shard = shard,
        FirstSequence = firstSequence,
        LastSequence = (long.Parse(firstSequence, CultureInfo.InvariantCulture) + segmentsIn - 1).ToString(CultureInfo.InvariantCulture),
        ArrivedAt = arrived,
        KinesisRecords = segmentsIn,
        SegmentsIn = segmentsIn,
        SegmentsValid = valid,
        SegmentsInvalid = invalid,
        SegmentsKept = kept,
        TracesSeen = tracesSeen,
        TracesKept = tracesKept,
        KeptByReason = new KeptByReason { Head = tracesKept },
        BytesIn = bytes * 4,
        BytesArchived = bytes,
        XRayPutCalls = 1,
        XRayDocuments = kept,
        S3Puts = 3,
        Services = [new ServiceUsage { Name = "service-a", Segments = segmentsIn, Traces = tracesSeen }],
    };

    /// <summary>Writes the record as the ingest does; optionally with a counter a later version might add.</summary>
    private void WriteUsage(UsageRecord record, long? extraFutureCounter)
    {
        var json = JsonNode.Parse(UsageJson.Serialize(record))!.AsObject();
        if (extraFutureCounter is { } extra)
        {
            json["extra_future_counter"] = extra;
        }

        WriteText(ArchiveKeys.Usage(record.Shard, record.FirstSequence, record.ArrivedAt), json.ToJsonString());
    }

    private void WriteGzipLines(string key, params string[] lines)
    {
        var path = Prepare(key);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
        gzip.Write(bytes);
    }

    private void WriteText(string key, string text) => File.WriteAllText(Prepare(key), text + "\n");

    private string Prepare(string key)
    {
        var path = Path.Combine(Root, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
