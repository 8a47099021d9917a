namespace Pipeline.Core.Otlp;

/// <summary>
/// Bounds that keep a hostile OTLP request from costing more than a normal one. The relay and the
/// ingest use the same defaults; every limit that is hit is counted under its reason.
/// OTel SDKs export at most 512 spans a request by default (BatchSpanProcessor) and limit a span
/// to 128 attributes, events and links (the SDK span limits), so the defaults leave wide room.
/// </summary>
public sealed record OtlpLimits
{
    public static OtlpLimits Default { get; } = new();

    /// <summary>Spans in one request; past it the request is refused whole (<see cref="OtlpDecodeError.TooManySpans"/>).</summary>
    public int MaxSpansPerRequest { get; init; } = 20_000;

    /// <summary>Attributes of one span (or of its resource, scope, an event or a link); past it the span is refused.</summary>
    public int MaxAttributesPerSpan { get; init; } = 1_000;

    /// <summary>Events of one span; past it the span is refused.</summary>
    public int MaxEventsPerSpan { get; init; } = 1_000;

    /// <summary>Links of one span; past it the span is refused.</summary>
    public int MaxLinksPerSpan { get; init; } = 1_000;

    /// <summary>Nesting of array/kvlist attribute values; deeper refuses the request (<see cref="OtlpDecodeError.TooComplex"/>).</summary>
    public int MaxValueDepth { get; init; } = 16;
}

/// <summary>Why a request could not be decoded at all (the HTTP 400 / gRPC INVALID_ARGUMENT cases). Values are stable.</summary>
public enum OtlpDecodeError
{
    None = 0,
    /// <summary>Protobuf that does not parse: truncated, a bad wire type for a known field, a bad length.</summary>
    MalformedProtobuf = 1,
    /// <summary>JSON that does not parse, or a member of the wrong JSON type.</summary>
    MalformedJson = 2,
    /// <summary>A string field that is not UTF-8 (proto3 requires it).</summary>
    InvalidUtf8 = 3,
    /// <summary>More than <see cref="OtlpLimits.MaxSpansPerRequest"/> spans.</summary>
    TooManySpans = 4,
    /// <summary>Attribute values nested past <see cref="OtlpLimits.MaxValueDepth"/>, or a list value longer than <see cref="OtlpLimits.MaxAttributesPerSpan"/>.</summary>
    TooComplex = 5,
    /// <summary>A Kinesis record with the OTLP magic and a version this reader does not know (a newer relay).</summary>
    UnsupportedRecordVersion = 6,
    /// <summary>A Kinesis record with the OTLP magic and no version byte.</summary>
    TruncatedRecord = 7,
}

/// <summary>
/// Why one span was refused or quarantined. Values are stable (counters, quarantine
/// <c>reason_code</c> = 2000 + value so they never collide with segment or ingest reasons).
/// </summary>
public enum OtlpSpanProblem
{
    None = 0,
    InvalidTraceId = 1,
    InvalidSpanId = 2,
    InvalidParentSpanId = 3,
    MissingStartTime = 4,
    EndBeforeStart = 5,
    TooManyAttributes = 6,
    TooManyEvents = 7,
    TooManyLinks = 8,
    /// <summary>The converted document is larger than X-Ray's 64 KB even with no subsegment nested in it.</summary>
    DocumentTooLarge = 9,
}

/// <summary>Stable snake_case codes of the OTLP reasons.</summary>
public static class OtlpReasonNames
{
    /// <summary>Offset of <see cref="OtlpSpanProblem"/> in the quarantine's <c>reason_code</c>.</summary>
    public const int QuarantineCodeBase = 2000;

    /// <summary>Offset of <see cref="OtlpDecodeError"/> in the quarantine's <c>reason_code</c> (a record that does not decode).</summary>
    public const int DecodeErrorCodeBase = 2100;

    public static string ToCode(this OtlpSpanProblem problem) => problem switch
    {
        OtlpSpanProblem.None => "none",
        OtlpSpanProblem.InvalidTraceId => "otlp_invalid_trace_id",
        OtlpSpanProblem.InvalidSpanId => "otlp_invalid_span_id",
        OtlpSpanProblem.InvalidParentSpanId => "otlp_invalid_parent_span_id",
        OtlpSpanProblem.MissingStartTime => "otlp_missing_start_time",
        OtlpSpanProblem.EndBeforeStart => "otlp_end_before_start",
        OtlpSpanProblem.TooManyAttributes => "otlp_too_many_attributes",
        OtlpSpanProblem.TooManyEvents => "otlp_too_many_events",
        OtlpSpanProblem.TooManyLinks => "otlp_too_many_links",
        OtlpSpanProblem.DocumentTooLarge => "otlp_document_too_large",
        _ => "unknown",
    };

    public static string ToCode(this OtlpDecodeError error) => error switch
    {
        OtlpDecodeError.None => "none",
        OtlpDecodeError.MalformedProtobuf => "otlp_malformed_protobuf",
        OtlpDecodeError.MalformedJson => "otlp_malformed_json",
        OtlpDecodeError.InvalidUtf8 => "otlp_invalid_utf8",
        OtlpDecodeError.TooManySpans => "otlp_too_many_spans",
        OtlpDecodeError.TooComplex => "otlp_too_complex",
        OtlpDecodeError.UnsupportedRecordVersion => "otlp_unsupported_version",
        OtlpDecodeError.TruncatedRecord => "otlp_truncated_record",
        _ => "unknown",
    };
}

/// <summary>A decoded request, or why it could not be decoded and where (byte offset).</summary>
public sealed record OtlpDecodeResult(OtlpTraceRequest? Request, OtlpDecodeError Error, long Offset = -1)
{
    public bool IsOk => Error == OtlpDecodeError.None;
}
