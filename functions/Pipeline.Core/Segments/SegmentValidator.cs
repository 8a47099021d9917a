using System.Buffers.Text;
using System.Text;

namespace Pipeline.Core.Segments;

/// <summary>Options of <see cref="SegmentValidator"/>; the defaults follow the X-Ray schema.</summary>
public sealed record ValidationOptions
{
    public static ValidationOptions Default { get; } = new();

    /// <summary>
    /// Earliest plausible trace id epoch. X-Ray was announced in 2016, so an older epoch means a
    /// test fixture or a broken id generator (e.g. the .NET SDK tests' <c>1-11111111-...</c> = 1979).
    /// </summary>
    public DateTimeOffset MinTraceEpoch { get; init; } = new(2016, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How far past <c>now</c> a trace epoch may be (client clocks drift; a day is generous).</summary>
    public TimeSpan MaxTraceEpochSkew { get; init; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Whether the root's trace id must carry a plausible epoch (<see cref="MinTraceEpoch"/> to now +
    /// <see cref="MaxTraceEpochSkew"/>). Off for the archive: in a mixed fleet an OpenTelemetry
    /// service without the AWS X-Ray ID generator starts traces whose first 8 hex digits are random,
    /// and the X-Ray propagator carries that id into the aws-xray-sdk services it calls, so their
    /// segments are real data with an "implausible" epoch. They are archived like the converted
    /// spans of the same trace, and only X-Ray forwarding cares: it counts them under its own
    /// reason (XRayNoEpochSegments) instead of sending them (shared corpus README: an old trace
    /// epoch is valid for the archive, the forwarder's concern). On: what X-Ray itself would take.
    /// </summary>
    public bool RequirePlausibleTraceEpoch { get; init; }

    /// <summary>Max characters of <c>name</c>. Source: X-Ray segment document schema ("200 characters").</summary>
    public int MaxNameLength { get; init; } = 200;
}

/// <summary>
/// Applies the X-Ray segment document rules to a <see cref="ParsedSegment"/>: ids, trace id (with a
/// plausible epoch), names, times, independent-subsegment fields, annotations, metadata, recursively
/// for every embedded subsegment. Returns the first violation in document order.
/// </summary>
public static class SegmentValidator
{
    /// <summary>id and parent_id: 16 hex digits (64-bit). Source: X-Ray segment document schema.</summary>
    public const int EntityIdLength = 16;

    public static SegmentRejection Validate(ParsedSegment segment, DateTimeOffset now, ValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(segment);
        options ??= ValidationOptions.Default;
        var nodes = segment.Nodes;
        for (var i = 0; i < nodes.Length; i++)
        {
            var reason = ValidateNode(segment, i, now, options, out var field, out var member);
            if (reason != SegmentRejectReason.None)
            {
                return new SegmentRejection(reason, SegmentPaths.Of(nodes, i, field, member));
            }
        }

        return SegmentRejection.None;
    }

    /// <summary>Parse then validate: the usual call.</summary>
    public static SegmentParseResult ParseAndValidate(ReadOnlyMemory<byte> document, DateTimeOffset now, ValidationOptions? options = null, SegmentLimits? limits = null)
    {
        var parsed = SegmentParser.Parse(document, limits);
        if (!parsed.IsOk)
        {
            return parsed;
        }

        var rejection = Validate(parsed.Segment, now, options);
        return rejection.IsRejected ? new SegmentParseResult(null, rejection) : parsed;
    }

    /// <summary>Trace id format: <c>1-</c>, 8 hex digits of epoch seconds, <c>-</c>, 24 hex digits.</summary>
    public static bool IsValidTraceId(ReadOnlySpan<byte> traceId) => Wire.TraceIdSniffer.IsWellFormed(traceId);

    /// <summary>The epoch seconds in a well-formed trace id.</summary>
    public static long TraceEpochSeconds(ReadOnlySpan<byte> traceId) =>
        Utf8Parser.TryParse(traceId.Slice(2, 8), out uint seconds, out var consumed, 'x') && consumed == 8 ? seconds : -1;

    public static bool IsValidEntityId(ReadOnlySpan<byte> id)
    {
        if (id.Length != EntityIdLength)
        {
            return false;
        }

        foreach (var b in id)
        {
            if (!char.IsAsciiHexDigit((char)b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Unicode letters, digits and whitespace plus <c>_ . : / % &amp; # = + \ - @</c>, 1..max characters.
    /// Source: X-Ray segment document schema ("name").
    /// </summary>
    public static SegmentRejectReason CheckName(ReadOnlySpan<byte> name, int maxLength)
    {
        if (name.IsEmpty)
        {
            return SegmentRejectReason.InvalidName;
        }

        var count = 0;
        while (!name.IsEmpty)
        {
            if (name[0] < 0x80)
            {
                if (!IsNameRune(new Rune(name[0])))
                {
                    return SegmentRejectReason.InvalidName;
                }

                count++;
                name = name[1..];
                continue;
            }

            if (Rune.DecodeFromUtf8(name, out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return SegmentRejectReason.InvalidName;
            }

            if (!IsNameRune(rune))
            {
                return SegmentRejectReason.InvalidName;
            }

            count++;
            name = name[consumed..];
        }

        return count > maxLength ? SegmentRejectReason.NameTooLong : SegmentRejectReason.None;
    }

    /// <summary>One character of the allowed name set (see <see cref="CheckName"/>).</summary>
    internal static bool IsNameRune(Rune rune)
    {
        if (rune.IsAscii)
        {
            var c = (char)rune.Value;
            return char.IsAsciiLetterOrDigit(c) || c is ' ' or '\t' or '_' or '.' or ':' or '/' or '%' or '&' or '#' or '=' or '+' or '\\' or '-' or '@';
        }

        return Rune.IsLetterOrDigit(rune) || Rune.IsWhiteSpace(rune);
    }

    private static SegmentRejectReason ValidateNode(ParsedSegment segment, int index, DateTimeOffset now, ValidationOptions options, out string field, out string? member)
    {
        ref readonly var node = ref segment.Nodes[index];
        var isRoot = index == 0;
        member = null;

        if (node.Duplicate != FieldMask.None)
        {
            field = FieldName(LowestBit(node.Duplicate));
            return SegmentRejectReason.DuplicateField;
        }

        field = "trace_id";
        if (Has(node, FieldMask.TraceId) || isRoot)
        {
            if (!Has(node, FieldMask.TraceId))
            {
                return SegmentRejectReason.MissingTraceId;
            }

            var traceId = segment.GetUtf8(node.TraceId);
            if (Wrong(node, FieldMask.TraceId) || !IsValidTraceId(traceId))
            {
                return SegmentRejectReason.InvalidTraceId;
            }

            if (isRoot && options.RequirePlausibleTraceEpoch)
            {
                var epoch = TraceEpochSeconds(traceId);
                if (epoch < options.MinTraceEpoch.ToUnixTimeSeconds() || epoch > (now + options.MaxTraceEpochSkew).ToUnixTimeSeconds())
                {
                    return SegmentRejectReason.ImplausibleTraceEpoch;
                }
            }
        }

        field = "id";
        if (!Has(node, FieldMask.Id))
        {
            return SegmentRejectReason.MissingId;
        }

        if (Wrong(node, FieldMask.Id) || !IsValidEntityId(segment.GetUtf8(node.Id)))
        {
            return SegmentRejectReason.InvalidId;
        }

        field = "type";
        var isIndependent = false;
        if (Has(node, FieldMask.Type))
        {
            if (Wrong(node, FieldMask.Type) || !segment.TextEquals(node.Type, ParsedSegment.SubsegmentType))
            {
                return SegmentRejectReason.InvalidType;
            }

            isIndependent = isRoot;
        }

        field = "parent_id";
        if (Has(node, FieldMask.ParentId))
        {
            if (Wrong(node, FieldMask.ParentId) || !IsValidEntityId(segment.GetUtf8(node.ParentId)))
            {
                return SegmentRejectReason.InvalidParentId;
            }
        }
        else if (isIndependent)
        {
            return SegmentRejectReason.MissingParentId;
        }

        field = "name";
        if (!Has(node, FieldMask.Name))
        {
            return SegmentRejectReason.MissingName;
        }

        if (Wrong(node, FieldMask.Name))
        {
            return SegmentRejectReason.InvalidName;
        }

        var nameCheck = CheckName(segment.GetUtf8(node.Name), options.MaxNameLength);
        if (nameCheck != SegmentRejectReason.None)
        {
            return nameCheck;
        }

        field = "start_time";
        if (!Has(node, FieldMask.StartTime))
        {
            return SegmentRejectReason.MissingStartTime;
        }

        if (Wrong(node, FieldMask.StartTime) || node.StartTime < 0)
        {
            return SegmentRejectReason.InvalidStartTime;
        }

        field = "in_progress";
        if (Wrong(node, FieldMask.InProgress))
        {
            return SegmentRejectReason.InvalidInProgress;
        }

        field = "end_time";
        if (Has(node, FieldMask.EndTime))
        {
            if (Wrong(node, FieldMask.EndTime) || node.EndTime < 0)
            {
                return SegmentRejectReason.InvalidEndTime;
            }
        }
        else if (!node.IsInProgress)
        {
            return SegmentRejectReason.MissingEndTime;
        }

        foreach (var flag in (ReadOnlySpan<FieldMask>)[FieldMask.Error, FieldMask.Fault, FieldMask.Throttle])
        {
            if (Wrong(node, flag))
            {
                field = FieldName(flag);
                return SegmentRejectReason.InvalidFlag;
            }
        }

        field = "namespace";
        if (Wrong(node, FieldMask.Namespace))
        {
            return SegmentRejectReason.InvalidNamespace;
        }

        field = "annotations";
        if (Wrong(node, FieldMask.Annotations))
        {
            return SegmentRejectReason.InvalidAnnotations;
        }

        if (node.AnnotationProblem != SegmentRejectReason.None)
        {
            member = segment.GetString(node.AnnotationProblemKey);
            return node.AnnotationProblem;
        }

        if (node.NumberProblemField is { } numberField)
        {
            field = numberField;
            return SegmentRejectReason.InvalidNumber;
        }

        field = "metadata";
        if (Wrong(node, FieldMask.Metadata))
        {
            return SegmentRejectReason.InvalidMetadata;
        }

        field = "subsegments";
        if (Wrong(node, FieldMask.Subsegments))
        {
            return SegmentRejectReason.InvalidSubsegments;
        }

        field = string.Empty;
        return SegmentRejectReason.None;
    }

    private static bool Has(in SegmentNode node, FieldMask field) => (node.Present & field) != 0;

    private static bool Wrong(in SegmentNode node, FieldMask field) => (node.WrongType & field) != 0;

    private static FieldMask LowestBit(FieldMask mask) => (FieldMask)((int)mask & -(int)mask);

    private static string FieldName(FieldMask field) => field switch
    {
        FieldMask.TraceId => "trace_id",
        FieldMask.Id => "id",
        FieldMask.ParentId => "parent_id",
        FieldMask.Name => "name",
        FieldMask.Type => "type",
        FieldMask.StartTime => "start_time",
        FieldMask.EndTime => "end_time",
        FieldMask.InProgress => "in_progress",
        FieldMask.Error => "error",
        FieldMask.Fault => "fault",
        FieldMask.Throttle => "throttle",
        FieldMask.Annotations => "annotations",
        FieldMask.Metadata => "metadata",
        FieldMask.Subsegments => "subsegments",
        FieldMask.Namespace => "namespace",
        FieldMask.Origin => "origin",
        _ => "?",
    };
}
