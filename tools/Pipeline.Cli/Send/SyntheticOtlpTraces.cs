using System.Buffers.Binary;
using System.Globalization;
using Pipeline.Core.Otlp;

namespace Pipeline.Cli.Send;

/// <summary>
/// Synthetic OpenTelemetry traces for <c>pipeline send --otlp</c>: the shape of
/// <see cref="SyntheticTraces"/> as OTel SDKs would export it. Services otel-svc-0 → otel-svc-1 → …,
/// each a resource with a SERVER span (stable HTTP semantic conventions) and, but the last, a CLIENT
/// span that is the parent of the next service's SERVER span. Trace ids carry the epoch in their
/// first 4 bytes, as the AWS X-Ray ID generator makes them. Deterministic for a seed and a clock.
/// </summary>
internal sealed class SyntheticOtlpTraces(Random random, TimeProvider time)
{
    public const string ScopeName = "pipeline-send";

    public byte[] NewTraceId()
    {
        var id = new byte[16];
        random.NextBytes(id);
        BinaryPrimitives.WriteUInt32BigEndian(id, (uint)time.GetUtcNow().ToUnixTimeSeconds());
        return id;
    }

    /// <summary>Adds one trace of <paramref name="services"/> services to <paramref name="request"/>; returns the spans added.</summary>
    public int AddTrace(OtlpTraceRequest request, int services, byte[] traceId, bool fault = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(services, 1);
        var startNanos = (ulong)time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
        const ulong Millisecond = 1_000_000;
        byte[] parent = [];
        var spans = 0;
        for (var k = 0; k < services; k++)
        {
            var name = $"otel-svc-{k.ToString(CultureInfo.InvariantCulture)}";
            var resource = new OtlpResourceSpans();
            resource.Resource.Attributes.Add(new OtlpKeyValue("service.name", OtlpValue.FromString(name)));
            resource.Resource.Attributes.Add(new OtlpKeyValue("telemetry.sdk.language", OtlpValue.FromString("dotnet")));
            var scope = new OtlpScopeSpans { Scope = new OtlpScope { Name = ScopeName, Version = "1.0.0" } };
            resource.ScopeSpans.Add(scope);
            request.ResourceSpans.Add(resource);

            var status = fault && k == services - 1 ? 500 : 200;
            var begin = startNanos + ((ulong)k * 2 * Millisecond);
            var end = startNanos + (50 * Millisecond) - ((ulong)k * 2 * Millisecond);
            var server = Span(traceId, parent, "GET /work", OtlpSpanKind.Server, begin, end);
            server.Attributes.Add(new OtlpKeyValue("http.request.method", OtlpValue.FromString("GET")));
            server.Attributes.Add(new OtlpKeyValue("url.path", OtlpValue.FromString("/work")));
            server.Attributes.Add(new OtlpKeyValue("http.response.status_code", OtlpValue.FromInt(status)));
            if (status >= 500)
            {
                server.Status = new OtlpStatus((int)OtlpStatusCode.Error, "synthetic fault");
            }

            scope.Spans.Add(server);
            spans++;
            if (k + 1 < services)
            {
                var next = $"otel-svc-{(k + 1).ToString(CultureInfo.InvariantCulture)}";
                var client = Span(traceId, server.SpanId, "GET", OtlpSpanKind.Client, begin + Millisecond, end - Millisecond);
                client.Attributes.Add(new OtlpKeyValue("http.request.method", OtlpValue.FromString("GET")));
                client.Attributes.Add(new OtlpKeyValue("url.full", OtlpValue.FromString($"http://{next}/work")));
                client.Attributes.Add(new OtlpKeyValue("server.address", OtlpValue.FromString(next)));
                client.Attributes.Add(new OtlpKeyValue("peer.service", OtlpValue.FromString(next)));
                client.Attributes.Add(new OtlpKeyValue("http.response.status_code", OtlpValue.FromInt(fault && k + 1 == services - 1 ? 500 : 200)));
                scope.Spans.Add(client);
                spans++;
                parent = client.SpanId;
            }
        }

        return spans;
    }

    private OtlpSpan Span(byte[] traceId, byte[] parent, string name, OtlpSpanKind kind, ulong start, ulong end)
    {
        var id = new byte[8];
        random.NextBytes(id);
        id[0] |= 1; // never all zero
        return new OtlpSpan
        {
            TraceId = traceId,
            SpanId = id,
            ParentSpanId = parent,
            Name = name,
            Kind = (int)kind,
            StartTimeUnixNano = start,
            EndTimeUnixNano = end,
        };
    }
}
