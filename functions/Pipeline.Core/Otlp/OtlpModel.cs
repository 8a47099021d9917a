namespace Pipeline.Core.Otlp;

// The OTLP trace messages the pipeline reads, written from the OTLP specification
// (opentelemetry-proto: collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
// common/v1/common.proto, resource/v1/resource.proto). Field numbers live in OtlpWire.
// Everything a span carries is kept, so that the conversion can put what has no X-Ray field
// under metadata and nothing of a span is lost.

/// <summary><c>ExportTraceServiceRequest</c> (also the shape of <c>TracesData</c>).</summary>
public sealed class OtlpTraceRequest
{
    public List<OtlpResourceSpans> ResourceSpans { get; } = [];

    /// <summary>Spans in all resource and scope groups.</summary>
    public int SpanCount => ResourceSpans.Sum(r => r.ScopeSpans.Sum(s => s.Spans.Count));

    /// <summary>Every span with its resource and scope, in request order.</summary>
    public IEnumerable<(OtlpResourceSpans Resource, OtlpScopeSpans Scope, OtlpSpan Span)> AllSpans()
    {
        foreach (var resource in ResourceSpans)
        {
            foreach (var scope in resource.ScopeSpans)
            {
                foreach (var span in scope.Spans)
                {
                    yield return (resource, scope, span);
                }
            }
        }
    }
}

/// <summary><c>ResourceSpans</c>: one resource (a process, a service) and its spans by scope.</summary>
public sealed class OtlpResourceSpans
{
    public OtlpResource Resource { get; set; } = new();

    public List<OtlpScopeSpans> ScopeSpans { get; } = [];

    public string SchemaUrl { get; set; } = string.Empty;
}

/// <summary><c>Resource</c>.</summary>
public sealed class OtlpResource
{
    public List<OtlpKeyValue> Attributes { get; } = [];

    public uint DroppedAttributesCount { get; set; }
}

/// <summary><c>ScopeSpans</c>: the spans of one instrumentation scope.</summary>
public sealed class OtlpScopeSpans
{
    public OtlpScope Scope { get; set; } = new();

    public List<OtlpSpan> Spans { get; } = [];

    public string SchemaUrl { get; set; } = string.Empty;
}

/// <summary><c>InstrumentationScope</c>.</summary>
public sealed class OtlpScope
{
    public string Name { get; set; } = string.Empty;

    public string Version { get; set; } = string.Empty;

    public List<OtlpKeyValue> Attributes { get; } = [];

    public uint DroppedAttributesCount { get; set; }
}

/// <summary><c>Span.SpanKind</c>. Values are the protobuf enum numbers.</summary>
public enum OtlpSpanKind
{
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// <summary><c>Status.StatusCode</c>. Values are the protobuf enum numbers.</summary>
public enum OtlpStatusCode
{
    Unset = 0,
    Ok = 1,
    Error = 2,
}

/// <summary>
/// <c>Span</c>. Ids are kept as the bytes that came in (any length), so that a span with a bad
/// id can be refused with a reason instead of failing the whole request.
/// </summary>
public sealed class OtlpSpan
{
    public byte[] TraceId { get; set; } = [];

    public byte[] SpanId { get; set; } = [];

    public string TraceState { get; set; } = string.Empty;

    /// <summary>Empty for a root span.</summary>
    public byte[] ParentSpanId { get; set; } = [];

    /// <summary>W3C trace flags in the low byte, the is-remote bits above (<c>SpanFlags</c>).</summary>
    public uint Flags { get; set; }

    public string Name { get; set; } = string.Empty;

    /// <summary>The enum number as sent (an unknown number is kept, not coerced).</summary>
    public int Kind { get; set; }

    public ulong StartTimeUnixNano { get; set; }

    public ulong EndTimeUnixNano { get; set; }

    public List<OtlpKeyValue> Attributes { get; } = [];

    public uint DroppedAttributesCount { get; set; }

    public List<OtlpEvent> Events { get; } = [];

    public uint DroppedEventsCount { get; set; }

    public List<OtlpLink> Links { get; } = [];

    public uint DroppedLinksCount { get; set; }

    public OtlpStatus Status { get; set; } = OtlpStatus.Unset;

    /// <summary>Set by a decoder when the span broke a request limit (<see cref="OtlpLimits"/>); the span is then refused.</summary>
    public OtlpSpanProblem DecodeProblem { get; set; }

    public OtlpSpanKind KnownKind => Kind is >= 0 and <= 5 ? (OtlpSpanKind)Kind : OtlpSpanKind.Unspecified;
}

/// <summary><c>Span.Event</c>.</summary>
public sealed class OtlpEvent
{
    public ulong TimeUnixNano { get; set; }

    public string Name { get; set; } = string.Empty;

    public List<OtlpKeyValue> Attributes { get; } = [];

    public uint DroppedAttributesCount { get; set; }
}

/// <summary><c>Span.Link</c>.</summary>
public sealed class OtlpLink
{
    public byte[] TraceId { get; set; } = [];

    public byte[] SpanId { get; set; } = [];

    public string TraceState { get; set; } = string.Empty;

    public List<OtlpKeyValue> Attributes { get; } = [];

    public uint DroppedAttributesCount { get; set; }

    public uint Flags { get; set; }
}

/// <summary><c>Status</c>. The code is kept as sent.</summary>
public sealed record OtlpStatus(int Code, string Message)
{
    public static OtlpStatus Unset { get; } = new(0, string.Empty);

