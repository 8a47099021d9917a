using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Pipeline.Core.Segments;

/// <summary>What the parser noticed that redaction cares about, so a clean document skips it.</summary>
[Flags]
public enum DocumentHints
{
    None = 0,
    /// <summary>Some <c>http.request.url</c> has a query string or user info (or JSON escapes).</summary>
    UrlQuery = 1 << 0,
    /// <summary>Some <c>http.request</c>/<c>http.response</c> carries a <c>headers</c> object.</summary>
    HttpHeaders = 1 << 1,
    /// <summary>Some <c>sql</c> block has a <c>sanitized_query</c>.</summary>
    SqlQuery = 1 << 2,
    Annotations = 1 << 3,
    Metadata = 1 << 4,
    /// <summary>Some <c>sql.url</c> carries user info (<c>user:password@</c>).</summary>
    SqlUrlCredentials = 1 << 5,
}

/// <summary>
/// A parsed (not yet validated) segment document: the original bytes plus a flat list of entity
/// summaries whose strings point into those bytes.
/// </summary>
public sealed class ParsedSegment
{
    /// <summary>The value of <c>type</c> for a subsegment sent on its own. Source: X-Ray segment document schema.</summary>
    public static ReadOnlySpan<byte> SubsegmentType => "subsegment"u8;

    private readonly SegmentNode[] _nodes;

    internal ParsedSegment(ReadOnlyMemory<byte> document, SegmentNode[] nodes, DocumentHints hints, RedactionRegion[] regions)
    {
        Document = document;
        _nodes = nodes;
        Hints = hints;
        Regions = regions;
    }

    /// <summary>The document bytes exactly as received (no header line).</summary>
    public ReadOnlyMemory<byte> Document { get; }

    /// <summary>Root at index 0, then every embedded subsegment in document order.</summary>
    public ReadOnlySpan<SegmentNode> Nodes => _nodes;

    public ref readonly SegmentNode Root => ref _nodes[0];

    public DocumentHints Hints { get; }

    /// <summary>Every place redaction may have to look at (objects as byte ranges, strings as values).</summary>
    internal RedactionRegion[] Regions { get; }

    /// <summary>The trace id bytes (empty when absent). Not validated until <see cref="SegmentValidator"/> ran.</summary>
    public ReadOnlySpan<byte> TraceId => GetUtf8(Root.TraceId);

    /// <summary>True for a document whose root has <c>type: "subsegment"</c> (sent apart from its segment).</summary>
    public bool IsIndependentSubsegment => TextEquals(Root.Type, SubsegmentType);

    /// <summary>The trace id normalised to lowercase, as a string: the key for decision stores and maps.</summary>
    public string TraceIdKey()
    {
        var id = TraceId;
        return string.Create(id.Length, this, static (chars, self) =>
        {
            var bytes = self.TraceId;
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = char.ToLowerInvariant((char)bytes[i]);
            }
        });
    }

    /// <summary>The UTF-8 value of a string field; unescapes (and allocates) only if the JSON escaped it.</summary>
    public ReadOnlySpan<byte> GetUtf8(TextRef text)
    {
        if (!text.IsPresent)
        {
            return default;
        }

        var raw = Document.Span.Slice(text.Start, text.Length);
        if (!text.IsEscaped)
        {
            return raw;
        }

        var reader = QuotedReader(text);
        var buffer = new byte[text.Length];
        var written = reader.CopyString(buffer);
        return buffer.AsSpan(0, written);
    }

    /// <summary>The value of a string field as a string (allocates); null when absent.</summary>
    public string? GetString(TextRef text)
    {
        if (!text.IsPresent)
        {
            return null;
        }

        if (!text.IsEscaped)
        {
            return System.Text.Encoding.UTF8.GetString(Document.Span.Slice(text.Start, text.Length));
        }

        var reader = QuotedReader(text);
        return reader.GetString();
    }

    /// <summary>Ordinal comparison of a string field with UTF-8 bytes, without allocating for unescaped values.</summary>
    public bool TextEquals(TextRef text, ReadOnlySpan<byte> utf8) =>
        text.IsPresent && (text.IsEscaped ? GetUtf8(text).SequenceEqual(utf8) : Document.Span.Slice(text.Start, text.Length).SequenceEqual(utf8));

    private Utf8JsonReader QuotedReader(TextRef text)
    {
        // The quotes surround the raw value, so the token [Start-1, Start+Length] is a JSON string.
        var reader = new Utf8JsonReader(Document.Span.Slice(text.Start - 1, text.Length + 2));
        reader.Read();
        return reader;
    }
}

/// <summary>The outcome of <see cref="SegmentParser.Parse"/>: a parsed segment or a rejection.</summary>
public readonly record struct SegmentParseResult(ParsedSegment? Segment, SegmentRejection Rejection)
{
    [MemberNotNullWhen(true, nameof(Segment))]
    public bool IsOk => Segment is not null;
}

/// <summary>
/// Where the parser saw something redactable: an object (<see cref="DocumentHints.Metadata"/>,
/// <see cref="DocumentHints.Annotations"/>, <see cref="DocumentHints.HttpHeaders"/>: <see cref="Range"/>
/// spans the braces) or a string value (URLs, SQL query: <see cref="Range"/> is the value).
/// </summary>
internal readonly record struct RedactionRegion(DocumentHints Kind, TextRef Range);
