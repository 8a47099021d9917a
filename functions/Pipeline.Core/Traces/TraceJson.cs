using System.Text.Json;

namespace Pipeline.Core.Traces;

/// <summary>
/// The assembled trace as one JSON object for scripts (<c>pipeline trace --format json</c>) and
/// the UI's API: the trace summary, what was read, every span in waterfall order with its
/// timing relative to the trace start and its critical-path share, and the critical path.
/// Field names are snake_case like the segment documents'.
/// </summary>
public static class TraceJson
{
    public static void Write(Utf8JsonWriter w, TraceTree tree, TraceReadReport? read = null, bool includeDocuments = false)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(tree);
        w.WriteStartObject();
        w.WriteString("trace_id", tree.TraceId);
        w.WriteBoolean("found", !tree.IsEmpty);
        if (!tree.IsEmpty)
        {
            w.WriteNumber("start_time", tree.Start);
            w.WriteNumber("end_time", tree.End);
            w.WriteNumber("duration_ms", Round(tree.Duration * 1000));
            w.WriteNumber("segments", tree.SegmentCount);
            w.WriteNumber("span_count", tree.Spans.Count);
            w.WriteBoolean("error", tree.HasError);
            w.WriteBoolean("fault", tree.HasFault);
            w.WriteBoolean("throttle", tree.HasThrottle);
            w.WriteStartArray("services");
            foreach (var s in tree.Services)
            {
                w.WriteStringValue(s);
            }

            w.WriteEndArray();
        }

        if (read is not null)
        {
            w.WriteStartObject("read");
            w.WriteString("source", read.Source);
            w.WriteNumber("rounds", read.Rounds);
            w.WriteNumber("objects", read.Objects);
            w.WriteNumber(read.BytesScanned ? "bytes_scanned" : "bytes_read", read.Bytes);
            w.WriteStartArray("hours");
            foreach (var h in read.Hours)
            {
                w.WriteStringValue($"{h.Day}T{h.Hour}");
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        var critical = tree.CriticalPath.GroupBy(c => c.Span).ToDictionary(g => g.Key, g => g.Sum(c => c.End - c.Start));
        w.WriteStartArray("spans");
        foreach (var s in tree.Spans)
        {
            w.WriteStartObject();
            w.WriteString("id", s.Id);
            Optional(w, "parent_id", s.ParentId);
            w.WriteString("kind", s.Kind switch { SpanKind.Segment => "segment", SpanKind.Subsegment => "subsegment", _ => "independent_subsegment" });
            w.WriteString("service", s.Service);
            w.WriteString("name", s.Name);
            w.WriteNumber("depth", s.Depth);
            Optional(w, "namespace", s.Namespace);
            Optional(w, "origin", s.Origin);
            w.WriteNumber("start_time", s.Start);
            if (s.End is { } end)
            {
                w.WriteNumber("end_time", end);
                w.WriteNumber("duration_ms", Round((end - s.Start) * 1000));
            }

            w.WriteNumber("offset_ms", Round((s.Start - tree.Start) * 1000));
            w.WriteBoolean("in_progress", s.End is null);
            w.WriteBoolean("error", s.Error);
            w.WriteBoolean("fault", s.Fault);
            w.WriteBoolean("throttle", s.Throttle);
            if (s.HasCause)
            {
                w.WriteBoolean("has_cause", true);
            }

            if (s.MissingParent)
            {
                w.WriteBoolean("missing_parent", true);
            }

            if (s.HttpMethod is not null || s.HttpUrl is not null || s.HttpStatus is not null)
            {
                w.WriteStartObject("http");
                Optional(w, "method", s.HttpMethod);
                Optional(w, "url", s.HttpUrl);
                if (s.HttpStatus is { } status)
                {
                    w.WriteNumber("status", status);
                }

                w.WriteEndObject();
            }

            Optional(w, "aws_operation", s.AwsOperation);
            Optional(w, "sql_url", s.SqlUrl);
            if (critical.TryGetValue(s.Index, out var onPath))
            {
                w.WriteNumber("critical_ms", Round(onPath * 1000));
            }

            if (includeDocuments)
            {
                w.WritePropertyName("document");
                TraceDetails.Entity(tree, s).WriteTo(w);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("critical_path");
        foreach (var c in tree.CriticalPath)
        {
            w.WriteStartObject();
            w.WriteString("id", tree.Spans[c.Span].Id);
            w.WriteNumber("offset_ms", Round((c.Start - tree.Start) * 1000));
            w.WriteNumber("duration_ms", Round((c.End - c.Start) * 1000));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        var n = tree.Notes;
        w.WriteStartObject("notes");
        w.WriteNumber("unreadable_lines", n.UnreadableLines);
        w.WriteNumber("other_trace_lines", n.OtherTraceLines);
        w.WriteNumber("duplicate_documents", n.DuplicateDocuments);
        w.WriteNumber("duplicate_entities", n.DuplicateEntities);
        w.WriteNumber("missing_parents", n.MissingParents);
        w.WriteNumber("spans_over_limit", n.SpansOverLimit);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static byte[] ToUtf8(TraceTree tree, TraceReadReport? read = null, bool includeDocuments = false, bool indented = false)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            Write(writer, tree, read, includeDocuments);
        }

        return buffer.ToArray();
    }

    private static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static double Round(double ms) => Math.Round(ms, 3);
}