    public bool IsError => Code == (int)OtlpStatusCode.Error;
}

/// <summary><c>KeyValue</c>.</summary>
public readonly record struct OtlpKeyValue(string Key, OtlpValue Value);

/// <summary>Which member of the <c>AnyValue</c> oneof is set.</summary>
public enum OtlpValueKind
{
    /// <summary>No member set (an empty AnyValue, or a key without value).</summary>
    Empty = 0,
    StringValue,
    BoolValue,
    IntValue,
    DoubleValue,
    ArrayValue,
    KvlistValue,
    BytesValue,
}

/// <summary><c>AnyValue</c>: a small tagged union.</summary>
public readonly struct OtlpValue : IEquatable<OtlpValue>
{
    private readonly long _bits;
    private readonly object? _reference;

    private OtlpValue(OtlpValueKind kind, long bits, object? reference)
    {
        Kind = kind;
        _bits = bits;
        _reference = reference;
    }

    public OtlpValueKind Kind { get; }

    public static OtlpValue Empty => default;

    public string? AsString => Kind == OtlpValueKind.StringValue ? (string?)_reference : null;

    public bool AsBool => Kind == OtlpValueKind.BoolValue && _bits != 0;

    public long AsInt => Kind == OtlpValueKind.IntValue ? _bits : 0;

    public double AsDouble => Kind == OtlpValueKind.DoubleValue ? BitConverter.Int64BitsToDouble(_bits) : 0;

    public IReadOnlyList<OtlpValue> AsArray => Kind == OtlpValueKind.ArrayValue ? (List<OtlpValue>)_reference! : [];

    public IReadOnlyList<OtlpKeyValue> AsKeyValueList => Kind == OtlpValueKind.KvlistValue ? (List<OtlpKeyValue>)_reference! : [];

    public byte[] AsBytes => Kind == OtlpValueKind.BytesValue ? (byte[])_reference! : [];

    public static OtlpValue FromString(string value) => new(OtlpValueKind.StringValue, 0, value ?? string.Empty);

    public static OtlpValue FromBool(bool value) => new(OtlpValueKind.BoolValue, value ? 1 : 0, null);

    public static OtlpValue FromInt(long value) => new(OtlpValueKind.IntValue, value, null);

    public static OtlpValue FromDouble(double value) => new(OtlpValueKind.DoubleValue, BitConverter.DoubleToInt64Bits(value), null);

    public static OtlpValue FromArray(List<OtlpValue> values) => new(OtlpValueKind.ArrayValue, 0, values ?? []);

    public static OtlpValue FromKeyValueList(List<OtlpKeyValue> values) => new(OtlpValueKind.KvlistValue, 0, values ?? []);

    public static OtlpValue FromBytes(byte[] value) => new(OtlpValueKind.BytesValue, 0, value ?? []);

    /// <summary>Integer view of an int, or of a string/double holding a whole number (HTTP status codes arrive as either).</summary>
    public bool TryGetInteger(out long value)
    {
        switch (Kind)
        {
            case OtlpValueKind.IntValue:
                value = _bits;
                return true;
            case OtlpValueKind.DoubleValue when AsDouble is var d && double.IsFinite(d) && Math.Floor(d) == d && Math.Abs(d) < 9e15:
                value = (long)d;
                return true;
            case OtlpValueKind.StringValue:
                return long.TryParse(AsString, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out value);
            default:
                value = 0;
                return false;
        }
    }

    /// <summary>Text view of a scalar (a string as is; numbers and bools invariant); null for others.</summary>
    public string? ToScalarString() => Kind switch
    {
        OtlpValueKind.StringValue => AsString,
        OtlpValueKind.IntValue => _bits.ToString(System.Globalization.CultureInfo.InvariantCulture),
        OtlpValueKind.DoubleValue => AsDouble.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        OtlpValueKind.BoolValue => AsBool ? "true" : "false",
        _ => null,
    };

    public bool Equals(OtlpValue other)
    {
        if (Kind != other.Kind)
        {
            return false;
        }

        return Kind switch
        {
            OtlpValueKind.Empty => true,
            OtlpValueKind.StringValue => string.Equals(AsString, other.AsString, StringComparison.Ordinal),
            OtlpValueKind.BoolValue or OtlpValueKind.IntValue or OtlpValueKind.DoubleValue => _bits == other._bits,
            OtlpValueKind.BytesValue => AsBytes.AsSpan().SequenceEqual(other.AsBytes),
            OtlpValueKind.ArrayValue => AsArray.SequenceEqual(other.AsArray),
            OtlpValueKind.KvlistValue => AsKeyValueList.SequenceEqual(other.AsKeyValueList),
            _ => false,
        };
    }

    public override bool Equals(object? obj) => obj is OtlpValue other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Kind, _bits, Kind is OtlpValueKind.StringValue ? _reference : null);

    public static bool operator ==(OtlpValue left, OtlpValue right) => left.Equals(right);

    public static bool operator !=(OtlpValue left, OtlpValue right) => !left.Equals(right);

    public override string ToString() => ToScalarString() ?? Kind.ToString();
}

/// <summary>Attribute lookups over the lists the model keeps (first occurrence wins, as in the collector's pdata).</summary>
public static class OtlpAttributes
{
    public static bool TryGet(this List<OtlpKeyValue> attributes, string key, out OtlpValue value)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        foreach (var attribute in attributes)
        {
            if (string.Equals(attribute.Key, key, StringComparison.Ordinal))
            {
                value = attribute.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>The string value of <paramref name="key"/>, or null when absent or not a string.</summary>
    public static string? GetString(this List<OtlpKeyValue> attributes, string key) =>
        attributes.TryGet(key, out var value) && value.Kind == OtlpValueKind.StringValue ? value.AsString : null;
}
