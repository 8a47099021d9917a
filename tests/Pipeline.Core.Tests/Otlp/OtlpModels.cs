using System.Text;
using Google.Protobuf;
using Pipeline.Core.Otlp;
using Pipeline.Core.Tests.Otlp.Oracle;

namespace Pipeline.Core.Tests.Otlp;

/// <summary>
/// Random OTLP models for the codec properties (every field, odd ids and times included), and the
/// mapping of a model onto the protoc-generated oracle types.
/// </summary>
internal static class OtlpModels
{
    public static OtlpTraceRequest Random(int seed, bool validIds = false)
    {
        var random = new Random(seed);
        var request = new OtlpTraceRequest();
        for (var r = random.Next(0, 3); r >= 0; r--)
        {
            var resource = new OtlpResourceSpans { SchemaUrl = random.Next(3) == 0 ? "https://opentelemetry.io/schemas/1.24.0" : string.Empty };
            resource.Resource.Attributes.AddRange(Attributes(random, 4));
            resource.Resource.DroppedAttributesCount = (uint)random.Next(0, 2);
            for (var s = random.Next(0, 2); s >= 0; s--)
            {
                var scope = new OtlpScopeSpans { Scope = new OtlpScope { Name = Text(random), Version = random.Next(2) == 0 ? "1.0" : string.Empty } };
                scope.Scope.Attributes.AddRange(Attributes(random, 2));
                for (var n = random.Next(0, 6); n > 0; n--)
                {
                    scope.Spans.Add(Span(random, validIds));
                }

                resource.ScopeSpans.Add(scope);
            }

            request.ResourceSpans.Add(resource);
        }

        return request;
    }

    public static OtlpSpan Span(Random random, bool validIds)
    {
        var start = (ulong)random.NextInt64(1, long.MaxValue);
        var span = new OtlpSpan
        {
            TraceId = Id(random, 16, validIds),
            SpanId = Id(random, 8, validIds),
            ParentSpanId = random.Next(3) == 0 ? [] : Id(random, 8, validIds),
            TraceState = random.Next(4) == 0 ? "rojo=00f067aa0ba902b7" : string.Empty,
            Flags = random.Next(3) == 0 ? 0u : (uint)random.Next(0, 1024),
            Name = Text(random),
            Kind = random.Next(0, 7),
            StartTimeUnixNano = validIds ? start : random.Next(10) == 0 ? 0 : start,
            EndTimeUnixNano = random.Next(10) == 0 ? 0 : validIds ? start + (ulong)random.Next(0, 1_000_000_000) : (ulong)random.NextInt64(),
            DroppedAttributesCount = (uint)random.Next(0, 2),
            DroppedEventsCount = (uint)random.Next(0, 2),
            DroppedLinksCount = (uint)random.Next(0, 2),
            Status = random.Next(3) switch
            {
                0 => OtlpStatus.Unset,
                1 => new OtlpStatus(2, random.Next(2) == 0 ? "boom" : string.Empty),
                _ => new OtlpStatus(random.Next(-1, 4), Text(random)),
            },
        };
        if (validIds && span.EndTimeUnixNano != 0 && span.EndTimeUnixNano < span.StartTimeUnixNano)
        {
            span.EndTimeUnixNano = span.StartTimeUnixNano;
        }

        span.Attributes.AddRange(Attributes(random, 8));
        for (var e = random.Next(0, 3); e > 0; e--)
        {
            var item = new OtlpEvent { Name = random.Next(3) == 0 ? "exception" : Text(random), TimeUnixNano = (ulong)random.NextInt64() };
            item.Attributes.AddRange(Attributes(random, 3));
            span.Events.Add(item);
        }

        for (var l = random.Next(0, 2); l > 0; l--)
        {
            var link = new OtlpLink { TraceId = Id(random, 16, true), SpanId = Id(random, 8, true), Flags = (uint)random.Next(0, 2) };
            link.Attributes.AddRange(Attributes(random, 2));
            span.Links.Add(link);
        }

        return span;
    }

    private static byte[] Id(Random random, int length, bool valid)
    {
        var actual = valid ? length : random.Next(8) switch { 0 => 0, 1 => length - 1, 2 => length + 3, _ => length };
        var id = new byte[actual];
        random.NextBytes(id);
        if (valid && actual > 0)
        {
            id[0] |= 1;
        }

        return id;
    }

    private static List<OtlpKeyValue> Attributes(Random random, int max)
    {
        var list = new List<OtlpKeyValue>();
        for (var i = random.Next(0, max + 1); i > 0; i--)
        {
            list.Add(new OtlpKeyValue(Key(random), Value(random, 0)));
        }

        return list;
    }

    private static readonly string[] Keys =
    [
        "http.method", "http.request.method", "http.status_code", "http.response.status_code", "url.full", "http.url",
        "server.address", "db.system", "db.statement", "rpc.system", "rpc.service", "rpc.method", "peer.service",
        "aws.xray.annotations", "enduser.id", "custom.key", "customer_tier", "", "dup", "dup",
    ];

    private static string Key(Random random) => random.Next(3) == 0 ? Text(random) : Keys[random.Next(Keys.Length)];

