using System.Globalization;
using System.Text;

namespace Pipeline.Testing.BadInput;

/// <summary>Where a bad input must be stopped, and with which reason.</summary>
public enum BadInputStage
{
    /// <summary>The relay drops the datagram (framing, size) and counts it by reason on /metrics.</summary>
    Relay,

    /// <summary>The relay forwards it (it only checks framing, size and trace id); the ingest quarantines it.</summary>
    Ingest,
}

/// <summary>
/// One malformed datagram. <paramref name="Reason"/> is the relay's drop label or the ingest's
/// quarantine reason code (snake_case, as on the wire); null when more than one reason is
/// defensible (only the stage is then asserted).
/// </summary>
public sealed record BadInputCase(string Kind, byte[] Datagram, BadInputStage Stage, string? Reason)
{
    /// <summary>The document part (after the first newline), what the ingest's quarantine line keeps.</summary>
    public ReadOnlySpan<byte> Document
    {
        get
        {
            var newline = Array.IndexOf(Datagram, (byte)'\n');
            return newline < 0 ? Datagram : Datagram.AsSpan(newline + 1);
        }
    }

    public override string ToString() => Kind;
}

/// <summary>
/// Generates the bad-input corpus: malformed datagrams and segment documents of more than 50
/// kinds, each built from a valid base segment by one defect, so that exactly that defect is what
/// must be caught. Deterministic for a given <c>epoch</c> (the trace id's time part must be
/// plausible relative to now for the other cases to be rejected for their own defect).
/// </summary>
public static class BadInputCorpus
{
    public const string Header = "{\"format\":\"json\",\"version\":1}";

    /// <summary>X-Ray daemon and our relay: 64 KiB per datagram (UDP payload the daemon reads).</summary>
    public const int MaxDatagramBytes = 64 * 1024;

