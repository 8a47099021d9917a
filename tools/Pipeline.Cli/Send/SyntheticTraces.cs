using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Pipeline.Cli.Send;

/// <summary>Why a synthetic document is invalid (each one the ingest must quarantine with that reason).</summary>
internal enum InvalidKind
{
    /// <summary>No <c>name</c>.</summary>
    MissingName,
    /// <summary>An <c>id</c> that is not 16 hex digits.</summary>
    BadId,
    /// <summary>Neither <c>end_time</c> nor <c>in_progress</c>.</summary>
    NoEndTime,
}

/// <summary>
/// Synthetic X-Ray segment documents for <c>pipeline send</c>: each trace is a chain of services
/// svc-0 → svc-1 → …, where segment k has one remote subsegment (an HTTP call) whose id is the
/// <c>parent_id</c> of segment k+1, as an instrumented service calling the next one would send.
/// A share of documents can be made invalid in known ways. Deterministic for a seed and a clock.
/// </summary>
internal sealed class SyntheticTraces(Random random, TimeProvider time)
{
    /// <summary>X-Ray trace ids: version 1, 8 hex digits of epoch seconds, 24 hex digits of randomness.</summary>
    public string NewTraceId() =>
        string.Create(CultureInfo.InvariantCulture, $"1-{time.GetUtcNow().ToUnixTimeSeconds():x8}-{Hex(12)}");

    public string NewId() => Hex(8);

    /// <summary>The documents of one trace of <paramref name="segments"/> segments (services), root first.</summary>
    public IReadOnlyList<byte[]> Trace(int segments, string? traceId = null, bool fault = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segments, 1);
        traceId ??= NewTraceId();
        var start = time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var documents = new List<byte[]>(segments);
        string? parentId = null;
        for (var k = 0; k < segments; k++)
        {
            var id = NewId();
            var callId = k + 1 < segments ? NewId() : null;
            var begin = start + (k * 0.002);
            var end = start + 0.050 - (k * 0.002);
            var status = fault && k == segments - 1 ? 500 : 200;
            documents.Add(Document(traceId, id, parentId, $"svc-{k}", begin, end, status, callId, k + 1 < segments ? $"svc-{k + 1}" : null));
            parentId = callId;
        }

        return documents;
    }

    /// <summary>A document that fails validation in the <paramref name="kind"/> way.</summary>
    public byte[] Invalid(InvalidKind kind)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("trace_id", NewTraceId());
            json.WriteString("id", kind == InvalidKind.BadId ? "not-a-hex-id" : NewId());
            if (kind != InvalidKind.MissingName)
            {
                json.WriteString("name", "svc-invalid");
            }

            json.WriteNumber("start_time", now);
            if (kind != InvalidKind.NoEndTime)
            {
                json.WriteNumber("end_time", now + 0.01);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Document(string traceId, string id, string? parentId, string name, double start, double end, int status, string? callId, string? callee)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("trace_id", traceId);
            json.WriteString("id", id);
            if (parentId is not null)
            {
                json.WriteString("parent_id", parentId);
            }

            json.WriteString("name", name);
            json.WriteNumber("start_time", start);
            json.WriteNumber("end_time", end);
            json.WriteStartObject("http");
            json.WriteStartObject("request");
            json.WriteString("method", "GET");
            json.WriteString("url", $"http://{name}.local/work");
            json.WriteEndObject();
            json.WriteStartObject("response");
            json.WriteNumber("status", status);
            json.WriteEndObject();
            json.WriteEndObject();
            if (status >= 500)
            {
                json.WriteBoolean("fault", true);
            }

            json.WriteStartObject("annotations");
            json.WriteString("source", "pipeline_send");
            json.WriteEndObject();
            if (callId is not null)
            {
                json.WriteStartArray("subsegments");
                json.WriteStartObject();
                json.WriteString("id", callId);
                json.WriteString("name", callee);
                json.WriteNumber("start_time", start + 0.001);
                json.WriteNumber("end_time", end - 0.001);
                json.WriteString("namespace", "remote");
                json.WriteStartObject("http");
                json.WriteStartObject("request");
                json.WriteString("method", "GET");
                json.WriteString("url", $"http://{callee}.local/work");
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private string Hex(int bytes)
    {
        Span<byte> data = stackalloc byte[bytes];
        random.NextBytes(data);
        return Convert.ToHexStringLower(data);
    }
}