    private static OtlpValue Value(Random random, int depth) => random.Next(depth >= 3 ? 5 : 8) switch
    {
        0 => OtlpValue.FromString(Text(random)),
        1 => OtlpValue.FromBool(random.Next(2) == 0),
        2 => OtlpValue.FromInt(random.Next(3) == 0 ? random.Next(100, 600) : random.NextInt64(long.MinValue, long.MaxValue)),
        3 => OtlpValue.FromDouble(random.Next(6) switch { 0 => double.NaN, 1 => double.PositiveInfinity, _ => (random.NextDouble() - 0.5) * 1e6 }),
        4 => OtlpValue.FromBytes(Id(random, random.Next(0, 5), true)),
        5 => OtlpValue.FromArray([.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => Value(random, depth + 1))]),
        6 => OtlpValue.FromKeyValueList([.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => new OtlpKeyValue(Key(random), Value(random, depth + 1)))]),
        _ => OtlpValue.Empty,
    };

    private static string Text(Random random)
    {
        var builder = new StringBuilder();
        for (var i = random.Next(0, 12); i > 0; i--)
        {
            builder.Append(random.Next(12) switch
            {
                0 => "é",
                1 => "😀",
                2 => "\"",
                3 => "\\",
                4 => "\n",
                5 => "ü",
                6 => "/",
                _ => ((char)random.Next('a', 'z' + 1)).ToString(),
            });
        }

        return builder.ToString();
    }

    public static ExportRequest ToOracle(OtlpTraceRequest request)
    {
        var message = new ExportRequest();
        foreach (var resource in request.ResourceSpans)
        {
            var group = new ResourceGroup { Resource = new ResourceInfo { DroppedAttributesCount = resource.Resource.DroppedAttributesCount }, SchemaUrl = resource.SchemaUrl };
            group.Resource.Attributes.AddRange(resource.Resource.Attributes.Select(ToOracle));
            foreach (var scope in resource.ScopeSpans)
            {
                var scopeGroup = new ScopeGroup
                {
                    Scope = new ScopeInfo { Name = scope.Scope.Name, Version = scope.Scope.Version, DroppedAttributesCount = scope.Scope.DroppedAttributesCount },
                    SchemaUrl = scope.SchemaUrl,
                };
                scopeGroup.Scope.Attributes.AddRange(scope.Scope.Attributes.Select(ToOracle));
                scopeGroup.Spans.AddRange(scope.Spans.Select(ToOracle));
                group.ScopeSpans.Add(scopeGroup);
            }

            message.ResourceSpans.Add(group);
        }

        return message;
    }

    private static SpanMessage ToOracle(OtlpSpan span)
    {
        var message = new SpanMessage
        {
            TraceId = ByteString.CopyFrom(span.TraceId),
            SpanId = ByteString.CopyFrom(span.SpanId),
            TraceState = span.TraceState,
            ParentSpanId = ByteString.CopyFrom(span.ParentSpanId),
            Flags = span.Flags,
            Name = span.Name,
            Kind = span.Kind,
            StartTimeUnixNano = span.StartTimeUnixNano,
            EndTimeUnixNano = span.EndTimeUnixNano,
            DroppedAttributesCount = span.DroppedAttributesCount,
            DroppedEventsCount = span.DroppedEventsCount,
            DroppedLinksCount = span.DroppedLinksCount,
        };
        message.Attributes.AddRange(span.Attributes.Select(ToOracle));
        foreach (var item in span.Events)
        {
            var e = new EventMessage { Name = item.Name, TimeUnixNano = item.TimeUnixNano, DroppedAttributesCount = item.DroppedAttributesCount };
            e.Attributes.AddRange(item.Attributes.Select(ToOracle));
            message.Events.Add(e);
        }

        foreach (var link in span.Links)
        {
            var l = new LinkMessage { TraceId = ByteString.CopyFrom(link.TraceId), SpanId = ByteString.CopyFrom(link.SpanId), TraceState = link.TraceState, Flags = link.Flags, DroppedAttributesCount = link.DroppedAttributesCount };
            l.Attributes.AddRange(link.Attributes.Select(ToOracle));
            message.Links.Add(l);
        }

        if (span.Status.Code != 0 || span.Status.Message.Length != 0)
        {
            message.Status = new StatusMessage { Code = span.Status.Code, Message = span.Status.Message };
        }

        return message;
    }

    private static AttributeMessage ToOracle(OtlpKeyValue pair) => new() { Key = pair.Key, Value = ToOracle(pair.Value) };

    private static Value ToOracle(OtlpValue value)
    {
        var message = new Value();
        switch (value.Kind)
        {
            case OtlpValueKind.StringValue:
                message.StringValue = value.AsString;
                break;
            case OtlpValueKind.BoolValue:
                message.BoolValue = value.AsBool;
                break;
            case OtlpValueKind.IntValue:
                message.IntValue = value.AsInt;
                break;
            case OtlpValueKind.DoubleValue:
                message.DoubleValue = value.AsDouble;
                break;
            case OtlpValueKind.BytesValue:
                message.BytesValue = ByteString.CopyFrom(value.AsBytes);
                break;
            case OtlpValueKind.ArrayValue:
                message.ArrayValue = new ValueList();
                message.ArrayValue.Values.AddRange(value.AsArray.Select(ToOracle));
                break;
            case OtlpValueKind.KvlistValue:
                message.KvlistValue = new AttributeList();
                message.KvlistValue.Values.AddRange(value.AsKeyValueList.Select(ToOracle));
                break;
        }

        return message;
    }
}