    public static IReadOnlyList<BadInputCase> Cases(DateTimeOffset now)
    {
        var epoch = now.ToUnixTimeSeconds();
        var trace = $"1-{epoch:x8}-0123456789abcdef01234567";
        var start = (epoch - 10).ToString(CultureInfo.InvariantCulture);
        var end = (epoch - 9).ToString(CultureInfo.InvariantCulture);
        string Doc(string fields = "", string? traceId = null, string id = "\"a1b2c3d4e5f60718\"", string name = "\"svc\"", string times = "") =>
            $"{{\"trace_id\":{traceId ?? $"\"{trace}\""},\"id\":{id},\"name\":{name},{(times.Length > 0 ? times : $"\"start_time\":{start},\"end_time\":{end}")}{fields}}}";
        string Without(string field) => field switch
        {
            "trace_id" => $"{{\"id\":\"a1b2c3d4e5f60718\",\"name\":\"svc\",\"start_time\":{start},\"end_time\":{end}}}",
            "id" => $"{{\"trace_id\":\"{trace}\",\"name\":\"svc\",\"start_time\":{start},\"end_time\":{end}}}",
            "name" => $"{{\"trace_id\":\"{trace}\",\"id\":\"a1b2c3d4e5f60718\",\"start_time\":{start},\"end_time\":{end}}}",
            "start_time" => $"{{\"trace_id\":\"{trace}\",\"id\":\"a1b2c3d4e5f60718\",\"name\":\"svc\",\"end_time\":{end}}}",
            "end_time" => $"{{\"trace_id\":\"{trace}\",\"id\":\"a1b2c3d4e5f60718\",\"name\":\"svc\",\"start_time\":{start}}}",
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        var valid = Doc();
        var sub = $"{{\"id\":\"0000000000000001\",\"name\":\"s\",\"start_time\":{start},\"end_time\":{end}}}";

        var cases = new List<BadInputCase>();
        void Relay(string kind, byte[] datagram, string reason) => cases.Add(new BadInputCase(kind, datagram, BadInputStage.Relay, reason));
        void Ingest(string kind, string document, string? reason) => cases.Add(new BadInputCase(kind, Datagram(document), BadInputStage.Ingest, reason));
        void IngestBytes(string kind, byte[] document, string? reason) => cases.Add(new BadInputCase(kind, [.. Encoding.UTF8.GetBytes(Header + "\n"), .. document], BadInputStage.Ingest, reason));

        // ---- framing: the relay's job --------------------------------------------------------
        Relay("empty datagram", [], "empty_datagram");
        Relay("document without header", Encoding.UTF8.GetBytes(valid), "missing_header");
        Relay("header only", Encoding.UTF8.GetBytes(Header + "\n"), "empty_body");
        Relay("header version 2", Encoding.UTF8.GetBytes("{\"format\":\"json\",\"version\":2}\n" + valid), "bad_header");
        Relay("header format xml", Encoding.UTF8.GetBytes("{\"format\":\"xml\",\"version\":1}\n" + valid), "bad_header");
        Relay("header truncated", Encoding.UTF8.GetBytes("{\"format\":\"js\n" + valid), "bad_header");
        Relay("random binary", Enumerable.Range(0, 300).Select(i => (byte)((i * 151) ^ 0x5a)).Where(b => b != (byte)'\n').ToArray(), "missing_header");
        Relay("null bytes only", new byte[64], "missing_header");
        Relay("datagram over 64 KiB", Datagram(Doc($",\"metadata\":{{\"default\":{{\"pad\":\"{new string('x', MaxDatagramBytes)}\"}}}}")), "oversize");

        // ---- not JSON --------------------------------------------------------------------------
        Ingest("truncated in half", valid[..(valid.Length / 2)], "invalid_json");
        Ingest("truncated to one byte", "{", "invalid_json");
        Ingest("missing closing brace", valid[..^1], "invalid_json");
        Ingest("trailing comma", valid[..^1] + ",}", "invalid_json");
        Ingest("trailing garbage", valid + " x", "invalid_json");
        Ingest("two documents", valid + valid, "invalid_json");
        Ingest("single quotes", valid.Replace('"', '\''), "invalid_json");
        Ingest("unquoted keys", valid.Replace("\"name\":", "name:"), "invalid_json");
        Ingest("comment", valid.Insert(1, "/* c */"), "invalid_json");
        Ingest("NaN literal", Doc(times: $"\"start_time\":NaN,\"end_time\":{end}"), "invalid_json");
        Ingest("Infinity literal", Doc(times: $"\"start_time\":{start},\"end_time\":Infinity"), "invalid_json");
        Ingest("typographic quotes", valid.Replace("\"name\"", "\u201cname\u201d"), "invalid_json");
        IngestBytes("invalid UTF-8 in a string", Splice(Doc(name: "\"s@vc\""), "@", [0xFF, 0xFE]), "invalid_json");
        IngestBytes("overlong UTF-8 encoding", Splice(Doc(name: "\"s@vc\""), "@", [0xC0, 0xAF]), "invalid_json");
        IngestBytes("raw null byte between tokens", Splice(valid, ",\"name\"", [0x00, (byte)',', (byte)'"', (byte)'n', (byte)'a', (byte)'m', (byte)'e', (byte)'"']), "invalid_json");
        IngestBytes("raw null byte inside a string", Splice(Doc(name: "\"s@vc\""), "@", [0x00]), "invalid_json");
        IngestBytes("raw control character inside a string", Splice(Doc(name: "\"s@vc\""), "@", [0x07]), "invalid_json");
        Relay("whitespace only body", Datagram("   \t  "), "empty_body");

        // ---- not an object ---------------------------------------------------------------------
        Ingest("array", "[" + valid + "]", "not_an_object");
        Ingest("string", "\"segment\"", "not_an_object");
        Ingest("number", "42", "not_an_object");
        Ingest("null", "null", "not_an_object");
        Ingest("true", "true", "not_an_object");

        // ---- nesting and size bombs ------------------------------------------------------------
        var closing = new string('}', 100);
        Ingest("metadata nested 100 deep", Doc($",\"metadata\":{{\"default\":{string.Concat(Enumerable.Repeat("{\"a\":", 100))}1{closing}}}}}"), "too_deep");
        Ingest("array bomb 20k deep", Doc($",\"metadata\":{{\"default\":{{\"a\":{new string('[', 20_000)}{new string(']', 20_000)}}}}}"), "too_deep");
        Ingest("subsegments nested 30 deep", Doc(",\"subsegments\":[" + Nest(sub, 30) + "]"), null);
        Ingest("1001 subsegments", Doc(",\"subsegments\":[" + string.Join(',', Enumerable.Range(0, 1001).Select(i => $"{{\"id\":\"{i:x16}\",\"name\":\"s\",\"start_time\":1,\"end_time\":2}}")) + "]"), "too_many_subsegments");

        // ---- duplicate keys --------------------------------------------------------------------
        Ingest("duplicate trace_id", valid[..^1] + $",\"trace_id\":\"1-{epoch:x8}-ffffffffffffffffffffffff\"}}", "duplicate_field");
        Ingest("duplicate id", valid[..^1] + ",\"id\":\"ffffffffffffffff\"}", "duplicate_field");

        // ---- trace id ---------------------------------------------------------------------------
        Ingest("trace_id missing", Without("trace_id"), "missing_trace_id");
        Ingest("trace_id version 2", Doc(traceId: $"\"2-{epoch:x8}-0123456789abcdef01234567\""), "invalid_trace_id");
        Ingest("trace_id random part short", Doc(traceId: $"\"1-{epoch:x8}-0123456789abcdef0123456\""), "invalid_trace_id");
        Ingest("trace_id non-hex", Doc(traceId: $"\"1-{epoch:x8}-0123456789abcdef0123456z\""), "invalid_trace_id");
        Ingest("trace_id no dashes", Doc(traceId: $"\"1{epoch:x8}0123456789abcdef01234567\""), "invalid_trace_id");
        Ingest("trace_id number", Doc(traceId: "12345"), "invalid_trace_id");
        Ingest("trace_id null", Doc(traceId: "null"), null);
        Ingest("trace_id lone surrogate escape", Doc(traceId: "\"1-\\ud800\""), "invalid_json");

        // ---- id ---------------------------------------------------------------------------------
        Ingest("id missing", Without("id"), "missing_id");
        Ingest("id 15 hex", Doc(id: "\"a1b2c3d4e5f6071\""), "invalid_id");
        Ingest("id non-hex", Doc(id: "\"a1b2c3d4e5f6071g\""), "invalid_id");
        Ingest("id number", Doc(id: "1234567890123456"), "invalid_id");
        Ingest("id object", Doc(id: "{}"), "invalid_id");
        Ingest("id lone surrogate escape", Doc(id: "\"\\ud800\""), "invalid_json");

        // ---- name -------------------------------------------------------------------------------
        Ingest("name missing", Without("name"), "missing_name");
        Ingest("name 201 chars", Doc(name: $"\"{new string('n', 201)}\""), "name_too_long");
        Ingest("name with markup", Doc(name: "\"<script>\""), "invalid_name");
        Ingest("name number", Doc(name: "7"), "invalid_name");
        Ingest("name array", Doc(name: "[\"svc\"]"), "invalid_name");

        // ---- times ------------------------------------------------------------------------------
        Ingest("start_time missing", Without("start_time"), "missing_start_time");
        Ingest("start_time string", Doc(times: $"\"start_time\":\"{start}\",\"end_time\":{end}"), "invalid_start_time");
        Ingest("start_time bool", Doc(times: $"\"start_time\":true,\"end_time\":{end}"), "invalid_start_time");
        Ingest("start_time 1e400", Doc(times: $"\"start_time\":1e400,\"end_time\":{end}"), "invalid_start_time");
        Ingest("end_time and in_progress missing", Without("end_time"), "missing_end_time");
        Ingest("end_time string", Doc(times: $"\"start_time\":{start},\"end_time\":\"soon\""), "invalid_end_time");
        Ingest("end_time 1e400", Doc(times: $"\"start_time\":{start},\"end_time\":1e400"), "invalid_end_time");
        Ingest("in_progress string", Doc(times: $"\"start_time\":{start},\"in_progress\":\"yes\""), "invalid_in_progress");

        // ---- type and parent ------------------------------------------------------------------
        Ingest("type segment", Doc(",\"type\":\"segment\""), "invalid_type");
        Ingest("type number", Doc(",\"type\":1"), "invalid_type");
        Ingest("subsegment without parent_id", Doc(",\"type\":\"subsegment\""), "missing_parent_id");
        Ingest("parent_id short", Doc(",\"type\":\"subsegment\",\"parent_id\":\"abc\""), "invalid_parent_id");
        Ingest("parent_id number", Doc(",\"parent_id\":42"), "invalid_parent_id");

        // ---- content ----------------------------------------------------------------------------
        Ingest("annotations array", Doc(",\"annotations\":[1,2]"), "invalid_annotations");
        Ingest("annotation key with dash", Doc(",\"annotations\":{\"user-id\":\"x\"}"), "invalid_annotation_key");
        Ingest("annotation value object", Doc(",\"annotations\":{\"k\":{\"a\":1}}"), "invalid_annotation_value");
        Ingest("annotation value array", Doc(",\"annotations\":{\"k\":[1]}"), "invalid_annotation_value");
        Ingest("metadata string", Doc(",\"metadata\":\"x\""), "invalid_metadata");
        Ingest("subsegments object", Doc(",\"subsegments\":{\"id\":\"x\"}"), "invalid_subsegments");
        Ingest("subsegments of numbers", Doc(",\"subsegments\":[1,2]"), "invalid_subsegments");
        Ingest("embedded subsegment without id", Doc($",\"subsegments\":[{{\"name\":\"s\",\"start_time\":{start},\"end_time\":{end}}}]"), "missing_id");
        Ingest("fault as string", Doc(",\"fault\":\"true\""), "invalid_flag");
        Ingest("error as number", Doc(",\"error\":1"), "invalid_flag");
        Ingest("namespace number", Doc(",\"namespace\":7"), "invalid_namespace");
        return cases;
    }

    /// <summary>Header line + newline + document, as an SDK sends it.</summary>
    public static byte[] Datagram(string document) => Encoding.UTF8.GetBytes(Header + "\n" + document);

    private static byte[] Splice(string document, string marker, byte[] replacement)
    {
        var at = document.IndexOf(marker, StringComparison.Ordinal);
        var before = Encoding.UTF8.GetBytes(document[..at]);
        var after = Encoding.UTF8.GetBytes(document[(at + marker.Length)..]);
        return [.. before, .. replacement, .. after];
    }

    private static string Nest(string leaf, int depth)
    {
        var text = leaf;
        for (var i = 1; i < depth; i++)
        {
            text = leaf[..^1] + ",\"subsegments\":[" + text + "]}";
        }

        return text;
    }
}
