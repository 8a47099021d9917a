using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pipeline.Cli.Verify;

/// <summary>One marked synthetic segment: what <c>pipeline verify</c> puts on the stream and looks for downstream.</summary>
internal sealed record VerifySegment(string Id, string TraceId, byte[] Document);

/// <summary>
/// The marked segments of one verify run: valid X-Ray segment documents (one per trace) named
/// <see cref="ServiceName"/>, each carrying the run id as the annotation <see cref="Annotation"/>, so
/// that a run's segments can be found in the archive, in Athena
/// (<c>traces-by-annotation</c>) and in X-Ray, and told apart from real traffic.
/// </summary>
internal static class VerifySegments
{
    public const string ServiceName = "pipeline-verify";

    /// <summary>Annotation keys are [A-Za-z0-9_] (X-Ray segment document schema).</summary>
    public const string Annotation = "pipeline_verify";

    /// <summary><c>verify-YYYYMMDDTHHMMSSZ-xxxxxx</c>: sortable, and unique enough across a team's runs.</summary>
    public static string RunId(DateTimeOffset now, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return string.Create(CultureInfo.InvariantCulture, $"verify-{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Hex(random, 6)}");
    }

    public static IReadOnlyList<VerifySegment> Create(string runId, int count, DateTimeOffset now, Random random)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentNullException.ThrowIfNull(random);
        var epoch = now.ToUnixTimeSeconds();
        var segments = new List<VerifySegment>(count);
        for (var i = 0; i < count; i++)
        {
            // The trace id's first 8 hex are its epoch seconds, as the X-Ray SDKs make them: the
            // archive's trace lookups read the hour partitions around it.
            var traceId = string.Create(CultureInfo.InvariantCulture, $"1-{epoch:x8}-{Hex(random, 24)}");
            var id = Hex(random, 16);
            var start = (now.ToUnixTimeMilliseconds() / 1000.0) + (i * 0.001);
            segments.Add(new VerifySegment(id, traceId, Document(id, traceId, start, runId, i)));
        }

        return segments;
    }

    private static byte[] Document(string id, string traceId, double start, string runId, int index)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", ServiceName);
            writer.WriteString("id", id);
            writer.WriteString("trace_id", traceId);
            writer.WriteNumber("start_time", Math.Round(start, 3));
            writer.WriteNumber("end_time", Math.Round(start + 0.005, 3));
            writer.WriteStartObject("http");
            writer.WriteStartObject("request");
            writer.WriteString("method", "GET");
            writer.WriteString("url", string.Create(CultureInfo.InvariantCulture, $"https://{ServiceName}.invalid/segment/{index}"));
            writer.WriteEndObject();
            writer.WriteStartObject("response");
            writer.WriteNumber("status", 200);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteStartObject("annotations");
            writer.WriteString(Annotation, runId);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string Hex(Random random, int digits)
    {
        var bytes = new byte[(digits + 1) / 2];
        random.NextBytes(bytes);
        var hex = new StringBuilder(bytes.Length * 2);
        foreach (var b in bytes)
        {
            hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }

        return hex.ToString(0, digits);
    }
}
