// OTLP load for the relay harness (--otlp): bounded loopback clients that export prebuilt OTLP
// requests to the relay binary's OTLP/HTTP (protobuf) and OTLP/gRPC receivers, for a fixed time and
// at most a fixed number of requests, with a few requests in flight at once as a node's exporters
// would. The relay's CPU comes from /proc, its counts from /metrics, so the figures are per span
// and per CPU-second of the relay alone, next to the UDP figures of the same run.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Pipeline.Core.Otlp;

internal sealed record OtlpRunResult(string Protocol, long Requests, long Spans, long Refused, long Failed, double Seconds, double Cpu, long Accepted)
{
    public double SpansPerSecond => Accepted / Seconds;

    public double SpansPerCpuSecond => Cpu > 0 ? Accepted / Cpu : 0;

    public double MicrosPerSpan => Accepted > 0 ? Cpu * 1_000_000 / Accepted : 0;
}

internal static class OtlpLoad
{
    /// <summary>Spans per export request (OTel SDKs batch up to 512; 100 is a busy service's batch every few seconds).</summary>
    public const int SpansPerRequest = 100;

    /// <summary>Requests in flight at once (a node with a few exporting services).</summary>
    public const int Concurrency = 4;

    private const string ExportPath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    /// <summary>Distinct prebuilt requests, cycled (different trace ids, so the relay groups and keys as in production).</summary>
    public static byte[][] Requests(int count, int spanBytes)
    {
        var result = new byte[count][];
        var random = new Random(17);
        for (var r = 0; r < count; r++)
        {
            var request = new OtlpTraceRequest();
            var resource = new OtlpResourceSpans();
            resource.Resource.Attributes.Add(new OtlpKeyValue("service.name", OtlpValue.FromString("service-c")));
            var scope = new OtlpScopeSpans();
            scope.Scope.Name = "bench";
            resource.ScopeSpans.Add(scope);
            request.ResourceSpans.Add(resource);
            // Traces of five spans (a SERVER span and four children), like the UDP harness's five segments a trace.
            byte[] traceId = [];
            byte[] rootId = [];
            for (var i = 0; i < SpansPerRequest; i++)
            {
                if (i % 5 == 0)
                {
                    traceId = new byte[16];
                    random.NextBytes(traceId);
                    BinaryPrimitives.WriteUInt32BigEndian(traceId, 1_700_000_000);
                }

                var span = new OtlpSpan
                {
                    TraceId = traceId,
                    SpanId = new byte[8],
                    Name = i % 5 == 0 ? "GET /orders" : "GET",
                    Kind = i % 5 == 0 ? 2 : 3,
                    StartTimeUnixNano = 1_700_000_000_123_000_000,
                    EndTimeUnixNano = 1_700_000_000_456_000_000,
                };
                random.NextBytes(span.SpanId);
                if (i % 5 == 0)
                {
                    rootId = span.SpanId;
                }
                else
                {
                    span.ParentSpanId = rootId;
                }

                span.Attributes.Add(new OtlpKeyValue("http.request.method", OtlpValue.FromString("GET")));
                span.Attributes.Add(new OtlpKeyValue("url.full", OtlpValue.FromString("http://service-a/orders")));
                span.Attributes.Add(new OtlpKeyValue("http.response.status_code", OtlpValue.FromInt(200)));
                span.Attributes.Add(new OtlpKeyValue("pad", OtlpValue.FromString(new string('x', Math.Max(0, spanBytes - 150)))));
                scope.Spans.Add(span);
            }

            result[r] = OtlpProtobufEncoder.Encode(request);
        }

        return result;
    }

    /// <summary>Exports for <paramref name="seconds"/> (at most <paramref name="maxRequests"/> requests) and reports what the relay accepted and the CPU it used.</summary>
    public static async Task<OtlpRunResult> RunAsync(string protocol, IPEndPoint endpoint, byte[][] requests, int seconds, int maxRequests, Func<Task<long>> accepted, Func<TimeSpan> cpu)
    {
        var grpc = protocol == "grpc";
        using var handler = new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = Concurrency, EnableMultipleHttp2Connections = false };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var uri = new Uri(grpc ? $"http://{endpoint}{ExportPath}" : $"http://{endpoint}/v1/traces");
        var framed = grpc ? [.. requests.Select(Frame)] : requests;

        // Warm-up (JIT of the client, connections), not measured.
        await SendAsync(http, uri, grpc, framed[0]);
        var acceptedBefore = await accepted();
        var cpuBefore = cpu();
        long sent = 0, refused = 0, failed = 0;
        var watch = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(seconds);
        var loops = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (watch.Elapsed < limit)
            {
                var n = Interlocked.Increment(ref sent);
                if (n > maxRequests)
                {
                    Interlocked.Decrement(ref sent);
                    return;
                }

                switch (await SendAsync(http, uri, grpc, framed[n % framed.Length]))
                {
                    case Outcome.Refused:
                        Interlocked.Increment(ref refused);
                        // The relay asked for a pause (buffer full): back off as an exporter would, briefly.
                        await Task.Delay(10);
                        break;
                    case Outcome.Failed:
                        Interlocked.Increment(ref failed);
                        break;
                }
            }
        })).ToArray();
        await Task.WhenAll(loops);
        var elapsed = watch.Elapsed.TotalSeconds;
        var used = (cpu() - cpuBefore).TotalSeconds;
        var acceptedAfter = await accepted();
        return new OtlpRunResult(grpc ? "OTLP/gRPC" : "OTLP/HTTP protobuf", sent, sent * SpansPerRequest, refused, failed, elapsed, used, acceptedAfter - acceptedBefore);
    }

    private enum Outcome
    {
        Ok,
        Refused,
        Failed,
    }

    private static byte[] Frame(byte[] message)
    {
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed, 5);
        return framed;
    }

    private static async Task<Outcome> SendAsync(HttpClient http, Uri uri, bool grpc, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        if (grpc)
        {
            // gRPC over HTTP/2 with prior knowledge, as grpc exporters connect to http:// endpoints.
            request.Version = HttpVersion.Version20;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
            request.Headers.TryAddWithoutValidation("te", "trailers");
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        }
        else
        {
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        }

        try
        {
            using var response = await http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            if (!grpc)
            {
                return response.StatusCode switch
                {
                    HttpStatusCode.OK => Outcome.Ok,
                    HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests => Outcome.Refused,
                    _ => Outcome.Failed,
                };
            }

            var status = response.TrailingHeaders.TryGetValues("grpc-status", out var values) ? values.First()
                : response.Headers.TryGetValues("grpc-status", out var head) ? head.First() : "?";
            return status switch
            {
                "0" => Outcome.Ok,
                "14" or "8" => Outcome.Refused,
                _ => Outcome.Failed,
            };
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return Outcome.Failed;
        }
    }
}
