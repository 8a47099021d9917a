using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pipeline.Testing.Faults;

/// <summary>
/// A loopback HTTP proxy between our AWS clients and moto that injects the failures moto never
/// produces (MOTO.md: no throttling, FailedRecordCount always 0, no 5xx on demand): rules matched
/// by SigV4 service, operation and path answer errors, delay, reset or hang a request, or fail a
/// share of the records of Kinesis PutRecords / documents of X-Ray PutTraceSegments. Randomness
/// comes from one seeded <see cref="Random"/>, so a run repeats; every fault is counted per rule
/// and per kind. Point a client at <see cref="Endpoint"/> instead of moto.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    /// <summary>A request body larger than this is refused (PutRecords is ≤ 5 MiB; archive objects are small in tests).</summary>
    public const int MaxBodyBytes = 32 * 1024 * 1024;

    /// <summary>A recorded request or response keeps at most this many bytes of its body (<see cref="RecordedExchange.BodyTruncated"/>).</summary>
    public const int MaxRecordedBodyBytes = 256 * 1024;

    // Where WriteAsync/CopyResponseAsync leave the answer's body for the recorder.
    private const string ResponseBodyItem = "fault-proxy.response-body";

    // Hop-by-hop headers and the ones the HTTP stack sets itself (RFC 9110 §7.6.1).
    private static readonly HashSet<string> SkippedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Connection", "Transfer-Encoding", "Expect", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
    };

    private readonly WebApplication _app;
    private readonly Uri _target;
    private readonly HttpClient _http;
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private readonly ConcurrentDictionary<string, int> _byKind = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<FaultRequest> _requests = new();
    private readonly ConcurrentQueue<RecordedExchange> _exchanges = new();
    private readonly bool _recordExchanges;
    private long _requestCount;
    private int _throttledRecords;
    private int _unprocessedSegments;

    private FaultProxy(WebApplication app, Uri target, int seed, bool recordExchanges)
    {
        _app = app;
        _target = target;
        _recordExchanges = recordExchanges;
        _random = new Random(seed);
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        _app.Run(HandleAsync);
    }

    /// <summary>Where clients send their requests (http://127.0.0.1:port/).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Rules, tried in order. Add before traffic starts or between phases.</summary>
    public ConcurrentQueue<FaultRule> Rules { get; } = new();

    public long RequestCount => Interlocked.Read(ref _requestCount);

    /// <summary>PutRecords records answered ProvisionedThroughputExceededException (never written).</summary>
    public int ThrottledRecords => Volatile.Read(ref _throttledRecords);

    /// <summary>PutTraceSegments documents answered as unprocessed (never stored).</summary>
    public int UnprocessedSegments => Volatile.Read(ref _unprocessedSegments);

    /// <summary>Faults injected so far, by kind (respond, respond_after_forward, delay, reset, hang, kinesis_records, xray_unprocessed).</summary>
    public IReadOnlyDictionary<string, int> InjectedByKind => new Dictionary<string, int>(_byKind, StringComparer.Ordinal);

    public int TotalInjected => _byKind.Values.Sum();

    /// <summary>Every request seen, in arrival order (bounded by the test's own traffic).</summary>
    public IReadOnlyList<FaultRequest> Requests => [.. _requests];

    /// <summary>
    /// Every request with its query, signing key, bodies and answer, in completion order; only when
    /// started with <c>recordExchanges</c> (the least-privilege tests map each to the IAM action it needs).
    /// </summary>
    public IReadOnlyList<RecordedExchange> Exchanges => [.. _exchanges];

    /// <summary>Starts on a free loopback port, forwarding to <paramref name="target"/>.</summary>
    public static Task<FaultProxy> StartAsync(Uri target, int seed = 12, CancellationToken cancellationToken = default) =>
        StartAsync(target, seed, recordExchanges: false, cancellationToken);

    /// <summary>Like <see cref="StartAsync(Uri, int, CancellationToken)"/>, and keeps every exchange in <see cref="Exchanges"/>.</summary>
    public static Task<FaultProxy> StartRecordingAsync(Uri target, int seed = 12, CancellationToken cancellationToken = default) =>
        StartAsync(target, seed, recordExchanges: true, cancellationToken);

    private static async Task<FaultProxy> StartAsync(Uri target, int seed, bool recordExchanges, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(options => options.Limits.MaxRequestBodySize = MaxBodyBytes);
        var proxy = new FaultProxy(builder.Build(), target, seed, recordExchanges);
        await proxy._app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = proxy._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        proxy.Endpoint = new Uri(address.TrimEnd('/') + "/");
        return proxy;
    }

    /// <summary>Adds a rule and returns it (to read its counters or flip it later).</summary>
    public FaultRule Add(FaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        Rules.Enqueue(rule);
        return rule;
    }

    public int Injected(string kind) => _byKind.TryGetValue(kind, out var n) ? n : 0;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
    }

    /// <summary>The service of a SigV4 Authorization header: Credential=AKID/date/region/SERVICE/aws4_request.</summary>
    public static string? ServiceFromAuthorization(string? authorization) => CredentialScope(authorization) is { } scope ? scope[3] : null;

    /// <summary>The five parts of a SigV4 credential scope (access key id, date, region, service, aws4_request), or null.</summary>
    public static string[]? CredentialScope(string? authorization)
    {
        if (string.IsNullOrEmpty(authorization))
        {
            return null;
        }

        const string marker = "Credential=";
        var start = authorization.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var end = authorization.IndexOfAny([',', ' '], start);
        var scope = authorization[(start + marker.Length)..(end < 0 ? authorization.Length : end)].Split('/');
        return scope.Length == 5 ? scope : null;
    }

    private static string OperationOf(HttpRequest request, string? service)
    {
        var target = request.Headers["X-Amz-Target"].ToString();
        if (target.Length > 0)
        {
            var dot = target.LastIndexOf('.');
            return dot >= 0 ? target[(dot + 1)..] : target;
        }

        // X-Ray is rest-json: the path names the operation (API reference, PutTraceSegments: POST /TraceSegments).
        if (service == "xray")
        {
            return request.Path.Value switch
            {
                "/TraceSegments" => "PutTraceSegments",
                "/Traces" => "BatchGetTraces",
                "/GetSamplingRules" => "GetSamplingRules",
                "/SamplingTargets" => "GetSamplingTargets",
                var other => other?.TrimStart('/') ?? string.Empty,
            };
        }

        return request.Method;
    }

    private double Draw()
    {
        lock (_randomGate)
        {
            return _random.NextDouble();
        }
    }

    private void Count(string kind, int n = 1) => _byKind.AddOrUpdate(kind, n, (_, old) => old + n);

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var service = ServiceFromAuthorization(request.Headers.Authorization.ToString());
        var info = new FaultRequest(Interlocked.Increment(ref _requestCount), request.Method, request.Path.Value ?? "/", service, OperationOf(request, service));
        _requests.Enqueue(info);
        var body = await ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        try
        {
            await DispatchAsync(context, info, body).ConfigureAwait(false);
        }
        finally
        {
            if (_recordExchanges)
            {
                Record(context, info, body);
            }
        }
    }

    private void Record(HttpContext context, FaultRequest info, byte[] body)
    {
        var request = context.Request;
        var answered = context.Items[ResponseBodyItem] as byte[];
        var scope = CredentialScope(request.Headers.Authorization.ToString());
        _exchanges.Enqueue(new RecordedExchange(
            info,
            request.QueryString.Value ?? string.Empty,
            scope?[0],
            scope?[2],
            request.Headers["X-Amz-Target"].ToString() is { Length: > 0 } target ? target : null,
            request.ContentType,
            new Dictionary<string, string>(request.Headers.Where(h => h.Key.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase)).Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), h.Value.ToString())), StringComparer.Ordinal),
            body.Length > MaxRecordedBodyBytes ? body[..MaxRecordedBodyBytes] : body,
            body.Length > MaxRecordedBodyBytes,
            answered is null ? 0 : context.Response.StatusCode,
            answered is null ? [] : answered.Length > MaxRecordedBodyBytes ? answered[..MaxRecordedBodyBytes] : answered));
    }

    private async Task DispatchAsync(HttpContext context, FaultRequest info, byte[] body)
    {
        var request = context.Request;
        FaultRule? fired = null;
        foreach (var rule in Rules)
        {
            if (rule.Matches(info) && rule.TryFire(Draw()))
            {
                fired = rule;
                break;
            }
        }

        switch (fired?.Action)
        {
            case null:
                await RelayAsync(context, body, context.RequestAborted).ConfigureAwait(false);
                return;
            case RespondFault { AfterForward: false } respond:
                Count("respond");
                await WriteAsync(context.Response, respond.Status, respond.ContentType, Encoding.UTF8.GetBytes(respond.Body), respond.ErrorType).ConfigureAwait(false);
                return;
            case RespondFault respond:
                Count("respond_after_forward");
                using (var forwarded = await ForwardAsync(request, body, context.RequestAborted).ConfigureAwait(false))
                {
                    await forwarded.Content.LoadIntoBufferAsync(context.RequestAborted).ConfigureAwait(false);
                }

                await WriteAsync(context.Response, respond.Status, respond.ContentType, Encoding.UTF8.GetBytes(respond.Body), null).ConfigureAwait(false);
                return;
            case DelayFault delay:
                Count("delay");
                await Task.Delay(delay.Duration, context.RequestAborted).ConfigureAwait(false);
                await RelayAsync(context, body, context.RequestAborted).ConfigureAwait(false);
                return;
            case ResetFault reset:
                Count(reset.Hold > TimeSpan.Zero ? "hang" : "reset");
                if (reset.Hold > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(reset.Hold, context.RequestAborted).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        // The client gave up first: that is the timeout being simulated.
                    }
                }

                context.Abort();
                return;
            case KinesisRecordsFault records:
                await PartialPutRecordsAsync(context, body, records, fired).ConfigureAwait(false);
                return;
            case XRayUnprocessedFault unprocessed:
                await PartialPutTraceSegmentsAsync(context, body, unprocessed).ConfigureAwait(false);
                return;
            default:
                throw new InvalidOperationException($"unknown fault action {fired.Action}");
        }
    }

    private async Task PartialPutRecordsAsync(HttpContext context, byte[] body, KinesisRecordsFault fault, FaultRule rule)
    {
        var call = rule.Injected;
        var json = JsonNode.Parse(body)!.AsObject();
        var records = json["Records"]!.AsArray();
        var failed = new bool[records.Count];
        var kept = new JsonArray();
        for (var i = 0; i < records.Count; i++)
        {
            failed[i] = fault.Select is { } select ? select(call, i) : Draw() < fault.Share;
            if (!failed[i])
            {
                kept.Add(records[i]!.DeepClone());
            }
        }

        JsonArray? upstream = null;
        if (kept.Count > 0)
        {
            var forwardBody = new JsonObject { ["StreamName"] = json["StreamName"]?.DeepClone(), ["StreamARN"] = json["StreamARN"]?.DeepClone(), ["Records"] = kept };
            if (forwardBody["StreamARN"] is null)
            {
                forwardBody.Remove("StreamARN");
            }

            if (forwardBody["StreamName"] is null)
            {
                forwardBody.Remove("StreamName");
            }

            using var response = await ForwardAsync(context.Request, Encoding.UTF8.GetBytes(forwardBody.ToJsonString()), context.RequestAborted).ConfigureAwait(false);
            var responseBody = await response.Content.ReadAsByteArrayAsync(context.RequestAborted).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await CopyResponseAsync(context.Response, response, responseBody).ConfigureAwait(false);
                return;
            }

            upstream = JsonNode.Parse(responseBody)!["Records"]!.AsArray();
        }

        var results = new JsonArray();
        var next = 0;
        var failedCount = 0;
        for (var i = 0; i < records.Count; i++)
        {
            if (failed[i])
            {
                failedCount++;
                results.Add(new JsonObject { ["ErrorCode"] = "ProvisionedThroughputExceededException", ["ErrorMessage"] = "Rate exceeded for shard (injected)" });
            }
            else
            {
                results.Add(upstream![next++]!.DeepClone());
            }
        }

        Interlocked.Add(ref _throttledRecords, failedCount);
        Count("kinesis_records", failedCount);
        var merged = new JsonObject { ["FailedRecordCount"] = failedCount, ["Records"] = results };
        await WriteAsync(context.Response, 200, "application/x-amz-json-1.1", Encoding.UTF8.GetBytes(merged.ToJsonString()), null).ConfigureAwait(false);
    }

    private async Task PartialPutTraceSegmentsAsync(HttpContext context, byte[] body, XRayUnprocessedFault fault)
    {
        var json = JsonNode.Parse(body)!.AsObject();
        var documents = json["TraceSegmentDocuments"]!.AsArray();
        var kept = new JsonArray();
        var refused = new JsonArray();
        foreach (var document in documents)
        {
            var text = document!.GetValue<string>();
            if (Draw() < fault.Share)
            {
                refused.Add(new JsonObject { ["Id"] = IdOf(text), ["ErrorCode"] = fault.ErrorCode, ["Message"] = "injected" });
            }
            else
            {
                kept.Add(text);
            }
        }

        var unprocessed = new JsonArray();
        if (kept.Count > 0)
        {
            using var response = await ForwardAsync(context.Request, Encoding.UTF8.GetBytes(new JsonObject { ["TraceSegmentDocuments"] = kept }.ToJsonString()), context.RequestAborted).ConfigureAwait(false);
            var responseBody = await response.Content.ReadAsByteArrayAsync(context.RequestAborted).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await CopyResponseAsync(context.Response, response, responseBody).ConfigureAwait(false);
                return;
            }

            if (JsonNode.Parse(responseBody)?["UnprocessedTraceSegments"] is JsonArray upstream)
            {
                foreach (var item in upstream)
                {
                    unprocessed.Add(item!.DeepClone());
                }
            }
        }

        foreach (var item in refused)
        {
            unprocessed.Add(item!.DeepClone());
        }

        Interlocked.Add(ref _unprocessedSegments, refused.Count);
        Count("xray_unprocessed", refused.Count);
        await WriteAsync(context.Response, 200, "application/json", Encoding.UTF8.GetBytes(new JsonObject { ["UnprocessedTraceSegments"] = unprocessed }.ToJsonString()), null).ConfigureAwait(false);
    }

    private static string? IdOf(string document)
    {
        try
        {
            using var parsed = JsonDocument.Parse(document);
            return parsed.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task RelayAsync(HttpContext context, byte[] body, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await ForwardAsync(context.Request, body, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // The target is gone (moto stopped): the client sees what it would see, a broken connection.
            context.Abort();
            return;
        }

        using (response)
        {
            var responseBody = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            await CopyResponseAsync(context.Response, response, responseBody).ConfigureAwait(false);
        }
    }

    private async Task<HttpResponseMessage> ForwardAsync(HttpRequest request, byte[] body, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_target, request.Path.Value + request.QueryString.Value));
        if (body.Length > 0 || !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsDelete(request.Method))
        {
            message.Content = new ByteArrayContent(body);
        }

        foreach (var (name, values) in request.Headers)
        {
            if (SkippedHeaders.Contains(name))
            {
                continue;
            }

            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using (message)
        {
            return await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task CopyResponseAsync(HttpResponse target, HttpResponseMessage response, byte[] body)
    {
        target.HttpContext.Items[ResponseBodyItem] = body;
        target.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!SkippedHeaders.Contains(name))
            {
                target.Headers[name] = values.ToArray();
            }
        }

        if (HttpMethods.IsHead(target.HttpContext.Request.Method))
        {
            // A HEAD answer keeps the object's Content-Length and has no body.
            target.ContentLength = response.Content.Headers.ContentLength;
            return;
        }

        target.ContentLength = body.Length;
        await target.Body.WriteAsync(body).ConfigureAwait(false);
    }

    private static async Task WriteAsync(HttpResponse response, int status, string contentType, byte[] body, string? errorType)
    {
        response.HttpContext.Items[ResponseBodyItem] = body;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.Headers["x-amzn-RequestId"] = "00000000-0000-0000-0000-000000000000";
        if (errorType is not null)
        {
            response.Headers["x-amzn-ErrorType"] = errorType;
        }

        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
