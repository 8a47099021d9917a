using System.Buffers.Binary;
using System.Text;
using Pipeline.Core.Wire;

namespace Pipeline.Core.Otlp;

/// <summary>
/// Encodes <see cref="OtlpTraceRequest"/> (and the export response) as OTLP protobuf, hand-written:
/// fields in field-number order, proto3 defaults omitted, as protoc-generated code writes them. Sizes
/// are computed first, then the bytes are written once into an exactly sized array.
/// </summary>
public static class OtlpProtobufEncoder
{
    public static byte[] Encode(OtlpTraceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var size = 0;
        foreach (var resourceSpans in request.ResourceSpans)
        {
            size += FieldSize(OtlpWire.RequestResourceSpans, ResourceSpansSize(resourceSpans));
        }

        var buffer = new byte[size];
        var writer = new Writer(buffer);
        foreach (var resourceSpans in request.ResourceSpans)
        {
            writer.Message(OtlpWire.RequestResourceSpans, ResourceSpansSize(resourceSpans));
            WriteResourceSpans(ref writer, resourceSpans);
        }

        return buffer;
    }

    /// <summary>The bytes <paramref name="span"/> takes inside its <c>ScopeSpans</c> (tag, length and message): what request size limits add up.</summary>
    public static int SpanFieldBytes(OtlpSpan span)
    {
        ArgumentNullException.ThrowIfNull(span);
        return FieldSize(OtlpWire.ScopeSpansSpans, SpanSize(span));
    }

