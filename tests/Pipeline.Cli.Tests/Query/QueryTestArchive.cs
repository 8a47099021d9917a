using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

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

        WriteGzipLines("segments/dt=2026-11-25/hour=07/shardId-000000000000-1.ndjson.gz",
            Trace1SegmentA(), Trace1SegmentB(), Trace1Independent(), Trace4InProgress(), Trace6Throttled(),
            "{\"trace_id\": \"1-broken\", \"id\": ");
        WriteGzipLines("segments/dt=2026-11-25/hour=08/shardId-000000000001-7.ndjson.gz",
            Trace2SegmentA(), Trace2SegmentB());
        WriteGzipLines("segments/dt=2026-11-24/hour=23/shardId-000000000000-0.ndjson.gz", Trace3Error());
        WriteGzipLines("segments/dt=2026-11-20/hour=12/shardId-000000000000-0.ndjson.gz", OldSlowTrace());

        WriteGzipLines("quarantine/dt=2026-11-25/shardId-000000000000-1.ndjson.gz",
            Quarantine("invalid_trace_id", 11, "$.trace_id", "2026-11-25T07:01:00.000Z", "{\"trace_id\":\"x\"}"),
            Quarantine("missing_name", 3, "$.name", "2026-11-25T07:03:00.000Z", "{\"id\":\"0000000000000001\"}"),
            Quarantine("invalid_trace_id", 11, "$.trace_id", "2026-11-25T07:05:00.000Z", "{\"trace_id\":\"1-zz\"}"));
        WriteGzipLines("quarantine/dt=2026-11-24/shardId-000000000000-0.ndjson.gz",
            Quarantine("document_too_large", 1, "$", "2026-11-24T23:59:00.000Z", "{}"));

        WriteText("usage/dt=2026-11-25/shardId-000000000000-1.json", Usage(10, 8, 2, 4, 5, 2, 2048, extra: 7));
        WriteText("usage/dt=2026-11-25/shardId-000000000001-7.json", Usage(5, 4, 1, 2, 3, 1, 1024, extra: null));
        WriteText("usage/dt=2026-11-24/shardId-000000000000-0.json", Usage(3, 3, 0, 1, 2, 1, 512, extra: null));
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

    /// <summary>A quarantine line as Pipeline.Core's ArchiveLines.WriteQuarantine writes it.</summary>
    private static string Quarantine(string reason, int code, string path, string arrival, string original)
    {
        var bytes = Encoding.UTF8.GetBytes(original);
        return new JsonObject
        {
            ["reason"] = reason,
            ["reason_code"] = code,
            ["path"] = path,
            ["sequence_number"] = "4960" + arrival[17..19],
            ["arrival_time"] = arrival,
            ["size"] = bytes.Length,
            ["original_base64"] = Convert.ToBase64String(bytes),
        }.ToJsonString();
    }

    private static string Usage(long segmentsIn, long valid, long invalid, long kept, long tracesSeen, long tracesKept, long bytes, long? extra)
    {
        var usage = new JsonObject
        {
            ["version"] = 1,
            ["shard"] = "shardId-000000000000",
            ["first_sequence"] = "1",
            ["last_sequence"] = "9",
            ["arrived_at"] = "2026-11-25T07:00:00+00:00",
            ["kinesis_records"] = segmentsIn,
            ["segments_in"] = segmentsIn,
            ["segments_valid"] = valid,
            ["segments_invalid"] = invalid,
            ["segments_kept"] = kept,
            ["traces_seen"] = tracesSeen,
            ["traces_kept"] = tracesKept,
            ["kept_by_reason"] = new JsonObject { ["head"] = tracesKept, ["tail_error"] = 0, ["tail_fault"] = 0, ["tail_throttle"] = 0, ["tail_slow"] = 0 },
            ["bytes_in"] = bytes * 4,
            ["bytes_archived"] = bytes,
            ["xray_put_calls"] = 1,
            ["xray_documents"] = kept,
            ["lambda_duration_ms"] = 120,
            ["lambda_memory_mb"] = 512,
            ["s3_puts"] = 3,
            ["services"] = new JsonArray(new JsonObject { ["name"] = "service-a", ["segments"] = segmentsIn, ["traces"] = tracesSeen }),
        };
        if (extra is { } x)
        {
            usage["extra_future_counter"] = x;
        }

        return usage.ToJsonString();
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
