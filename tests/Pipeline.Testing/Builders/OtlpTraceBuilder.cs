using System.Buffers.Binary;
using Pipeline.Core.Otlp;

namespace Pipeline.Testing.Builders;

/// <summary>
/// Builds OTLP trace requests for tests: one trace (ids from a seeded Random, the first 4 bytes of the
/// trace id an epoch as the AWS X-Ray ID generator makes them), services as resource groups, spans
/// with relative times. Valid by default; every model property stays settable to break it on purpose.
/// </summary>
public sealed class OtlpTraceBuilder
{
    private readonly Random _random;
    private readonly OtlpTraceRequest _request = new();
    private readonly DateTimeOffset _start;
    private OtlpScopeSpans _scope = null!;

    private OtlpTraceBuilder(int seed, DateTimeOffset start, bool randomTraceId)
    {
        _random = new Random(seed);
        _start = start;
        TraceId = new byte[16];
        _random.NextBytes(TraceId);
        if (!randomTraceId)
        {
            BinaryPrimitives.WriteUInt32BigEndian(TraceId, (uint)start.ToUnixTimeSeconds());
        }
    }

    public byte[] TraceId { get; }

    /// <summary>The trace id in X-Ray form (<c>1-xxxxxxxx-…</c>).</summary>
    public string XRayTraceId => OtlpIds.ToXRayTraceId(TraceId);

    /// <summary>A new trace whose first span belongs to <paramref name="service"/>.</summary>
    /// <param name="randomTraceId">A plain W3C random trace id (no epoch in its first 4 bytes).</param>
    public static OtlpTraceBuilder Trace(string service = "service-c", int seed = 1, DateTimeOffset? start = null, bool randomTraceId = false) =>
        new OtlpTraceBuilder(seed, start ?? SegmentBuilder.DefaultStart, randomTraceId).Service(service);

    /// <summary>Spans added next belong to a new resource group (another process) named <paramref name="name"/>.</summary>
    public OtlpTraceBuilder Service(string name, string scope = "test-scope")
    {
        var resource = new OtlpResourceSpans();
        resource.Resource.Attributes.Add(new OtlpKeyValue("service.name", OtlpValue.FromString(name)));
        resource.Resource.Attributes.Add(new OtlpKeyValue("telemetry.sdk.language", OtlpValue.FromString("nodejs")));
        _scope = new OtlpScopeSpans { Scope = new OtlpScope { Name = scope, Version = "1.0.0" } };
        resource.ScopeSpans.Add(_scope);
        _request.ResourceSpans.Add(resource);
        return this;
    }

    /// <summary>Adds a span (ended) under <paramref name="parent"/> (or a root span) and returns it to configure.</summary>
    public OtlpSpan Span(string name, OtlpSpanKind kind, OtlpSpan? parent = null, double startMs = 0, double durationMs = 10)
    {
        var span = new OtlpSpan
        {
            TraceId = (byte[])TraceId.Clone(),
            SpanId = NewSpanId(),
            ParentSpanId = parent is null ? [] : (byte[])parent.SpanId.Clone(),
            Name = name,
            Kind = (int)kind,
            StartTimeUnixNano = Nanos(startMs),
            EndTimeUnixNano = Nanos(startMs + durationMs),
            Flags = 1,
        };
        _scope.Spans.Add(span);
        return span;
    }

    /// <summary>A span whose parent lives elsewhere (another process or an earlier request).</summary>
    public OtlpSpan RemoteChild(string name, OtlpSpanKind kind, byte[] parentSpanId, double startMs = 0, double durationMs = 10)
    {
        var span = Span(name, kind, null, startMs, durationMs);
        span.ParentSpanId = (byte[])parentSpanId.Clone();
        return span;
    }

    public byte[] NewSpanId()
    {
        var id = new byte[8];
        _random.NextBytes(id);
        id[0] |= 0x10;
        return id;
    }

    public ulong Nanos(double offsetMs) => (ulong)((_start.ToUnixTimeMilliseconds() + offsetMs) * 1_000_000);

    public OtlpTraceRequest Build() => _request;

    public byte[] ToProtobuf() => OtlpProtobufEncoder.Encode(_request);

    /// <summary>
    /// The OTLP/JSON encoding of the spans (the specification's JSON mapping, as the JS exporter
    /// writes it: hex ids, int64 nanos as strings), under one resource named <paramref name="serviceName"/>.
    /// </summary>
    public string ToJson(string serviceName)
    {
        var spans = _request.AllSpans().Select(s => new
        {
            traceId = Convert.ToHexStringLower(s.Span.TraceId),
            spanId = Convert.ToHexStringLower(s.Span.SpanId),
            name = s.Span.Name,
            kind = s.Span.Kind,
            startTimeUnixNano = s.Span.StartTimeUnixNano.ToString(System.Globalization.CultureInfo.InvariantCulture),
            endTimeUnixNano = s.Span.EndTimeUnixNano.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        return System.Text.Json.JsonSerializer.Serialize(new { resourceSpans = new[] { new { resource = new { attributes = new[] { new { key = "service.name", value = new { stringValue = serviceName } } } }, scopeSpans = new[] { new { spans } } } } });
    }
}

/// <summary>Fluent attribute and event setters for <see cref="OtlpSpan"/> in tests.</summary>
public static class OtlpSpanTestExtensions
{
    public static OtlpSpan With(this OtlpSpan span, string key, string value) => Add(span, key, OtlpValue.FromString(value));

    public static OtlpSpan With(this OtlpSpan span, string key, long value) => Add(span, key, OtlpValue.FromInt(value));

    public static OtlpSpan With(this OtlpSpan span, string key, double value) => Add(span, key, OtlpValue.FromDouble(value));

    public static OtlpSpan With(this OtlpSpan span, string key, bool value) => Add(span, key, OtlpValue.FromBool(value));

    public static OtlpSpan With(this OtlpSpan span, string key, OtlpValue value) => Add(span, key, value);

    public static OtlpSpan WithStatus(this OtlpSpan span, OtlpStatusCode code, string message = "")
    {
        ArgumentNullException.ThrowIfNull(span);
        span.Status = new OtlpStatus((int)code, message);
        return span;
    }

    public static OtlpSpan WithException(this OtlpSpan span, string type, string message, string? stacktrace = null)
    {
        ArgumentNullException.ThrowIfNull(span);
        var item = new OtlpEvent { Name = "exception", TimeUnixNano = span.StartTimeUnixNano + 1 };
        item.Attributes.Add(new OtlpKeyValue("exception.type", OtlpValue.FromString(type)));
        item.Attributes.Add(new OtlpKeyValue("exception.message", OtlpValue.FromString(message)));
        if (stacktrace is not null)
        {
            item.Attributes.Add(new OtlpKeyValue("exception.stacktrace", OtlpValue.FromString(stacktrace)));
        }

        span.Events.Add(item);
        return span;
    }

    private static OtlpSpan Add(OtlpSpan span, string key, OtlpValue value)
    {
        ArgumentNullException.ThrowIfNull(span);
        span.Attributes.Add(new OtlpKeyValue(key, value));
        return span;
    }
}