    /// <summary>The bytes of a <c>ResourceSpans</c> holding <paramref name="scope"/> with no span: the per-(resource, scope) share of a request.</summary>
    public static int ResourceAndScopeBytes(OtlpResourceSpans resource, OtlpScopeSpans scope)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(scope);
        var scopeSpans = FieldSize(OtlpWire.ScopeSpansScope, ScopeSize(scope.Scope)) + StringFieldSize(OtlpWire.ScopeSpansSchemaUrl, scope.SchemaUrl);
        return FieldSize(OtlpWire.ResourceSpansResource, ResourceSize(resource.Resource))
            + FieldSize(OtlpWire.ResourceSpansScopeSpans, scopeSpans)
            + StringFieldSize(OtlpWire.ResourceSpansSchemaUrl, resource.SchemaUrl);
    }

    /// <summary>A request holding one span with its resource and scope: how a quarantined span keeps its original bytes.</summary>
    public static byte[] EncodeSpan(OtlpResourceSpans resource, OtlpScopeSpans scope, OtlpSpan span)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(span);
        var request = new OtlpTraceRequest();
        var resourceSpans = new OtlpResourceSpans { Resource = resource.Resource, SchemaUrl = resource.SchemaUrl };
        var scopeSpans = new OtlpScopeSpans { Scope = scope.Scope, SchemaUrl = scope.SchemaUrl };
        scopeSpans.Spans.Add(span);
        resourceSpans.ScopeSpans.Add(scopeSpans);
        request.ResourceSpans.Add(resourceSpans);
        return Encode(request);
    }

    /// <summary>
    /// <c>ExportTraceServiceResponse</c>: empty on full success, with <c>partial_success</c> when
    /// spans were rejected (or a warning message is given). Source: OTLP specification, "Partial Success".
    /// </summary>
    public static byte[] EncodeResponse(long rejectedSpans, string? errorMessage)
    {
        var message = errorMessage ?? string.Empty;
        if (rejectedSpans == 0 && message.Length == 0)
        {
            return [];
        }

        var inner = VarintFieldSize(OtlpWire.PartialSuccessRejectedSpans, unchecked((ulong)rejectedSpans)) + StringFieldSize(OtlpWire.PartialSuccessErrorMessage, message);
        var buffer = new byte[FieldSize(OtlpWire.ResponsePartialSuccess, inner)];
        var writer = new Writer(buffer);
        writer.Message(OtlpWire.ResponsePartialSuccess, inner);
        if (rejectedSpans != 0)
        {
            writer.Varint(OtlpWire.PartialSuccessRejectedSpans, unchecked((ulong)rejectedSpans));
        }

        writer.String(OtlpWire.PartialSuccessErrorMessage, message);
        return buffer;
    }

    private static int ResourceSpansSize(OtlpResourceSpans value) =>
        FieldSize(OtlpWire.ResourceSpansResource, ResourceSize(value.Resource))
        + value.ScopeSpans.Sum(s => FieldSize(OtlpWire.ResourceSpansScopeSpans, ScopeSpansSize(s)))
        + StringFieldSize(OtlpWire.ResourceSpansSchemaUrl, value.SchemaUrl);

    private static void WriteResourceSpans(ref Writer writer, OtlpResourceSpans value)
    {
        writer.Message(OtlpWire.ResourceSpansResource, ResourceSize(value.Resource));
        WriteAttributes(ref writer, OtlpWire.ResourceAttributes, value.Resource.Attributes);
        writer.Varint(OtlpWire.ResourceDroppedAttributesCount, value.Resource.DroppedAttributesCount);
        foreach (var scopeSpans in value.ScopeSpans)
        {
            writer.Message(OtlpWire.ResourceSpansScopeSpans, ScopeSpansSize(scopeSpans));
            WriteScopeSpans(ref writer, scopeSpans);
        }

        writer.String(OtlpWire.ResourceSpansSchemaUrl, value.SchemaUrl);
    }

    private static int ResourceSize(OtlpResource value) =>
        AttributesSize(OtlpWire.ResourceAttributes, value.Attributes) + VarintFieldSize(OtlpWire.ResourceDroppedAttributesCount, value.DroppedAttributesCount);

    private static int ScopeSize(OtlpScope value) =>
        StringFieldSize(OtlpWire.ScopeName, value.Name)
        + StringFieldSize(OtlpWire.ScopeVersion, value.Version)
        + AttributesSize(OtlpWire.ScopeAttributes, value.Attributes)
        + VarintFieldSize(OtlpWire.ScopeDroppedAttributesCount, value.DroppedAttributesCount);

    private static int ScopeSpansSize(OtlpScopeSpans value) =>
        FieldSize(OtlpWire.ScopeSpansScope, ScopeSize(value.Scope))
        + value.Spans.Sum(s => FieldSize(OtlpWire.ScopeSpansSpans, SpanSize(s)))
        + StringFieldSize(OtlpWire.ScopeSpansSchemaUrl, value.SchemaUrl);

    private static void WriteScopeSpans(ref Writer writer, OtlpScopeSpans value)
    {
        writer.Message(OtlpWire.ScopeSpansScope, ScopeSize(value.Scope));
        writer.String(OtlpWire.ScopeName, value.Scope.Name);
        writer.String(OtlpWire.ScopeVersion, value.Scope.Version);
        WriteAttributes(ref writer, OtlpWire.ScopeAttributes, value.Scope.Attributes);
        writer.Varint(OtlpWire.ScopeDroppedAttributesCount, value.Scope.DroppedAttributesCount);
        foreach (var span in value.Spans)
        {
            writer.Message(OtlpWire.ScopeSpansSpans, SpanSize(span));
            WriteSpan(ref writer, span);
        }

        writer.String(OtlpWire.ScopeSpansSchemaUrl, value.SchemaUrl);
    }

    private static int SpanSize(OtlpSpan span) =>
        BytesFieldSize(OtlpWire.SpanTraceId, span.TraceId.Length)
        + BytesFieldSize(OtlpWire.SpanSpanId, span.SpanId.Length)
        + StringFieldSize(OtlpWire.SpanTraceState, span.TraceState)
        + BytesFieldSize(OtlpWire.SpanParentSpanId, span.ParentSpanId.Length)
        + StringFieldSize(OtlpWire.SpanName, span.Name)
        + EnumFieldSize(OtlpWire.SpanKind, span.Kind)
        + Fixed64FieldSize(OtlpWire.SpanStartTimeUnixNano, span.StartTimeUnixNano)
        + Fixed64FieldSize(OtlpWire.SpanEndTimeUnixNano, span.EndTimeUnixNano)
        + AttributesSize(OtlpWire.SpanAttributes, span.Attributes)
        + VarintFieldSize(OtlpWire.SpanDroppedAttributesCount, span.DroppedAttributesCount)
        + span.Events.Sum(e => FieldSize(OtlpWire.SpanEvents, EventSize(e)))
        + VarintFieldSize(OtlpWire.SpanDroppedEventsCount, span.DroppedEventsCount)
        + span.Links.Sum(l => FieldSize(OtlpWire.SpanLinks, LinkSize(l)))
        + VarintFieldSize(OtlpWire.SpanDroppedLinksCount, span.DroppedLinksCount)
        + (HasStatus(span.Status) ? FieldSize(OtlpWire.SpanStatus, StatusSize(span.Status)) : 0)
        + Fixed32FieldSize(OtlpWire.SpanFlags, span.Flags);

    private static void WriteSpan(ref Writer writer, OtlpSpan span)
    {
        writer.Bytes(OtlpWire.SpanTraceId, span.TraceId);
        writer.Bytes(OtlpWire.SpanSpanId, span.SpanId);
        writer.String(OtlpWire.SpanTraceState, span.TraceState);
        writer.Bytes(OtlpWire.SpanParentSpanId, span.ParentSpanId);
        writer.String(OtlpWire.SpanName, span.Name);
        writer.Enum(OtlpWire.SpanKind, span.Kind);
        writer.Fixed64(OtlpWire.SpanStartTimeUnixNano, span.StartTimeUnixNano);
        writer.Fixed64(OtlpWire.SpanEndTimeUnixNano, span.EndTimeUnixNano);
        WriteAttributes(ref writer, OtlpWire.SpanAttributes, span.Attributes);
        writer.Varint(OtlpWire.SpanDroppedAttributesCount, span.DroppedAttributesCount);
        foreach (var item in span.Events)
        {
            writer.Message(OtlpWire.SpanEvents, EventSize(item));
            writer.Fixed64(OtlpWire.EventTimeUnixNano, item.TimeUnixNano);
            writer.String(OtlpWire.EventName, item.Name);
            WriteAttributes(ref writer, OtlpWire.EventAttributes, item.Attributes);
            writer.Varint(OtlpWire.EventDroppedAttributesCount, item.DroppedAttributesCount);
        }

        writer.Varint(OtlpWire.SpanDroppedEventsCount, span.DroppedEventsCount);
        foreach (var link in span.Links)
        {
            writer.Message(OtlpWire.SpanLinks, LinkSize(link));
            writer.Bytes(OtlpWire.LinkTraceId, link.TraceId);
            writer.Bytes(OtlpWire.LinkSpanId, link.SpanId);
            writer.String(OtlpWire.LinkTraceState, link.TraceState);
            WriteAttributes(ref writer, OtlpWire.LinkAttributes, link.Attributes);
            writer.Varint(OtlpWire.LinkDroppedAttributesCount, link.DroppedAttributesCount);
            writer.Fixed32(OtlpWire.LinkFlags, link.Flags);
        }

        writer.Varint(OtlpWire.SpanDroppedLinksCount, span.DroppedLinksCount);
        if (HasStatus(span.Status))
        {
            writer.Message(OtlpWire.SpanStatus, StatusSize(span.Status));
            writer.String(OtlpWire.StatusMessage, span.Status.Message);
            writer.Enum(OtlpWire.StatusCode, span.Status.Code);
        }

        writer.Fixed32(OtlpWire.SpanFlags, span.Flags);
    }

    private static bool HasStatus(OtlpStatus status) => status.Code != 0 || status.Message.Length != 0;

    private static int StatusSize(OtlpStatus status) =>
        StringFieldSize(OtlpWire.StatusMessage, status.Message) + EnumFieldSize(OtlpWire.StatusCode, status.Code);

    private static int EventSize(OtlpEvent value) =>
        Fixed64FieldSize(OtlpWire.EventTimeUnixNano, value.TimeUnixNano)
        + StringFieldSize(OtlpWire.EventName, value.Name)
        + AttributesSize(OtlpWire.EventAttributes, value.Attributes)
        + VarintFieldSize(OtlpWire.EventDroppedAttributesCount, value.DroppedAttributesCount);

    private static int LinkSize(OtlpLink value) =>
        BytesFieldSize(OtlpWire.LinkTraceId, value.TraceId.Length)
        + BytesFieldSize(OtlpWire.LinkSpanId, value.SpanId.Length)
        + StringFieldSize(OtlpWire.LinkTraceState, value.TraceState)
        + AttributesSize(OtlpWire.LinkAttributes, value.Attributes)
        + VarintFieldSize(OtlpWire.LinkDroppedAttributesCount, value.DroppedAttributesCount)
        + Fixed32FieldSize(OtlpWire.LinkFlags, value.Flags);

    private static int AttributesSize(int field, List<OtlpKeyValue> attributes)
    {
        var size = 0;
        foreach (var attribute in attributes)
        {
            size += FieldSize(field, KeyValueSize(attribute));
        }

        return size;
    }

    private static void WriteAttributes(ref Writer writer, int field, List<OtlpKeyValue> attributes)
    {
        foreach (var attribute in attributes)
        {
            writer.Message(field, KeyValueSize(attribute));
            WriteKeyValue(ref writer, attribute);
        }
    }

    private static int KeyValueSize(OtlpKeyValue value) =>
        StringFieldSize(OtlpWire.KeyValueKey, value.Key) + FieldSize(OtlpWire.KeyValueValue, AnyValueSize(value.Value));

    private static void WriteKeyValue(ref Writer writer, OtlpKeyValue value)
    {
        writer.String(OtlpWire.KeyValueKey, value.Key);
        writer.Message(OtlpWire.KeyValueValue, AnyValueSize(value.Value));
        WriteAnyValue(ref writer, value.Value);
    }

    private static int AnyValueSize(OtlpValue value) => value.Kind switch
    {
        // A oneof member is written even when it holds its type's default.
        OtlpValueKind.StringValue => FieldSize(OtlpWire.AnyValueString, Encoding.UTF8.GetByteCount(value.AsString!)),
        OtlpValueKind.BoolValue => TagSize(OtlpWire.AnyValueBool) + 1,
        OtlpValueKind.IntValue => TagSize(OtlpWire.AnyValueInt) + Protobuf.VarintLength(unchecked((ulong)value.AsInt)),
        OtlpValueKind.DoubleValue => TagSize(OtlpWire.AnyValueDouble) + 8,
        OtlpValueKind.BytesValue => FieldSize(OtlpWire.AnyValueBytes, value.AsBytes.Length),
        OtlpValueKind.ArrayValue => FieldSize(OtlpWire.AnyValueArray, value.AsArray.Sum(v => FieldSize(OtlpWire.ArrayValueValues, AnyValueSize(v)))),
        OtlpValueKind.KvlistValue => FieldSize(OtlpWire.AnyValueKeyValueList, value.AsKeyValueList.Sum(v => FieldSize(OtlpWire.KeyValueListValues, KeyValueSize(v)))),
        _ => 0,
    };

    private static void WriteAnyValue(ref Writer writer, OtlpValue value)
    {
        switch (value.Kind)
        {
            case OtlpValueKind.StringValue:
                writer.StringAlways(OtlpWire.AnyValueString, value.AsString!);
                break;
            case OtlpValueKind.BoolValue:
                writer.VarintAlways(OtlpWire.AnyValueBool, value.AsBool ? 1UL : 0UL);
                break;
            case OtlpValueKind.IntValue:
                writer.VarintAlways(OtlpWire.AnyValueInt, unchecked((ulong)value.AsInt));
                break;
            case OtlpValueKind.DoubleValue:
                writer.Fixed64Always(OtlpWire.AnyValueDouble, unchecked((ulong)BitConverter.DoubleToInt64Bits(value.AsDouble)));
                break;
            case OtlpValueKind.BytesValue:
                writer.Message(OtlpWire.AnyValueBytes, value.AsBytes.Length);
                writer.Raw(value.AsBytes);
                break;
            case OtlpValueKind.ArrayValue:
                writer.Message(OtlpWire.AnyValueArray, value.AsArray.Sum(v => FieldSize(OtlpWire.ArrayValueValues, AnyValueSize(v))));
                foreach (var item in value.AsArray)
                {
                    writer.Message(OtlpWire.ArrayValueValues, AnyValueSize(item));
                    WriteAnyValue(ref writer, item);
                }

                break;
            case OtlpValueKind.KvlistValue:
                writer.Message(OtlpWire.AnyValueKeyValueList, value.AsKeyValueList.Sum(v => FieldSize(OtlpWire.KeyValueListValues, KeyValueSize(v))));
                foreach (var pair in value.AsKeyValueList)
                {
                    writer.Message(OtlpWire.KeyValueListValues, KeyValueSize(pair));
                    WriteKeyValue(ref writer, pair);
                }

                break;
        }
    }

    private static int TagSize(int field) => Protobuf.VarintLength(Protobuf.Tag(field, 0));

    /// <summary>A length-delimited field of <paramref name="length"/> bytes, written even when empty.</summary>
    private static int FieldSize(int field, int length) => TagSize(field) + Protobuf.VarintLength((ulong)length) + length;

    private static int StringFieldSize(int field, string value) => value.Length == 0 ? 0 : FieldSize(field, Encoding.UTF8.GetByteCount(value));

    private static int BytesFieldSize(int field, int length) => length == 0 ? 0 : FieldSize(field, length);

    private static int Fixed64FieldSize(int field, ulong value) => value == 0 ? 0 : TagSize(field) + 8;

    private static int Fixed32FieldSize(int field, uint value) => value == 0 ? 0 : TagSize(field) + 4;

    private static int VarintFieldSize(int field, ulong value) => value == 0 ? 0 : TagSize(field) + Protobuf.VarintLength(value);

    /// <summary>An enum is an int32: a negative number is sign-extended to 10 bytes.</summary>
    private static int EnumFieldSize(int field, int value) => VarintFieldSize(field, unchecked((ulong)(long)value));

    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _position;

        public void Message(int field, int length)
        {
            Tag(field, Protobuf.WireLengthDelimited);
            _position += Protobuf.WriteVarint(_buffer[_position..], (ulong)length);
        }

        public void Raw(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_buffer[_position..]);
            _position += bytes.Length;
        }

        public void String(int field, string value)
        {
            if (value.Length != 0)
            {
                StringAlways(field, value);
            }
        }

        public void StringAlways(int field, string value)
        {
            Message(field, Encoding.UTF8.GetByteCount(value));
            _position += Encoding.UTF8.GetBytes(value, _buffer[_position..]);
        }

        public void Bytes(int field, byte[] value)
        {
            if (value.Length != 0)
            {
                Message(field, value.Length);
                Raw(value);
            }
        }

        public void Varint(int field, ulong value)
        {
            if (value != 0)
            {
                VarintAlways(field, value);
            }
        }

        public void VarintAlways(int field, ulong value)
        {
            Tag(field, Protobuf.WireVarint);
            _position += Protobuf.WriteVarint(_buffer[_position..], value);
        }

        public void Enum(int field, int value) => Varint(field, unchecked((ulong)(long)value));

        public void Fixed64(int field, ulong value)
        {
            if (value != 0)
            {
                Fixed64Always(field, value);
            }
        }

        public void Fixed64Always(int field, ulong value)
        {
            Tag(field, Protobuf.WireFixed64);
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer[_position..], value);
            _position += 8;
        }

        public void Fixed32(int field, uint value)
        {
            if (value != 0)
            {
                Tag(field, Protobuf.WireFixed32);
                BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_position..], value);
                _position += 4;
            }
        }

        private void Tag(int field, int wireType) => _position += Protobuf.WriteVarint(_buffer[_position..], Protobuf.Tag(field, wireType));
    }
}
