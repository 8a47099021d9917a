using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;

namespace Pipeline.Core.Otlp;

/// <summary>
/// Decodes OTLP/JSON (the protobuf JSON mapping with OTLP's deviations) into <see cref="OtlpTraceRequest"/>.
/// Source: OTLP specification, "JSON Protobuf Encoding": keys are lowerCamelCase (the original
/// snake_case names are accepted too, as protobuf JSON parsers do), trace and span ids are hex
/// (not base64), enums are integers (their names are accepted), 64-bit integers may be strings,
/// unknown fields are ignored. A member of the wrong JSON type makes the request malformed; an id
/// that is not hex is kept empty so that its span alone is refused. Bounded like the protobuf decoder.
/// </summary>
public static class OtlpJsonDecoder
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 128, CommentHandling = JsonCommentHandling.Disallow };

    public static OtlpDecodeResult Decode(ReadOnlySpan<byte> json, OtlpLimits? limits = null)
    {
        var state = new State(limits ?? OtlpLimits.Default);
        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            var request = new OtlpTraceRequest();
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Fail(OtlpDecodeError.MalformedJson, reader.TokenStartIndex);
            }

            while (Next(ref reader))
            {
                if (Is(ref reader, "resourceSpans"u8, "resource_spans"u8))
                {
                    if (!ReadArray(ref reader, state, request.ResourceSpans, ReadResourceSpans))
                    {
                        return state.Failed(reader.TokenStartIndex);
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return reader.Read() ? Fail(OtlpDecodeError.MalformedJson, reader.TokenStartIndex) : new OtlpDecodeResult(request, OtlpDecodeError.None);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return Fail(state.Error == OtlpDecodeError.None ? OtlpDecodeError.MalformedJson : state.Error, reader.TokenStartIndex);
        }
    }

    private static OtlpDecodeResult Fail(OtlpDecodeError error, long offset) => new(null, error, offset);

    private delegate bool ItemReader<T>(ref Utf8JsonReader reader, State state, out T item);

    /// <summary>Reads the value after a property name as an array of items; null is an empty array.</summary>
    private static bool ReadArray<T>(ref Utf8JsonReader reader, State state, List<T> target, ItemReader<T> readItem)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return state.Mark(OtlpDecodeError.MalformedJson);
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!readItem(ref reader, state, out var item))
            {
                return false;
            }

            target.Add(item);
        }

        return true;
    }

    private static bool ReadResourceSpans(ref Utf8JsonReader reader, State state, out OtlpResourceSpans item)
    {
        item = new OtlpResourceSpans();
        if (!StartObject(ref reader, state))
        {
            return false;
        }

        var overLimit = false;
        while (Next(ref reader))
        {
            if (Is(ref reader, "resource"u8, "resource"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                if (!StartObject(ref reader, state))
                {
                    return false;
                }

                while (Next(ref reader))
                {
                    if (Is(ref reader, "attributes"u8, "attributes"u8))
                    {
                        if (!ReadAttributes(ref reader, state, item.Resource.Attributes, ref overLimit))
                        {
                            return false;
                        }
                    }
                    else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
                    {
                        if (!ReadUInt32(ref reader, state, out var dropped))
                        {
                            return false;
                        }

                        item.Resource.DroppedAttributesCount = dropped;
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else if (Is(ref reader, "scopeSpans"u8, "scope_spans"u8))
            {
                if (!ReadArray(ref reader, state, item.ScopeSpans, ReadScopeSpans))
                {
                    return false;
                }
            }
            else if (Is(ref reader, "schemaUrl"u8, "schema_url"u8))
            {
                if (!ReadString(ref reader, state, out var schema))
                {
                    return false;
                }

                item.SchemaUrl = schema;
            }
            else
            {
                reader.Skip();
            }
        }

        if (overLimit)
        {
            foreach (var scope in item.ScopeSpans)
            {
                foreach (var span in scope.Spans)
                {
                    span.DecodeProblem = First(span.DecodeProblem, OtlpSpanProblem.TooManyAttributes);
                }
            }
        }

        return true;
    }

    private static bool ReadScopeSpans(ref Utf8JsonReader reader, State state, out OtlpScopeSpans item)
    {
        item = new OtlpScopeSpans();
        if (!StartObject(ref reader, state))
        {
            return false;
        }

        var overLimit = false;
        while (Next(ref reader))
        {
            if (Is(ref reader, "scope"u8, "scope"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                if (!StartObject(ref reader, state) || !ReadScope(ref reader, state, item.Scope, ref overLimit))
                {
                    return false;
                }
            }
            else if (Is(ref reader, "spans"u8, "spans"u8))
            {
                if (!ReadArray(ref reader, state, item.Spans, ReadSpan))
                {
                    return false;
                }
            }
            else if (Is(ref reader, "schemaUrl"u8, "schema_url"u8))
            {
                if (!ReadString(ref reader, state, out var schema))
                {
                    return false;
                }

                item.SchemaUrl = schema;
            }
            else
            {
                reader.Skip();
            }
        }

        if (overLimit)
        {
            foreach (var span in item.Spans)
            {
                span.DecodeProblem = First(span.DecodeProblem, OtlpSpanProblem.TooManyAttributes);
            }
        }

        return true;
    }

    private static bool ReadScope(ref Utf8JsonReader reader, State state, OtlpScope scope, ref bool overLimit)
    {
        while (Next(ref reader))
        {
            bool ok;
            if (Is(ref reader, "name"u8, "name"u8))
            {
                ok = ReadString(ref reader, state, out var name);
                scope.Name = name;
            }
            else if (Is(ref reader, "version"u8, "version"u8))
            {
                ok = ReadString(ref reader, state, out var version);
                scope.Version = version;
            }
            else if (Is(ref reader, "attributes"u8, "attributes"u8))
            {
                ok = ReadAttributes(ref reader, state, scope.Attributes, ref overLimit);
            }
            else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
            {
                ok = ReadUInt32(ref reader, state, out var dropped);
                scope.DroppedAttributesCount = dropped;
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ReadSpan(ref Utf8JsonReader reader, State state, out OtlpSpan span)
    {
        span = new OtlpSpan();
        if (++state.Spans > state.Limits.MaxSpansPerRequest)
        {
            return state.Mark(OtlpDecodeError.TooManySpans);
        }

        if (!StartObject(ref reader, state))
        {
            return false;
        }

        var overLimit = false;
        while (Next(ref reader))
        {
            bool ok;
            if (Is(ref reader, "traceId"u8, "trace_id"u8))
            {
                ok = ReadId(ref reader, state, out var id);
                span.TraceId = id;
            }
            else if (Is(ref reader, "spanId"u8, "span_id"u8))
            {
                ok = ReadId(ref reader, state, out var id);
                span.SpanId = id;
            }
            else if (Is(ref reader, "parentSpanId"u8, "parent_span_id"u8))
            {
                ok = ReadId(ref reader, state, out var id);
                span.ParentSpanId = id;
            }
            else if (Is(ref reader, "traceState"u8, "trace_state"u8))
            {
                ok = ReadString(ref reader, state, out var traceState);
                span.TraceState = traceState;
            }
            else if (Is(ref reader, "flags"u8, "flags"u8))
            {
                ok = ReadUInt32(ref reader, state, out var flags);
                span.Flags = flags;
            }
            else if (Is(ref reader, "name"u8, "name"u8))
            {
                ok = ReadString(ref reader, state, out var name);
                span.Name = name;
            }
            else if (Is(ref reader, "kind"u8, "kind"u8))
            {
                ok = ReadEnum(ref reader, state, KindName, out var kind);
                span.Kind = kind;
            }
            else if (Is(ref reader, "startTimeUnixNano"u8, "start_time_unix_nano"u8))
            {
                ok = ReadUInt64(ref reader, state, out var start);
                span.StartTimeUnixNano = start;
            }
            else if (Is(ref reader, "endTimeUnixNano"u8, "end_time_unix_nano"u8))
            {
                ok = ReadUInt64(ref reader, state, out var end);
                span.EndTimeUnixNano = end;
            }
            else if (Is(ref reader, "attributes"u8, "attributes"u8))
            {
                ok = ReadAttributes(ref reader, state, span.Attributes, ref overLimit);
            }
            else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
            {
                ok = ReadUInt32(ref reader, state, out var dropped);
                span.DroppedAttributesCount = dropped;
            }
            else if (Is(ref reader, "events"u8, "events"u8))
            {
                var events = new List<OtlpEvent>();
                var eventsOver = false;
                ok = ReadArray(ref reader, state, events, (ref Utf8JsonReader r, State s, out OtlpEvent e) => ReadEvent(ref r, s, out e, ref eventsOver));
                Keep(events, span.Events, state.Limits.MaxEventsPerSpan, span, OtlpSpanProblem.TooManyEvents);
                overLimit |= eventsOver;
            }
            else if (Is(ref reader, "droppedEventsCount"u8, "dropped_events_count"u8))
            {
                ok = ReadUInt32(ref reader, state, out var dropped);
                span.DroppedEventsCount = dropped;
            }
            else if (Is(ref reader, "links"u8, "links"u8))
            {
                var links = new List<OtlpLink>();
                var linksOver = false;
                ok = ReadArray(ref reader, state, links, (ref Utf8JsonReader r, State s, out OtlpLink l) => ReadLink(ref r, s, out l, ref linksOver));
                Keep(links, span.Links, state.Limits.MaxLinksPerSpan, span, OtlpSpanProblem.TooManyLinks);
                overLimit |= linksOver;
            }
            else if (Is(ref reader, "droppedLinksCount"u8, "dropped_links_count"u8))
            {
                ok = ReadUInt32(ref reader, state, out var dropped);
                span.DroppedLinksCount = dropped;
            }
            else if (Is(ref reader, "status"u8, "status"u8))
            {
                ok = ReadStatus(ref reader, state, span);
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        if (overLimit)
        {
            span.DecodeProblem = First(span.DecodeProblem, OtlpSpanProblem.TooManyAttributes);
        }

        return true;
    }

    private static void Keep<T>(List<T> read, List<T> target, int limit, OtlpSpan span, OtlpSpanProblem problem)
    {
        if (read.Count > limit)
        {
            span.DecodeProblem = First(span.DecodeProblem, problem);
            read.RemoveRange(limit, read.Count - limit);
        }

        target.AddRange(read);
    }

    private static bool ReadEvent(ref Utf8JsonReader reader, State state, out OtlpEvent item, ref bool overLimit)
    {
        item = new OtlpEvent();
        if (!StartObject(ref reader, state))
        {
            return false;
        }

        while (Next(ref reader))
        {
            bool ok;
            if (Is(ref reader, "timeUnixNano"u8, "time_unix_nano"u8))
            {
                ok = ReadUInt64(ref reader, state, out var time);
                item.TimeUnixNano = time;
            }
            else if (Is(ref reader, "name"u8, "name"u8))
            {
                ok = ReadString(ref reader, state, out var name);
                item.Name = name;
            }
            else if (Is(ref reader, "attributes"u8, "attributes"u8))
            {
                ok = ReadAttributes(ref reader, state, item.Attributes, ref overLimit);
            }
            else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
            {
                ok = ReadUInt32(ref reader, state, out var dropped);
                item.DroppedAttributesCount = dropped;
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ReadLink(ref Utf8JsonReader reader, State state, out OtlpLink item, ref bool overLimit)
    {
        item = new OtlpLink();
        if (!StartObject(ref reader, state))
        {
            return false;
        }

        while (Next(ref reader))
        {
            bool ok;
            if (Is(ref reader, "traceId"u8, "trace_id"u8))
            {
                ok = ReadId(ref reader, state, out var id);
                item.TraceId = id;
            }
            else if (Is(ref reader, "spanId"u8, "span_id"u8))
            {
                ok = ReadId(ref reader, state, out var id);
                item.SpanId = id;
            }
            else if (Is(ref reader, "traceState"u8, "trace_state"u8))
            {
                ok = ReadString(ref reader, state, out var traceState);
                item.TraceState = traceState;
            }
            else if (Is(ref reader, "attributes"u8, "attributes"u8))
            {
                ok = ReadAttributes(ref reader, state, item.Attributes, ref overLimit);
            }
            else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
            {
                ok = ReadUInt32(ref reader, state, out var dropped);
                item.DroppedAttributesCount = dropped;
            }
            else if (Is(ref reader, "flags"u8, "flags"u8))
            {
                ok = ReadUInt32(ref reader, state, out var flags);
                item.Flags = flags;
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ReadStatus(ref Utf8JsonReader reader, State state, OtlpSpan span)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (!StartObject(ref reader, state))
        {
            return false;
        }

        var code = 0;
        var message = string.Empty;
        while (Next(ref reader))
        {
            bool ok;
            if (Is(ref reader, "code"u8, "code"u8))
            {
                ok = ReadEnum(ref reader, state, StatusName, out code);
            }
            else if (Is(ref reader, "message"u8, "message"u8))
            {
                ok = ReadString(ref reader, state, out message);
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        span.Status = new OtlpStatus(code, message);
        return true;
    }

    private static bool ReadAttributes(ref Utf8JsonReader reader, State state, List<OtlpKeyValue> target, ref bool overLimit)
    {
        var read = new List<OtlpKeyValue>();
        if (!ReadArray(ref reader, state, read, (ref Utf8JsonReader r, State s, out OtlpKeyValue kv) => ReadKeyValue(ref r, s, 0, out kv)))
        {
            return false;
        }

        var room = state.Limits.MaxAttributesPerSpan - target.Count;
        if (read.Count > room)
        {
            overLimit = true;
            read.RemoveRange(Math.Max(room, 0), read.Count - Math.Max(room, 0));
        }

        target.AddRange(read);
        return true;
    }

    private static bool ReadKeyValue(ref Utf8JsonReader reader, State state, int depth, out OtlpKeyValue item)
    {
        item = default;
        if (!StartObject(ref reader, state))
        {
            return false;
        }

        var key = string.Empty;
        var value = OtlpValue.Empty;
        while (Next(ref reader))
        {
            bool ok;
            if (Is(ref reader, "key"u8, "key"u8))
            {
                ok = ReadString(ref reader, state, out key);
            }
            else if (Is(ref reader, "value"u8, "value"u8))
            {
                ok = ReadAnyValue(ref reader, state, depth, out value);
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        item = new OtlpKeyValue(key, value);
        return true;
    }

    /// <summary>Reads the value after a property name as an <c>AnyValue</c> object (null is an empty value).</summary>
    private static bool ReadAnyValue(ref Utf8JsonReader reader, State state, int depth, out OtlpValue value)
    {
        reader.Read();
        return ReadAnyValueHere(ref reader, state, depth, out value);
    }

    /// <summary><c>{"values":[...]}</c> of an <c>ArrayValue</c> or <c>KeyValueList</c>.</summary>
    private static bool ReadList(ref Utf8JsonReader reader, State state, int depth, bool keyValues, out OtlpValue value)
    {
        var values = new List<OtlpValue>();
        var pairs = new List<OtlpKeyValue>();
        value = keyValues ? OtlpValue.FromKeyValueList(pairs) : OtlpValue.FromArray(values);
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (!StartObject(ref reader, state))
        {
            return false;
        }

        while (Next(ref reader))
        {
            if (!Is(ref reader, "values"u8, "values"u8))
            {
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                return state.Mark(OtlpDecodeError.MalformedJson);
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (values.Count + pairs.Count >= state.Limits.MaxAttributesPerSpan)
                {
                    return state.Mark(OtlpDecodeError.TooComplex);
                }

                if (keyValues)
                {
                    if (!ReadKeyValue(ref reader, state, depth, out var pair))
                    {
                        return false;
                    }

                    pairs.Add(pair);
                }
                else
                {
                    if (!ReadAnyValueHere(ref reader, state, depth, out var element))
                    {
                        return false;
                    }

                    values.Add(element);
                }
            }
        }

        return true;
    }

    /// <summary>Reads an <c>AnyValue</c> whose first token the reader is on (null is an empty value).</summary>
    private static bool ReadAnyValueHere(ref Utf8JsonReader reader, State state, int depth, out OtlpValue value)
    {
        value = OtlpValue.Empty;
        if (depth >= state.Limits.MaxValueDepth)
        {
            return state.Mark(OtlpDecodeError.TooComplex);
        }

        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (!StartObject(ref reader, state))
        {
            return false;
        }

        while (Next(ref reader))
        {
            bool ok;
            if (Is(ref reader, "stringValue"u8, "string_value"u8))
            {
                ok = ReadString(ref reader, state, out var text);
                value = OtlpValue.FromString(text);
            }
            else if (Is(ref reader, "boolValue"u8, "bool_value"u8))
            {
                reader.Read();
                ok = reader.TokenType is JsonTokenType.True or JsonTokenType.False || state.Mark(OtlpDecodeError.MalformedJson);
                value = OtlpValue.FromBool(reader.TokenType == JsonTokenType.True);
            }
            else if (Is(ref reader, "intValue"u8, "int_value"u8))
            {
                ok = ReadInt64(ref reader, state, out var integer);
                value = OtlpValue.FromInt(integer);
            }
            else if (Is(ref reader, "doubleValue"u8, "double_value"u8))
            {
                ok = ReadDouble(ref reader, state, out var number);
                value = OtlpValue.FromDouble(number);
            }
            else if (Is(ref reader, "bytesValue"u8, "bytes_value"u8))
            {
                ok = ReadBase64(ref reader, state, out var bytes);
                value = OtlpValue.FromBytes(bytes);
            }
            else if (Is(ref reader, "arrayValue"u8, "array_value"u8) || Is(ref reader, "kvlistValue"u8, "kvlist_value"u8))
            {
                var keyValues = Is(ref reader, "kvlistValue"u8, "kvlist_value"u8);
                ok = ReadList(ref reader, state, depth + 1, keyValues, out value);
            }
            else
            {
                reader.Skip();
                ok = true;
            }

            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool StartObject(ref Utf8JsonReader reader, State state) =>
        reader.TokenType == JsonTokenType.StartObject || state.Mark(OtlpDecodeError.MalformedJson);

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool Next(ref Utf8JsonReader reader) => reader.Read() && reader.TokenType == JsonTokenType.PropertyName;

    private static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> camel, ReadOnlySpan<byte> snake) =>
        reader.ValueTextEquals(camel) || (!camel.SequenceEqual(snake) && reader.ValueTextEquals(snake));

    private static bool ReadString(ref Utf8JsonReader reader, State state, out string value)
    {
        reader.Read();
        value = string.Empty;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            return state.Mark(OtlpDecodeError.MalformedJson);
        }

        value = reader.GetString() ?? string.Empty;
        return true;
    }

    /// <summary>A hex id; a value that is not hex leaves the id empty (the span is then refused with a reason).</summary>
    private static bool ReadId(ref Utf8JsonReader reader, State state, out byte[] id)
    {
        id = [];
        if (!ReadString(ref reader, state, out var hex))
        {
            return false;
        }

        if (hex.Length > 0 && hex.Length % 2 == 0 && hex.Length <= 64)
        {
            try
            {
                id = Convert.FromHexString(hex);
            }
            catch (FormatException)
            {
                id = [];
            }
        }

        return true;
    }

    private static bool ReadBase64(ref Utf8JsonReader reader, State state, out byte[] bytes)
    {
        bytes = [];
        if (!ReadString(ref reader, state, out var text))
        {
            return false;
        }

        var normalized = text.Replace('-', '+').Replace('_', '/');
        var padding = (4 - (normalized.Length % 4)) % 4;
        normalized += new string('=', padding == 3 ? 0 : padding);
        var buffer = new byte[(normalized.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(normalized, buffer, out var written))
        {
            return state.Mark(OtlpDecodeError.MalformedJson);
        }

        bytes = buffer.AsSpan(0, written).ToArray();
        return true;
    }

    private static bool ReadUInt64(ref Utf8JsonReader reader, State state, out ulong value)
    {
        reader.Read();
        value = 0;
        return reader.TokenType switch
        {
            JsonTokenType.Null => true,
            JsonTokenType.Number => reader.TryGetUInt64(out value) || state.Mark(OtlpDecodeError.MalformedJson),
            JsonTokenType.String => ulong.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out value) || state.Mark(OtlpDecodeError.MalformedJson),
            _ => state.Mark(OtlpDecodeError.MalformedJson),
        };
    }

    private static bool ReadInt64(ref Utf8JsonReader reader, State state, out long value)
    {
        reader.Read();
        value = 0;
        return reader.TokenType switch
        {
            JsonTokenType.Null => true,
            JsonTokenType.Number => reader.TryGetInt64(out value) || state.Mark(OtlpDecodeError.MalformedJson),
            JsonTokenType.String => long.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) || state.Mark(OtlpDecodeError.MalformedJson),
            _ => state.Mark(OtlpDecodeError.MalformedJson),
        };
    }

    private static bool ReadUInt32(ref Utf8JsonReader reader, State state, out uint value)
    {
        value = 0;
        if (!ReadUInt64(ref reader, state, out var wide))
        {
            return false;
        }

        if (wide > uint.MaxValue)
        {
            return state.Mark(OtlpDecodeError.MalformedJson);
        }

        value = (uint)wide;
        return true;
    }

    /// <summary>A double: a JSON number, or a string holding a number, <c>NaN</c>, <c>Infinity</c> or <c>-Infinity</c>.</summary>
    private static bool ReadDouble(ref Utf8JsonReader reader, State state, out double value)
    {
        reader.Read();
        value = 0;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return true;
            case JsonTokenType.Number:
                return reader.TryGetDouble(out value) || state.Mark(OtlpDecodeError.MalformedJson);
            case JsonTokenType.String:
                var text = reader.GetString();
                switch (text)
                {
                    case "NaN":
                        value = double.NaN;
                        return true;
                    case "Infinity":
                        value = double.PositiveInfinity;
                        return true;
                    case "-Infinity":
                        value = double.NegativeInfinity;
                        return true;
                    default:
                        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || state.Mark(OtlpDecodeError.MalformedJson);
                }

            default:
                return state.Mark(OtlpDecodeError.MalformedJson);
        }
    }

    private static bool ReadEnum(ref Utf8JsonReader reader, State state, Func<string, int> byName, out int value)
    {
        reader.Read();
        value = 0;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return true;
            case JsonTokenType.Number:
                return reader.TryGetInt32(out value) || state.Mark(OtlpDecodeError.MalformedJson);
            case JsonTokenType.String:
                var name = reader.GetString() ?? string.Empty;
                if (Utf8Parser.TryParse(System.Text.Encoding.UTF8.GetBytes(name), out int number, out var consumed) && consumed == name.Length)
                {
                    value = number;
                    return true;
                }

                value = byName(name);
                return value >= 0 || state.Mark(OtlpDecodeError.MalformedJson);
            default:
                return state.Mark(OtlpDecodeError.MalformedJson);
        }
    }

    private static int KindName(string name) => name switch
    {
        "SPAN_KIND_UNSPECIFIED" => 0,
        "SPAN_KIND_INTERNAL" => 1,
        "SPAN_KIND_SERVER" => 2,
        "SPAN_KIND_CLIENT" => 3,
        "SPAN_KIND_PRODUCER" => 4,
        "SPAN_KIND_CONSUMER" => 5,
        _ => -1,
    };

    private static int StatusName(string name) => name switch
    {
        "STATUS_CODE_UNSET" => 0,
        "STATUS_CODE_OK" => 1,
        "STATUS_CODE_ERROR" => 2,
        _ => -1,
    };

    private static OtlpSpanProblem First(OtlpSpanProblem current, OtlpSpanProblem next) => current == OtlpSpanProblem.None ? next : current;

    private sealed class State(OtlpLimits limits)
    {
        public OtlpLimits Limits { get; } = limits;

        public int Spans { get; set; }

        public OtlpDecodeError Error { get; private set; }

        public bool Mark(OtlpDecodeError error)
        {
            if (Error == OtlpDecodeError.None)
            {
                Error = error;
            }

            return false;
        }

        public OtlpDecodeResult Failed(long offset) => new(null, Error == OtlpDecodeError.None ? OtlpDecodeError.MalformedJson : Error, offset);
    }
}
