using System.Text;
using System.Text.Unicode;
using Pipeline.Core.Wire;

namespace Pipeline.Core.Otlp;

/// <summary>
/// Decodes an OTLP <c>ExportTraceServiceRequest</c> from protobuf bytes into <see cref="OtlpTraceRequest"/>,
/// hand-written (no reflection, AOT-clean). Bounded by <see cref="OtlpLimits"/>: a request over the span
/// limit or with values nested too deep is refused whole; a span over a per-span limit is decoded
/// without the excess and marked (<see cref="OtlpSpan.DecodeProblem"/>) so that it alone is refused.
/// Follows protobuf's rules for unknown input: unknown fields, and known fields sent with another wire
/// type, are skipped (as generated code does); a truncated or overlong field is malformed.
/// </summary>
public static class OtlpProtobufDecoder
{
    public static OtlpDecodeResult Decode(ReadOnlySpan<byte> message, OtlpLimits? limits = null)
    {
        var state = new State(limits ?? OtlpLimits.Default);
        var request = new OtlpTraceRequest();
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Fail(OtlpDecodeError.MalformedProtobuf, at);
            }

            if (field == OtlpWire.RequestResourceSpans && wireType == Protobuf.WireLengthDelimited)
            {
                if (!Protobuf.TryReadLengthDelimited(message, ref position, out var start, out var length))
                {
                    return state.Fail(OtlpDecodeError.MalformedProtobuf, at);
                }

                var resourceSpans = new OtlpResourceSpans();
                if (!ReadResourceSpans(message.Slice(start, length), start, resourceSpans, state))
                {
                    return state.Failed();
                }

                request.ResourceSpans.Add(resourceSpans);
            }
            else if (!Protobuf.TrySkip(message, ref position, wireType))
            {
                return state.Fail(OtlpDecodeError.MalformedProtobuf, at);
            }
        }

        return new OtlpDecodeResult(request, OtlpDecodeError.None);
    }

    private static bool ReadResourceSpans(ReadOnlySpan<byte> message, int offset, OtlpResourceSpans target, State state)
    {
        var resourceOverLimit = false;
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            if (wireType == Protobuf.WireLengthDelimited && field is OtlpWire.ResourceSpansResource or OtlpWire.ResourceSpansScopeSpans or OtlpWire.ResourceSpansSchemaUrl)
            {
                if (!Protobuf.TryReadLengthDelimited(message, ref position, out var start, out var length))
                {
                    return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                }

                var value = message.Slice(start, length);
                var ok = field switch
                {
                    OtlpWire.ResourceSpansResource => ReadResource(value, offset + start, target.Resource, state, ref resourceOverLimit),
                    OtlpWire.ResourceSpansScopeSpans => ReadScopeSpans(value, offset + start, target, state),
                    _ => ReadString(value, offset + start, state, out var schema) && Assign(schema, s => target.SchemaUrl = s),
                };
                if (!ok)
                {
                    return false;
                }
            }
            else if (!Protobuf.TrySkip(message, ref position, wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }
        }

        if (resourceOverLimit)
        {
            foreach (var scope in target.ScopeSpans)
            {
                MarkAll(scope.Spans, OtlpSpanProblem.TooManyAttributes);
            }
        }

        return true;
    }

    private static bool ReadResource(ReadOnlySpan<byte> message, int offset, OtlpResource target, State state, ref bool overLimit)
    {
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            if (field == OtlpWire.ResourceAttributes && wireType == Protobuf.WireLengthDelimited)
            {
                if (!ReadAttribute(message, ref position, offset, target.Attributes, state, ref overLimit))
                {
                    return false;
                }
            }
            else if (field == OtlpWire.ResourceDroppedAttributesCount && wireType == Protobuf.WireVarint)
            {
                if (!ReadUInt32(message, ref position, offset, state, out var dropped))
                {
                    return false;
                }

                target.DroppedAttributesCount = dropped;
            }
            else if (!Protobuf.TrySkip(message, ref position, wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }
        }

        return true;
    }

    private static bool ReadScopeSpans(ReadOnlySpan<byte> message, int offset, OtlpResourceSpans parent, State state)
    {
        var target = new OtlpScopeSpans();
        var scopeOverLimit = false;
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            if (wireType == Protobuf.WireLengthDelimited && field is OtlpWire.ScopeSpansScope or OtlpWire.ScopeSpansSpans or OtlpWire.ScopeSpansSchemaUrl)
            {
                if (!Protobuf.TryReadLengthDelimited(message, ref position, out var start, out var length))
                {
                    return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                }

                var value = message.Slice(start, length);
                bool ok;
                if (field == OtlpWire.ScopeSpansScope)
                {
                    ok = ReadScope(value, offset + start, target.Scope, state, ref scopeOverLimit);
                }
                else if (field == OtlpWire.ScopeSpansSpans)
                {
                    if (++state.Spans > state.Limits.MaxSpansPerRequest)
                    {
                        return state.Mark(OtlpDecodeError.TooManySpans, offset + at);
                    }

                    var span = new OtlpSpan();
                    ok = ReadSpan(value, offset + start, span, state);
                    target.Spans.Add(span);
                }
                else
                {
                    ok = ReadString(value, offset + start, state, out var schema) && Assign(schema, s => target.SchemaUrl = s);
                }

                if (!ok)
                {
                    return false;
                }
            }
            else if (!Protobuf.TrySkip(message, ref position, wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }
        }

        if (scopeOverLimit)
        {
            MarkAll(target.Spans, OtlpSpanProblem.TooManyAttributes);
        }

        parent.ScopeSpans.Add(target);
        return true;
    }

    private static bool ReadScope(ReadOnlySpan<byte> message, int offset, OtlpScope target, State state, ref bool overLimit)
    {
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            bool ok;
            switch (field)
            {
                case OtlpWire.ScopeName when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadStringField(message, ref position, offset, state, out var name);
                    target.Name = name;
                    break;
                case OtlpWire.ScopeVersion when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadStringField(message, ref position, offset, state, out var version);
                    target.Version = version;
                    break;
                case OtlpWire.ScopeAttributes when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadAttribute(message, ref position, offset, target.Attributes, state, ref overLimit);
                    break;
                case OtlpWire.ScopeDroppedAttributesCount when wireType == Protobuf.WireVarint:
                    ok = ReadUInt32(message, ref position, offset, state, out var dropped);
                    target.DroppedAttributesCount = dropped;
                    break;
                default:
                    ok = Protobuf.TrySkip(message, ref position, wireType) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    break;
            }

            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ReadSpan(ReadOnlySpan<byte> message, int offset, OtlpSpan span, State state)
    {
        var attributesOver = false;
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            var ok = true;
            switch (field)
            {
                case OtlpWire.SpanTraceId when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadBytesField(message, ref position, offset, state, out var traceId);
                    span.TraceId = traceId;
                    break;
                case OtlpWire.SpanSpanId when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadBytesField(message, ref position, offset, state, out var spanId);
                    span.SpanId = spanId;
                    break;
                case OtlpWire.SpanTraceState when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadStringField(message, ref position, offset, state, out var traceState);
                    span.TraceState = traceState;
                    break;
                case OtlpWire.SpanParentSpanId when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadBytesField(message, ref position, offset, state, out var parent);
                    span.ParentSpanId = parent;
                    break;
                case OtlpWire.SpanFlags when wireType == Protobuf.WireFixed32:
                    ok = Protobuf.TryReadFixed32(message, ref position, out var flags) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    span.Flags = flags;
                    break;
                case OtlpWire.SpanName when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadStringField(message, ref position, offset, state, out var name);
                    span.Name = name;
                    break;
                case OtlpWire.SpanKind when wireType == Protobuf.WireVarint:
                    ok = ReadEnum(message, ref position, offset, state, out var kind);
                    span.Kind = kind;
                    break;
                case OtlpWire.SpanStartTimeUnixNano when wireType == Protobuf.WireFixed64:
                    ok = Protobuf.TryReadFixed64(message, ref position, out var startTime) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    span.StartTimeUnixNano = startTime;
                    break;
                case OtlpWire.SpanEndTimeUnixNano when wireType == Protobuf.WireFixed64:
                    ok = Protobuf.TryReadFixed64(message, ref position, out var endTime) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    span.EndTimeUnixNano = endTime;
                    break;
                case OtlpWire.SpanAttributes when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadAttribute(message, ref position, offset, span.Attributes, state, ref attributesOver);
                    break;
                case OtlpWire.SpanDroppedAttributesCount when wireType == Protobuf.WireVarint:
                    ok = ReadUInt32(message, ref position, offset, state, out var droppedAttributes);
                    span.DroppedAttributesCount = droppedAttributes;
                    break;
                case OtlpWire.SpanEvents when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadChild(message, ref position, offset, state, out var eventStart, out var eventLength);
                    if (ok)
                    {
                        var item = new OtlpEvent();
                        ok = ReadEvent(message.Slice(eventStart, eventLength), offset + eventStart, item, state, ref attributesOver);
                        if (span.Events.Count < state.Limits.MaxEventsPerSpan)
                        {
                            span.Events.Add(item);
                        }
                        else
                        {
                            span.DecodeProblem = First(span.DecodeProblem, OtlpSpanProblem.TooManyEvents);
                        }
                    }

                    break;
                case OtlpWire.SpanDroppedEventsCount when wireType == Protobuf.WireVarint:
                    ok = ReadUInt32(message, ref position, offset, state, out var droppedEvents);
                    span.DroppedEventsCount = droppedEvents;
                    break;
                case OtlpWire.SpanLinks when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadChild(message, ref position, offset, state, out var linkStart, out var linkLength);
                    if (ok)
                    {
                        var item = new OtlpLink();
                        ok = ReadLink(message.Slice(linkStart, linkLength), offset + linkStart, item, state, ref attributesOver);
                        if (span.Links.Count < state.Limits.MaxLinksPerSpan)
                        {
                            span.Links.Add(item);
                        }
                        else
                        {
                            span.DecodeProblem = First(span.DecodeProblem, OtlpSpanProblem.TooManyLinks);
                        }
                    }

                    break;
                case OtlpWire.SpanDroppedLinksCount when wireType == Protobuf.WireVarint:
                    ok = ReadUInt32(message, ref position, offset, state, out var droppedLinks);
                    span.DroppedLinksCount = droppedLinks;
                    break;
                case OtlpWire.SpanStatus when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadChild(message, ref position, offset, state, out var statusStart, out var statusLength)
                        && ReadStatus(message.Slice(statusStart, statusLength), offset + statusStart, span, state);
                    break;
                default:
                    ok = Protobuf.TrySkip(message, ref position, wireType) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    break;
            }

            if (!ok)
            {
                return false;
            }
        }

        if (attributesOver)
        {
            span.DecodeProblem = First(span.DecodeProblem, OtlpSpanProblem.TooManyAttributes);
        }

        return true;
    }

    private static bool ReadEvent(ReadOnlySpan<byte> message, int offset, OtlpEvent target, State state, ref bool overLimit)
    {
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            bool ok;
            switch (field)
            {
                case OtlpWire.EventTimeUnixNano when wireType == Protobuf.WireFixed64:
                    ok = Protobuf.TryReadFixed64(message, ref position, out var time) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    target.TimeUnixNano = time;
                    break;
                case OtlpWire.EventName when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadStringField(message, ref position, offset, state, out var name);
                    target.Name = name;
                    break;
                case OtlpWire.EventAttributes when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadAttribute(message, ref position, offset, target.Attributes, state, ref overLimit);
                    break;
                case OtlpWire.EventDroppedAttributesCount when wireType == Protobuf.WireVarint:
                    ok = ReadUInt32(message, ref position, offset, state, out var dropped);
                    target.DroppedAttributesCount = dropped;
                    break;
                default:
                    ok = Protobuf.TrySkip(message, ref position, wireType) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    break;
            }

            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ReadLink(ReadOnlySpan<byte> message, int offset, OtlpLink target, State state, ref bool overLimit)
    {
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            bool ok;
            switch (field)
            {
                case OtlpWire.LinkTraceId when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadBytesField(message, ref position, offset, state, out var traceId);
                    target.TraceId = traceId;
                    break;
                case OtlpWire.LinkSpanId when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadBytesField(message, ref position, offset, state, out var spanId);
                    target.SpanId = spanId;
                    break;
                case OtlpWire.LinkTraceState when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadStringField(message, ref position, offset, state, out var traceState);
                    target.TraceState = traceState;
                    break;
                case OtlpWire.LinkAttributes when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadAttribute(message, ref position, offset, target.Attributes, state, ref overLimit);
                    break;
                case OtlpWire.LinkDroppedAttributesCount when wireType == Protobuf.WireVarint:
                    ok = ReadUInt32(message, ref position, offset, state, out var dropped);
                    target.DroppedAttributesCount = dropped;
                    break;
                case OtlpWire.LinkFlags when wireType == Protobuf.WireFixed32:
                    ok = Protobuf.TryReadFixed32(message, ref position, out var flags) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    target.Flags = flags;
                    break;
                default:
                    ok = Protobuf.TrySkip(message, ref position, wireType) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    break;
            }

            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ReadStatus(ReadOnlySpan<byte> message, int offset, OtlpSpan span, State state)
    {
        var code = span.Status.Code;
        var text = span.Status.Message;
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            bool ok;
            switch (field)
            {
                case OtlpWire.StatusMessage when wireType == Protobuf.WireLengthDelimited:
                    ok = ReadStringField(message, ref position, offset, state, out text);
                    break;
                case OtlpWire.StatusCode when wireType == Protobuf.WireVarint:
                    ok = ReadEnum(message, ref position, offset, state, out code);
                    break;
                default:
                    ok = Protobuf.TrySkip(message, ref position, wireType) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    break;
            }

            if (!ok)
            {
                return false;
            }
        }

        span.Status = new OtlpStatus(code, text);
        return true;
    }

    /// <summary>Reads one <c>KeyValue</c>; past the attribute limit it is parsed (for well-formedness) but not kept.</summary>
    private static bool ReadAttribute(ReadOnlySpan<byte> message, ref int position, int offset, List<OtlpKeyValue> target, State state, ref bool overLimit)
    {
        if (!ReadChild(message, ref position, offset, state, out var start, out var length))
        {
            return false;
        }

        if (!ReadKeyValue(message.Slice(start, length), offset + start, state, depth: 0, out var keyValue))
        {
            return false;
        }

        if (target.Count < state.Limits.MaxAttributesPerSpan)
        {
            target.Add(keyValue);
        }
        else
        {
            overLimit = true;
        }

        return true;
    }

    private static bool ReadKeyValue(ReadOnlySpan<byte> message, int offset, State state, int depth, out OtlpKeyValue keyValue)
    {
        keyValue = default;
        var key = string.Empty;
        var value = OtlpValue.Empty;
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            if (field == OtlpWire.KeyValueKey && wireType == Protobuf.WireLengthDelimited)
            {
                if (!ReadStringField(message, ref position, offset, state, out key))
                {
                    return false;
                }
            }
            else if (field == OtlpWire.KeyValueValue && wireType == Protobuf.WireLengthDelimited)
            {
                if (!ReadChild(message, ref position, offset, state, out var start, out var length)
                    || !ReadAnyValue(message.Slice(start, length), offset + start, state, depth, out value))
                {
                    return false;
                }
            }
            else if (!Protobuf.TrySkip(message, ref position, wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }
        }

        keyValue = new OtlpKeyValue(key, value);
        return true;
    }

    private static bool ReadAnyValue(ReadOnlySpan<byte> message, int offset, State state, int depth, out OtlpValue value)
    {
        value = OtlpValue.Empty;
        if (depth >= state.Limits.MaxValueDepth)
        {
            return state.Mark(OtlpDecodeError.TooComplex, offset);
        }

        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            switch (field)
            {
                case OtlpWire.AnyValueString when wireType == Protobuf.WireLengthDelimited:
                    if (!ReadStringField(message, ref position, offset, state, out var text))
                    {
                        return false;
                    }

                    value = OtlpValue.FromString(text);
                    break;
                case OtlpWire.AnyValueBool when wireType == Protobuf.WireVarint:
                    if (!Protobuf.TryReadVarint(message, ref position, out var flag))
                    {
                        return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    }

                    value = OtlpValue.FromBool(flag != 0);
                    break;
                case OtlpWire.AnyValueInt when wireType == Protobuf.WireVarint:
                    if (!Protobuf.TryReadVarint(message, ref position, out var integer))
                    {
                        return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    }

                    value = OtlpValue.FromInt(unchecked((long)integer));
                    break;
                case OtlpWire.AnyValueDouble when wireType == Protobuf.WireFixed64:
                    if (!Protobuf.TryReadFixed64(message, ref position, out var bits))
                    {
                        return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    }

                    value = OtlpValue.FromDouble(BitConverter.Int64BitsToDouble(unchecked((long)bits)));
                    break;
                case OtlpWire.AnyValueBytes when wireType == Protobuf.WireLengthDelimited:
                    if (!ReadBytesField(message, ref position, offset, state, out var bytes))
                    {
                        return false;
                    }

                    value = OtlpValue.FromBytes(bytes);
                    break;
                case OtlpWire.AnyValueArray or OtlpWire.AnyValueKeyValueList when wireType == Protobuf.WireLengthDelimited:
                    if (!ReadChild(message, ref position, offset, state, out var start, out var length)
                        || !ReadList(message.Slice(start, length), offset + start, state, depth + 1, field == OtlpWire.AnyValueKeyValueList, out value))
                    {
                        return false;
                    }

                    break;
                default:
                    if (!Protobuf.TrySkip(message, ref position, wireType))
                    {
                        return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
                    }

                    break;
            }
        }

        return true;
    }

    /// <summary><c>ArrayValue</c> or <c>KeyValueList</c> (both: repeated field 1), at most <see cref="OtlpLimits.MaxAttributesPerSpan"/> items.</summary>
    private static bool ReadList(ReadOnlySpan<byte> message, int offset, State state, int depth, bool keyValues, out OtlpValue value)
    {
        var values = keyValues ? null : new List<OtlpValue>();
        var pairs = keyValues ? new List<OtlpKeyValue>() : null;
        value = OtlpValue.Empty;
        var count = 0;
        var position = 0;
        while (position < message.Length)
        {
            var at = position;
            if (!Protobuf.TryReadTag(message, ref position, out var field, out var wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }

            if (field == OtlpWire.ArrayValueValues && wireType == Protobuf.WireLengthDelimited)
            {
                if (!ReadChild(message, ref position, offset, state, out var start, out var length))
                {
                    return false;
                }

                if (++count > state.Limits.MaxAttributesPerSpan)
                {
                    return state.Mark(OtlpDecodeError.TooComplex, offset + at);
                }

                var item = message.Slice(start, length);
                if (keyValues)
                {
                    if (!ReadKeyValue(item, offset + start, state, depth, out var pair))
                    {
                        return false;
                    }

                    pairs!.Add(pair);
                }
                else
                {
                    if (!ReadAnyValue(item, offset + start, state, depth, out var element))
                    {
                        return false;
                    }

                    values!.Add(element);
                }
            }
            else if (!Protobuf.TrySkip(message, ref position, wireType))
            {
                return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
            }
        }

        value = keyValues ? OtlpValue.FromKeyValueList(pairs!) : OtlpValue.FromArray(values!);
        return true;
    }

    private static bool ReadChild(ReadOnlySpan<byte> message, ref int position, int offset, State state, out int start, out int length)
    {
        var at = position;
        return Protobuf.TryReadLengthDelimited(message, ref position, out start, out length) || state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
    }

    private static bool ReadStringField(ReadOnlySpan<byte> message, ref int position, int offset, State state, out string value)
    {
        value = string.Empty;
        return ReadChild(message, ref position, offset, state, out var start, out var length)
            && ReadString(message.Slice(start, length), offset + start, state, out value);
    }

    private static bool ReadString(ReadOnlySpan<byte> bytes, int offset, State state, out string value)
    {
        if (bytes.IsEmpty)
        {
            value = string.Empty;
            return true;
        }

        if (!Utf8.IsValid(bytes))
        {
            value = string.Empty;
            return state.Mark(OtlpDecodeError.InvalidUtf8, offset);
        }

        value = Encoding.UTF8.GetString(bytes);
        return true;
    }

    private static bool ReadBytesField(ReadOnlySpan<byte> message, ref int position, int offset, State state, out byte[] value)
    {
        value = [];
        if (!ReadChild(message, ref position, offset, state, out var start, out var length))
        {
            return false;
        }

        value = length == 0 ? [] : message.Slice(start, length).ToArray();
        return true;
    }

    private static bool ReadUInt32(ReadOnlySpan<byte> message, ref int position, int offset, State state, out uint value)
    {
        var at = position;
        value = 0;
        if (!Protobuf.TryReadVarint(message, ref position, out var raw))
        {
            return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
        }

        value = unchecked((uint)raw);
        return true;
    }

    /// <summary>An enum is an int32 varint; negative numbers arrive sign-extended to 10 bytes.</summary>
    private static bool ReadEnum(ReadOnlySpan<byte> message, ref int position, int offset, State state, out int value)
    {
        var at = position;
        value = 0;
        if (!Protobuf.TryReadVarint(message, ref position, out var raw))
        {
            return state.Mark(OtlpDecodeError.MalformedProtobuf, offset + at);
        }

        value = unchecked((int)raw);
        return true;
    }

    private static bool Assign(string value, Action<string> set)
    {
        set(value);
        return true;
    }

    private static void MarkAll(List<OtlpSpan> spans, OtlpSpanProblem problem)
    {
        foreach (var span in spans)
        {
            span.DecodeProblem = First(span.DecodeProblem, problem);
        }
    }

    private static OtlpSpanProblem First(OtlpSpanProblem current, OtlpSpanProblem next) => current == OtlpSpanProblem.None ? next : current;

    private sealed class State(OtlpLimits limits)
    {
        public OtlpLimits Limits { get; } = limits;

        public int Spans { get; set; }

        public OtlpDecodeError Error { get; private set; }

        public long Offset { get; private set; } = -1;

        /// <summary>Records the first failure; always false so that callers can <c>return state.Mark(...)</c>.</summary>
        public bool Mark(OtlpDecodeError error, long offset)
        {
            if (Error == OtlpDecodeError.None)
            {
                Error = error;
                Offset = offset;
            }

            return false;
        }

        public OtlpDecodeResult Fail(OtlpDecodeError error, long offset)
        {
            Mark(error, offset);
            return Failed();
        }

        public OtlpDecodeResult Failed() => new(null, Error, Offset);
    }
}
