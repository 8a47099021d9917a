namespace Pipeline.Core.Segments;

/// <summary>
/// Why a segment document was rejected. The numeric values are stable: counters, quarantine lines
/// and dashboards use them, so never renumber; add new values at the end of their block.
/// </summary>
public enum SegmentRejectReason
{
    None = 0,

    // Document level (parser).
    Empty = 1,
    TooLarge = 2,
    InvalidJson = 3,
    NotAnObject = 4,
    TooDeep = 5,
    TooManySubsegments = 6,
    DuplicateField = 7,

    // Identity.
    MissingTraceId = 10,
    InvalidTraceId = 11,
    ImplausibleTraceEpoch = 12,
    MissingId = 13,
    InvalidId = 14,
    MissingParentId = 15,
    InvalidParentId = 16,
    InvalidType = 17,

    // Name.
    MissingName = 20,
    InvalidName = 21,
    NameTooLong = 22,

    // Times.
    MissingStartTime = 30,
    InvalidStartTime = 31,
    MissingEndTime = 32,
    InvalidEndTime = 33,
    InvalidInProgress = 34,

    // Content.
    InvalidAnnotations = 40,
    InvalidAnnotationKey = 41,
    InvalidAnnotationValue = 42,
    InvalidMetadata = 43,
    InvalidSubsegments = 44,
    InvalidFlag = 45,
    InvalidNamespace = 46,

    /// <summary>A number that X-Ray or the archive's table types cannot hold (non-finite, fractional or out of range where an integer is typed).</summary>
    InvalidNumber = 47,
}

/// <summary>Stable snake_case names for <see cref="SegmentRejectReason"/> (quarantine lines, metric dimensions).</summary>
public static class SegmentRejectReasonNames
{
    public static string ToCode(this SegmentRejectReason reason) => reason switch
    {
        SegmentRejectReason.None => "none",
        SegmentRejectReason.Empty => "empty",
        SegmentRejectReason.TooLarge => "too_large",
        SegmentRejectReason.InvalidJson => "invalid_json",
        SegmentRejectReason.NotAnObject => "not_an_object",
        SegmentRejectReason.TooDeep => "too_deep",
        SegmentRejectReason.TooManySubsegments => "too_many_subsegments",
        SegmentRejectReason.DuplicateField => "duplicate_field",
        SegmentRejectReason.MissingTraceId => "missing_trace_id",
        SegmentRejectReason.InvalidTraceId => "invalid_trace_id",
        SegmentRejectReason.ImplausibleTraceEpoch => "implausible_trace_epoch",
        SegmentRejectReason.MissingId => "missing_id",
        SegmentRejectReason.InvalidId => "invalid_id",
        SegmentRejectReason.MissingParentId => "missing_parent_id",
        SegmentRejectReason.InvalidParentId => "invalid_parent_id",
        SegmentRejectReason.InvalidType => "invalid_type",
        SegmentRejectReason.MissingName => "missing_name",
        SegmentRejectReason.InvalidName => "invalid_name",
        SegmentRejectReason.NameTooLong => "name_too_long",
        SegmentRejectReason.MissingStartTime => "missing_start_time",
        SegmentRejectReason.InvalidStartTime => "invalid_start_time",
        SegmentRejectReason.MissingEndTime => "missing_end_time",
        SegmentRejectReason.InvalidEndTime => "invalid_end_time",
        SegmentRejectReason.InvalidInProgress => "invalid_in_progress",
        SegmentRejectReason.InvalidAnnotations => "invalid_annotations",
        SegmentRejectReason.InvalidAnnotationKey => "invalid_annotation_key",
        SegmentRejectReason.InvalidAnnotationValue => "invalid_annotation_value",
        SegmentRejectReason.InvalidMetadata => "invalid_metadata",
        SegmentRejectReason.InvalidSubsegments => "invalid_subsegments",
        SegmentRejectReason.InvalidFlag => "invalid_flag",
        SegmentRejectReason.InvalidNamespace => "invalid_namespace",
        SegmentRejectReason.InvalidNumber => "invalid_number",
        _ => "unknown",
    };
}

/// <summary>
/// A rejection: the reason, a JSON path to the offending value (<c>$</c> for the whole document)
/// and, for malformed JSON, the byte offset where the reader stopped.
/// </summary>
public readonly record struct SegmentRejection(SegmentRejectReason Reason, string Path, long ByteOffset = -1)
{
    public static SegmentRejection None { get; } = new(SegmentRejectReason.None, "$");

    public bool IsRejected => Reason != SegmentRejectReason.None;
}
