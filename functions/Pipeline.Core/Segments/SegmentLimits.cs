namespace Pipeline.Core.Segments;

/// <summary>Bounds that keep a hostile document from costing more than a normal one.</summary>
public sealed record SegmentLimits
{
    /// <summary>X-Ray caps a segment document at 64 KB (developer guide, "Segment documents"); the daemon reads 64 KiB datagrams.</summary>
    public const int XRayMaxDocumentBytes = 64 * 1024;

    public static SegmentLimits Default { get; } = new();

    public int MaxDocumentBytes { get; init; } = XRayMaxDocumentBytes;

    /// <summary>JSON nesting depth (objects and arrays), enforced by the reader.</summary>
    public int MaxJsonDepth { get; init; } = 64;

    /// <summary>Subsegment nesting depth below the root; SDKs rarely exceed 10.</summary>
    public int MaxSubsegmentDepth { get; init; } = 24;

    /// <summary>Entities (root plus all embedded subsegments) in one document.</summary>
    public int MaxNodes { get; init; } = 1000;
}
