namespace Pipeline.Core.Traces;

/// <summary>What an entity of a trace is in the X-Ray model.</summary>
public enum SpanKind
{
    /// <summary>A segment document: the work one service did for the request.</summary>
    Segment,

    /// <summary>A subsegment embedded in its segment's document.</summary>
    Subsegment,

    /// <summary>A subsegment sent as its own document (<c>type: subsegment</c>, <c>parent_id</c>).</summary>
    IndependentSubsegment,
}

/// <summary>
/// One segment or subsegment of an assembled trace. Strings are the document's values, unescaped
/// from JSON but otherwise untouched: they were written by applications and may hold anything, so
/// every renderer escapes them for its medium (<see cref="DisplayText"/>, HTML encoding).
/// </summary>
public sealed record TraceSpan
{
    /// <summary>Position in <see cref="TraceTree.Spans"/> (tree pre-order).</summary>
    public required int Index { get; init; }

    /// <summary>The enclosing span's index, -1 for a root.</summary>
    public required int ParentIndex { get; init; }

    /// <summary>Depth in the assembled tree (a downstream segment sits under its caller's subsegment).</summary>
    public required int Depth { get; init; }

    public required IReadOnlyList<int> Children { get; init; }

    public required string Id { get; init; }

    /// <summary>The <c>parent_id</c> the document named (or the enclosing entity's id when embedded).</summary>
    public string? ParentId { get; init; }

    /// <summary>True when a <c>parent_id</c> names no entity in the trace as read (or would close a cycle).</summary>
    public bool MissingParent { get; init; }

    public required string Name { get; init; }

    /// <summary>The service: the name of the segment this span belongs to.</summary>
    public required string Service { get; init; }

    public required SpanKind Kind { get; init; }

    public string? Namespace { get; init; }

    public string? Origin { get; init; }

    /// <summary>Epoch seconds.</summary>
    public required double Start { get; init; }

    /// <summary>Epoch seconds; null while in progress (or when the document had none).</summary>
    public double? End { get; init; }

    public bool InProgress { get; init; }

    public bool Error { get; init; }

    public bool Fault { get; init; }

    public bool Throttle { get; init; }

    public bool Inferred { get; init; }

    public bool HasCause { get; init; }

    public string? HttpMethod { get; init; }

    public string? HttpUrl { get; init; }

    /// <summary>HTTP response status, null when absent.</summary>
    public int? HttpStatus { get; init; }

    public string? AwsOperation { get; init; }

    public string? SqlUrl { get; init; }

    /// <summary>Which document of <see cref="TraceTree.Documents"/> holds this span.</summary>
    public required int Document { get; init; }

    /// <summary>Path of subsegment indices from the document root to this entity (empty for the root).</summary>
    public required IReadOnlyList<int> PathInDocument { get; init; }

    /// <summary>Duration in seconds when the span has ended.</summary>
    public double? Duration => End - Start;
}

/// <summary>A section of the critical path: the span that held the request up in [Start, End].</summary>
public readonly record struct CriticalSection(int Span, double Start, double End);

/// <summary>Counts of what assembly set aside, so nothing disappears silently.</summary>
public readonly record struct TraceAssemblyNotes(
    int UnreadableLines,
    int OtherTraceLines,
    int DuplicateDocuments,
    int DuplicateEntities,
    int MissingParents,
    int SpansOverLimit);

/// <summary>Every segment and subsegment of one trace, as a tree in time order.</summary>
public sealed record TraceTree
{
    public required string TraceId { get; init; }

    /// <summary>Spans in pre-order: roots by start time, each span's children by start time.</summary>
    public required IReadOnlyList<TraceSpan> Spans { get; init; }

    public required IReadOnlyList<int> Roots { get; init; }

    /// <summary>The segment documents the spans came from (one per archived line kept).</summary>
    public required IReadOnlyList<ReadOnlyMemory<byte>> Documents { get; init; }

    public required IReadOnlyList<CriticalSection> CriticalPath { get; init; }

    public required TraceAssemblyNotes Notes { get; init; }

    /// <summary>Earliest start (epoch seconds); NaN for an empty trace.</summary>
    public double Start { get; init; } = double.NaN;

    /// <summary>Latest end or start of any span (epoch seconds); NaN for an empty trace.</summary>
    public double End { get; init; } = double.NaN;

    public double Duration => Spans.Count == 0 ? 0 : End - Start;

    public bool IsEmpty => Spans.Count == 0;

    /// <summary>Segment documents (not subsegments) in the trace.</summary>
    public int SegmentCount => Spans.Count(s => s.Kind == SpanKind.Segment);

    public bool HasFault => Spans.Any(s => s.Fault);

    public bool HasError => Spans.Any(s => s.Error);

    public bool HasThrottle => Spans.Any(s => s.Throttle);

    public bool IsOnCriticalPath(int span) => CriticalPath.Any(c => c.Span == span);

    /// <summary>The end to draw for a span: its end, else (in progress) the trace's end.</summary>
    public double EffectiveEnd(TraceSpan span)
    {
        ArgumentNullException.ThrowIfNull(span);
        return span.End ?? Math.Max(span.Start, End);
    }

    /// <summary>The services in order of first appearance.</summary>
    public IReadOnlyList<string> Services => Spans.Select(s => s.Service).Distinct(StringComparer.Ordinal).ToList();
}
