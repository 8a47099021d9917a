using System.Text;
using System.Text.Json;

namespace Pipeline.Core.Traces;

/// <summary>
/// The full JSON of one span as its document holds it (http, aws, sql, annotations, metadata,
/// cause and every other field), with nested <c>subsegments</c> left out: they are spans of their
/// own. Read on demand from the archived document, so the tree stays small.
/// </summary>
public static class TraceDetails
{
    public const string SubsegmentsField = "subsegments";

    /// <summary>The span's JSON object (a clone, safe to keep), without its nested subsegments.</summary>
    public static JsonElement Entity(TraceTree tree, TraceSpan span)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(span);
        using var doc = JsonDocument.Parse(tree.Documents[span.Document], new JsonDocumentOptions { MaxDepth = 128 });
        var element = doc.RootElement;
        foreach (var i in span.PathInDocument)
        {
            element = element.GetProperty(SubsegmentsField)[i];
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals(SubsegmentsField))
                {
                    continue;
                }

                property.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        using var copy = JsonDocument.Parse(buffer.ToArray());
        return copy.RootElement.Clone();
    }

    /// <summary>The span's JSON indented for reading (non-ASCII kept as is: the renderer escapes for its medium).</summary>
    public static string Pretty(JsonElement entity)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            entity.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
