using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pipeline.Testing.Builders;

/// <summary>
/// Builds X-Ray segment documents for tests: valid by default (fresh ids from a seeded Random,
/// a trace epoch at <see cref="DefaultStart"/>), with fluent setters for every field the pipeline
/// reads and raw <see cref="Set"/>/<see cref="Remove"/> to break the schema on purpose.
/// </summary>
public sealed class SegmentBuilder
{
    /// <summary>The daemon header line. Source: X-Ray developer guide, "Sending segment documents to the X-Ray daemon".</summary>
    public const string DaemonHeader = "{\"format\":\"json\",\"version\":1}";

    /// <summary>A fixed start instant (2026-11-25T12:00:00Z) so documents are deterministic.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private readonly JsonObject _json;
    private readonly Random _random;

    private SegmentBuilder(JsonObject json, Random random)
    {
        _json = json;
        _random = random;
    }

    /// <summary>A complete top-level segment named <paramref name="name"/>.</summary>
    public static SegmentBuilder Segment(string name = "service-a", int seed = 1, DateTimeOffset? start = null)
    {
        var random = new Random(seed);
        var at = start ?? DefaultStart;
        var json = new JsonObject
        {
            ["trace_id"] = NewTraceId(at, random),
            ["id"] = NewId(random),
            ["name"] = name,
            ["start_time"] = Seconds(at),
            ["end_time"] = Seconds(at.AddMilliseconds(120)),
        };
        return new SegmentBuilder(json, random);
    }

    /// <summary>A subsegment sent on its own: type, trace_id and parent_id set.</summary>
    public static SegmentBuilder IndependentSubsegment(string name = "DynamoDB", int seed = 2, DateTimeOffset? start = null)
    {
        var builder = Segment(name, seed, start);
        builder._json["type"] = "subsegment";
        builder._json["parent_id"] = NewId(builder._random);
        return builder;
    }

    /// <summary>A subsegment to embed with <see cref="WithSubsegment"/> (no trace_id).</summary>
    public static SegmentBuilder Embedded(string name, int seed = 3, DateTimeOffset? start = null)
    {
        var builder = Segment(name, seed, start);
        builder._json.Remove("trace_id");
        return builder;
    }

    public string TraceId => (string)_json["trace_id"]!;

    public string Id => (string)_json["id"]!;

    public static string NewTraceId(DateTimeOffset epoch, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return string.Create(CultureInfo.InvariantCulture, $"1-{epoch.ToUnixTimeSeconds():x8}-{RandomHex(random, 24)}");
    }

    public static string NewId(Random random) => RandomHex(random, 16);

    public SegmentBuilder WithTraceId(string traceId) => Set("trace_id", traceId);

    public SegmentBuilder WithId(string id) => Set("id", id);

    public SegmentBuilder WithParentId(string parentId) => Set("parent_id", parentId);

    public SegmentBuilder WithName(string name) => Set("name", name);

    public SegmentBuilder WithOrigin(string origin) => Set("origin", origin);

    public SegmentBuilder WithNamespace(string ns) => Set("namespace", ns);

    public SegmentBuilder WithTimes(double start, double? end)
    {
        _json["start_time"] = start;
        if (end is { } e)
        {
            _json["end_time"] = e;
        }
        else
        {
            _json.Remove("end_time");
        }

        return this;
    }

    public SegmentBuilder WithDuration(TimeSpan duration) =>
        Set("end_time", (double)_json["start_time"]! + duration.TotalSeconds);

    public SegmentBuilder InProgress()
    {
        _json.Remove("end_time");
        return Set("in_progress", true);
    }

    public SegmentBuilder WithError(bool value = true) => Set("error", value);

    public SegmentBuilder WithFault(bool value = true) => Set("fault", value);

    public SegmentBuilder WithThrottle(bool value = true) => Set("throttle", value);

    public SegmentBuilder WithHttp(string method, string url, int? status = 200, IReadOnlyDictionary<string, string>? requestHeaders = null)
    {
        var request = new JsonObject { ["method"] = method, ["url"] = url };
        if (requestHeaders is not null)
        {
            var headers = new JsonObject();
            foreach (var (key, value) in requestHeaders)
            {
                headers[key] = value;
            }

            request["headers"] = headers;
        }

        var http = new JsonObject { ["request"] = request };
        if (status is { } s)
        {
            http["response"] = new JsonObject { ["status"] = s, ["content_length"] = 42 };
        }

        return Set("http", http);
    }

    public SegmentBuilder WithAws(string operation, string? tableName = null, string? queueUrl = null, string region = "us-east-1")
    {
        var aws = new JsonObject { ["operation"] = operation, ["region"] = region, ["request_id"] = RandomHex(_random, 32) };
        if (tableName is not null)
        {
            aws["table_name"] = tableName;
        }

        if (queueUrl is not null)
        {
            aws["queue_url"] = queueUrl;
        }

        Set("namespace", "aws");
        return Set("aws", aws);
    }

    public SegmentBuilder WithSql(string url, string databaseType, string? sanitizedQuery = null)
    {
        var sql = new JsonObject { ["url"] = url, ["database_type"] = databaseType };
        if (sanitizedQuery is not null)
        {
            sql["sanitized_query"] = sanitizedQuery;
        }

        Set("namespace", "remote");
        return Set("sql", sql);
    }

    public SegmentBuilder WithAnnotation(string key, JsonNode? value)
    {
        if (_json["annotations"] is not JsonObject annotations)
        {
            annotations = [];
            _json["annotations"] = annotations;
        }

        annotations[key] = value;
        return this;
    }

    public SegmentBuilder WithMetadata(string ns, string key, JsonNode? value)
    {
        if (_json["metadata"] is not JsonObject metadata)
        {
            metadata = [];
            _json["metadata"] = metadata;
        }

        if (metadata[ns] is not JsonObject space)
        {
            space = [];
            metadata[ns] = space;
        }

        space[key] = value;
        return this;
    }

    public SegmentBuilder WithCause(string message, string type = "Exception")
    {
        var exception = new JsonObject
        {
            ["id"] = NewId(_random),
            ["message"] = message,
            ["type"] = type,
            ["stack"] = new JsonArray(new JsonObject { ["path"] = "app.py", ["line"] = 10, ["label"] = "handler" }),
        };
        return Set("cause", new JsonObject { ["working_directory"] = "/app", ["exceptions"] = new JsonArray(exception) });
    }

    public SegmentBuilder WithSubsegment(SegmentBuilder child)
    {
        ArgumentNullException.ThrowIfNull(child);
        if (_json["subsegments"] is not JsonArray subsegments)
        {
            subsegments = [];
            _json["subsegments"] = subsegments;
        }

        subsegments.Add(child._json.DeepClone());
        return this;
    }

    /// <summary>Sets any top-level field to any JSON value (null writes a JSON null).</summary>
    public SegmentBuilder Set(string field, JsonNode? value)
    {
        _json[field] = value;
        return this;
    }

    public SegmentBuilder Remove(string field)
    {
        _json.Remove(field);
        return this;
    }

    public JsonObject ToJsonObject() => (JsonObject)_json.DeepClone();

    public string ToJson() => _json.ToJsonString();

    public byte[] ToUtf8() => Encoding.UTF8.GetBytes(ToJson());

    /// <summary>The daemon datagram: header line, newline, document.</summary>
    public byte[] ToDatagram() => Encoding.UTF8.GetBytes(DaemonHeader + "\n" + ToJson());

    private static double Seconds(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / 1000.0;

    private static string RandomHex(Random random, int digits)
    {
        var bytes = new byte[(digits + 1) / 2];
        random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes)[..digits];
    }
}
