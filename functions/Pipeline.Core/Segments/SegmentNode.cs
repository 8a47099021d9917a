namespace Pipeline.Core.Segments;

/// <summary>Boolean facts of one segment or subsegment.</summary>
[Flags]
public enum EntityTraits
{
    None = 0,
    Error = 1 << 0,
    Fault = 1 << 1,
    Throttle = 1 << 2,
    InProgress = 1 << 3,
    /// <summary><c>inferred: true</c> (a segment X-Ray or an SDK inferred for a downstream service).</summary>
    Inferred = 1 << 4,
    /// <summary>Has a <c>cause</c> (exception details).</summary>
    HasCause = 1 << 5,
    /// <summary><c>http.request.traced: true</c>: the downstream call is itself traced.</summary>
    HttpTraced = 1 << 6,
    HasAnnotations = 1 << 7,
    HasMetadata = 1 << 8,
}

/// <summary>The <c>http</c> block: request method/url, response status.</summary>
public record struct HttpInfo
{
    public TextRef Method { get; internal set; }
    public TextRef Url { get; internal set; }
    public TextRef ClientIp { get; internal set; }
    public TextRef UserAgent { get; internal set; }

    /// <summary>Response status, or 0 when absent or not an integer.</summary>
    public int Status { get; internal set; }

    /// <summary>Response content length, or -1 when absent or not an integer.</summary>
    public long ContentLength { get; internal set; }
}

/// <summary>The AWS resource fields of the <c>aws</c> block that the graph and the cost report use.</summary>
public record struct AwsInfo
{
    public TextRef Operation { get; internal set; }
    public TextRef Region { get; internal set; }
    public TextRef RequestId { get; internal set; }
    public TextRef TableName { get; internal set; }
    public TextRef QueueUrl { get; internal set; }
    public TextRef FunctionName { get; internal set; }
    public TextRef BucketName { get; internal set; }
    public TextRef TopicArn { get; internal set; }
    public TextRef AccountId { get; internal set; }
}

/// <summary>The <c>sql</c> block.</summary>
public record struct SqlInfo
{
    public TextRef Url { get; internal set; }
    public TextRef DatabaseType { get; internal set; }
    public TextRef DatabaseVersion { get; internal set; }
    public TextRef User { get; internal set; }
    public TextRef SanitizedQuery { get; internal set; }
}

/// <summary>
/// One entity of a document: the top-level segment (or independent subsegment) at index 0 and every
/// embedded subsegment after it in document (pre-)order, each pointing at its parent's index. A flat
/// list so that ingest and the service graph never re-parse.
/// </summary>
public record struct SegmentNode
{
    /// <summary>Index of the enclosing entity in <see cref="ParsedSegment.Nodes"/>, -1 for the root.</summary>
    public int ParentIndex { get; internal set; }

    /// <summary>Position in the parent's <c>subsegments</c> array (0 for the root).</summary>
    public int IndexInParent { get; internal set; }

    /// <summary>Nesting depth: 0 for the root.</summary>
    public int Depth { get; internal set; }

    public TextRef TraceId { get; internal set; }
    public TextRef Id { get; internal set; }
    public TextRef ParentId { get; internal set; }
    public TextRef Name { get; internal set; }
    public TextRef Type { get; internal set; }
    public TextRef Namespace { get; internal set; }
    public TextRef Origin { get; internal set; }
    public TextRef ResourceArn { get; internal set; }

    /// <summary>Epoch seconds; NaN when absent or not a number.</summary>
    public double StartTime { get; internal set; }

    /// <summary>Epoch seconds; NaN when absent or not a number.</summary>
    public double EndTime { get; internal set; }

    public EntityTraits Traits { get; internal set; }
    public HttpInfo Http { get; internal set; }
    public AwsInfo Aws { get; internal set; }
    public SqlInfo Sql { get; internal set; }

    /// <summary>Duration in seconds when both times are present, otherwise NaN.</summary>
    public readonly double Duration => EndTime - StartTime;

    public readonly bool HasError => (Traits & EntityTraits.Error) != 0;
    public readonly bool HasFault => (Traits & EntityTraits.Fault) != 0;
    public readonly bool HasThrottle => (Traits & EntityTraits.Throttle) != 0;
    public readonly bool IsInProgress => (Traits & EntityTraits.InProgress) != 0;

    // Facts only the validator reads: which tracked fields were present, had the wrong JSON type,
    // or occurred twice; and the first annotation problem seen while walking.
    internal FieldMask Present { get; set; }
    internal FieldMask WrongType { get; set; }
    internal FieldMask Duplicate { get; set; }
    internal SegmentRejectReason AnnotationProblem { get; set; }
    internal TextRef AnnotationProblemKey { get; set; }

    /// <summary>The first integer-typed field whose JSON number does not fit its column (<see cref="SegmentRejectReason.InvalidNumber"/>).</summary>
    internal string? NumberProblemField { get; set; }
}

/// <summary>Fields the validator cares about, as bits.</summary>
[Flags]
internal enum FieldMask
{
    None = 0,
    TraceId = 1 << 0,
    Id = 1 << 1,
    ParentId = 1 << 2,
    Name = 1 << 3,
    Type = 1 << 4,
    StartTime = 1 << 5,
    EndTime = 1 << 6,
    InProgress = 1 << 7,
    Error = 1 << 8,
    Fault = 1 << 9,
    Throttle = 1 << 10,
    Annotations = 1 << 11,
    Metadata = 1 << 12,
    Subsegments = 1 << 13,
    Namespace = 1 << 14,
    Origin = 1 << 15,
}
