namespace Pipeline.Core.Otlp;

/// <summary>
/// Field numbers of the OTLP trace messages. Source: opentelemetry-proto v1 (the message
/// definitions in collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
/// common/v1/common.proto, resource/v1/resource.proto). Fields not listed here are skipped.
/// </summary>
internal static class OtlpWire
{
    // ExportTraceServiceRequest / TracesData
    public const int RequestResourceSpans = 1;

    // ExportTraceServiceResponse
    public const int ResponsePartialSuccess = 1;

    // ExportTracePartialSuccess
    public const int PartialSuccessRejectedSpans = 1;
    public const int PartialSuccessErrorMessage = 2;

    // ResourceSpans
    public const int ResourceSpansResource = 1;
    public const int ResourceSpansScopeSpans = 2;
    public const int ResourceSpansSchemaUrl = 3;

    // Resource
    public const int ResourceAttributes = 1;
    public const int ResourceDroppedAttributesCount = 2;

    // ScopeSpans
    public const int ScopeSpansScope = 1;
    public const int ScopeSpansSpans = 2;
    public const int ScopeSpansSchemaUrl = 3;

    // InstrumentationScope
    public const int ScopeName = 1;
    public const int ScopeVersion = 2;
    public const int ScopeAttributes = 3;
    public const int ScopeDroppedAttributesCount = 4;

    // Span
    public const int SpanTraceId = 1;
    public const int SpanSpanId = 2;
    public const int SpanTraceState = 3;
    public const int SpanParentSpanId = 4;
    public const int SpanName = 5;
    public const int SpanKind = 6;
    public const int SpanStartTimeUnixNano = 7;
    public const int SpanEndTimeUnixNano = 8;
    public const int SpanAttributes = 9;
    public const int SpanDroppedAttributesCount = 10;
    public const int SpanEvents = 11;
    public const int SpanDroppedEventsCount = 12;
    public const int SpanLinks = 13;
    public const int SpanDroppedLinksCount = 14;
    public const int SpanStatus = 15;
    public const int SpanFlags = 16;

    // Span.Event
    public const int EventTimeUnixNano = 1;
    public const int EventName = 2;
    public const int EventAttributes = 3;
    public const int EventDroppedAttributesCount = 4;

    // Span.Link
    public const int LinkTraceId = 1;
    public const int LinkSpanId = 2;
    public const int LinkTraceState = 3;
    public const int LinkAttributes = 4;
    public const int LinkDroppedAttributesCount = 5;
    public const int LinkFlags = 6;

    // Status (field 1 is reserved: the deprecated code)
    public const int StatusMessage = 2;
    public const int StatusCode = 3;

    // KeyValue
    public const int KeyValueKey = 1;
    public const int KeyValueValue = 2;

    // AnyValue (oneof value)
    public const int AnyValueString = 1;
    public const int AnyValueBool = 2;
    public const int AnyValueInt = 3;
    public const int AnyValueDouble = 4;
    public const int AnyValueArray = 5;
    public const int AnyValueKeyValueList = 6;
    public const int AnyValueBytes = 7;

    // ArrayValue, KeyValueList
    public const int ArrayValueValues = 1;
    public const int KeyValueListValues = 1;

    /// <summary>W3C trace id: 16 bytes. Source: OTLP trace.proto (<c>trace_id</c>).</summary>
    public const int TraceIdLength = 16;

    /// <summary>Span id: 8 bytes. Source: OTLP trace.proto (<c>span_id</c>).</summary>
    public const int SpanIdLength = 8;
}
