using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Pipeline.Core.Otlp;
using Pipeline.Core.Segments;

namespace Pipeline.Bench;

/// <summary>
/// OTLP in the ingest and in the relay, per span, against the X-Ray path over the same spans in the
/// same run (baseline: parse + validate of the documents the spans convert into, what an X-Ray SDK
/// segment costs the ingest). The request: 512 spans (the OTel SDK's default export batch), 64
/// traces of a server span with 7 children each (http client, db, internal), ~10 attributes a span.
/// Run: dotnet run -c Release --project bench/Pipeline.Bench -- --filter '*Otlp*'
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class OtlpBenchmarks
{
    private const int Spans = 512;
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly ValidationOptions AnyEpoch = new() { RequirePlausibleTraceEpoch = false };

    private byte[] _request = [];
    private byte[][] _records = [];
    private byte[][] _documents = [];

    [GlobalSetup]
    public void Setup()
    {
        var request = Request();
        _request = OtlpProtobufEncoder.Encode(request);
        _records = [.. request.ResourceSpans.Select(r =>
        {
            var one = new OtlpTraceRequest();
            one.ResourceSpans.Add(r);
            return OtlpRecord.Create(OtlpProtobufEncoder.Encode(one));
        })];
        _documents = [.. _records.SelectMany(r => OtlpRecordReader.Read(r).Documents.Select(d => d.Document))];
        Console.WriteLine($"// request {_request.Length} bytes, {Spans} spans; {_records.Length} records; {_documents.Length} documents, mean {_documents.Average(d => d.Length):F0} bytes");
    }

    /// <summary>The ingest's cost for the documents the spans become, were they sent by X-Ray SDKs.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Spans)]
    public int ValidateConvertedDocuments()
    {
        var valid = 0;
        foreach (var document in _documents)
        {
            valid += SegmentValidator.ParseAndValidate(document, Now, AnyEpoch).IsOk ? 1 : 0;
        }

        return valid;
    }

    /// <summary>What the relay does per request (decode, check, group by trace, encode records), without the buffer.</summary>
    [Benchmark(OperationsPerInvoke = Spans)]
    public int DecodeRequestAndRegroup()
    {
        var decoded = OtlpProtobufDecoder.Decode(_request).Request!;
        var bytes = 0;
        foreach (var resource in decoded.ResourceSpans)
        {
            var one = new OtlpTraceRequest();
            one.ResourceSpans.Add(resource);
            bytes += OtlpProtobufEncoder.Encode(one).Length;
        }

        return bytes;
    }

    /// <summary>The ingest's OTLP stage: record → decoded spans → converted documents.</summary>
    [Benchmark(OperationsPerInvoke = Spans)]
    public int ConvertRecords()
    {
        var documents = 0;
        foreach (var record in _records)
        {
            documents += OtlpRecordReader.Read(record).Documents.Count;
        }

        return documents;
    }

    /// <summary>The ingest's whole per-span cost for OTel traffic: convert, then validate like any document.</summary>
    [Benchmark(OperationsPerInvoke = Spans)]
    public int ConvertAndValidate()
    {
        var valid = 0;
        foreach (var record in _records)
        {
            foreach (var document in OtlpRecordReader.Read(record).Documents)
            {
                valid += SegmentValidator.ParseAndValidate(document.Document, Now, AnyEpoch).IsOk ? 1 : 0;
            }
        }

        return valid;
    }

    private static OtlpTraceRequest Request()
    {
        var random = new Random(17);
        var request = new OtlpTraceRequest();
        var start = (ulong)Now.ToUnixTimeMilliseconds() * 1_000_000;
        for (var t = 0; t < Spans / 8; t++)
        {
            var resource = new OtlpResourceSpans();
            resource.Resource.Attributes.Add(new OtlpKeyValue("service.name", OtlpValue.FromString("checkout")));
            resource.Resource.Attributes.Add(new OtlpKeyValue("telemetry.sdk.language", OtlpValue.FromString("nodejs")));
            resource.Resource.Attributes.Add(new OtlpKeyValue("host.name", OtlpValue.FromString("ip-10-0-0-1")));
            var scope = new OtlpScopeSpans { Scope = new OtlpScope { Name = "@opentelemetry/instrumentation-http", Version = "0.57.0" } };
            resource.ScopeSpans.Add(scope);
            var traceId = new byte[16];
            random.NextBytes(traceId);
            BinaryPrimitives.WriteUInt32BigEndian(traceId, (uint)Now.ToUnixTimeSeconds());
            var server = Span(random, traceId, [], "GET /cart/:id", OtlpSpanKind.Server, start, 40_000_000);
            Add(server, "http.request.method", "GET");
            Add(server, "url.path", "/cart/42");
            Add(server, "url.scheme", "https");
            Add(server, "server.address", "shop.example.com");
            Add(server, "http.route", "/cart/:id");
            Add(server, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)");
            Add(server, "client.address", "203.0.113.7");
            server.Attributes.Add(new OtlpKeyValue("http.response.status_code", OtlpValue.FromInt(200)));
            scope.Spans.Add(server);
            for (var c = 0; c < 7; c++)
            {
                var kind = c % 3 == 2 ? OtlpSpanKind.Internal : OtlpSpanKind.Client;
                var child = Span(random, traceId, server.SpanId, c % 3 == 1 ? "SELECT cart" : "GET", kind, start + (ulong)(c * 4_000_000), 3_000_000);
                if (c % 3 == 0)
                {
                    Add(child, "http.request.method", "GET");
                    Add(child, "url.full", "http://inventory:8080/stock/42?fields=count");
                    Add(child, "server.address", "inventory");
                    child.Attributes.Add(new OtlpKeyValue("http.response.status_code", OtlpValue.FromInt(200)));
                }
                else if (c % 3 == 1)
                {
                    Add(child, "db.system.name", "postgresql");
                    Add(child, "db.namespace", "shop");
                    Add(child, "db.query.text", "SELECT * FROM cart WHERE id = $1");
                    Add(child, "server.address", "db.internal");
                }
                else
                {
                    Add(child, "code.function", "render");
                    Add(child, "template", "cart.html");
                }

                scope.Spans.Add(child);
            }

            request.ResourceSpans.Add(resource);
        }

        return request;
    }

    private static OtlpSpan Span(Random random, byte[] traceId, byte[] parent, string name, OtlpSpanKind kind, ulong start, ulong duration)
    {
        var id = new byte[8];
        random.NextBytes(id);
        id[0] |= 1;
        return new OtlpSpan { TraceId = traceId, SpanId = id, ParentSpanId = parent, Name = name, Kind = (int)kind, StartTimeUnixNano = start, EndTimeUnixNano = start + duration, Flags = 1 };
    }

    private static void Add(OtlpSpan span, string key, string value) => span.Attributes.Add(new OtlpKeyValue(key, OtlpValue.FromString(value)));
}
