using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Http;
using Relay.Logging;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>
/// An HTTP proxy between the relay and moto that injects the failures moto never produces
/// (MOTO.md: FailedRecordCount is always 0, no throttling): whole-call 503s while
/// <see cref="Down"/>, and per-record ProvisionedThroughputExceededException for a share of
/// PutRecords records. A failed record is not forwarded to moto, exactly as Kinesis does not
/// write it, so "exactly once" stays checkable.
/// </summary>
internal sealed class KinesisFaultProxy : IAsyncDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Uri _target;
    private readonly MiniHttpServer _server;
    private int _putCalls;
    private int _failedRecords;

    public KinesisFaultProxy(Uri target)
    {
        _target = target;
        _server = new MiniHttpServer(new IPEndPoint(IPAddress.Loopback, 0), HandleAsync, JsonLog.Null, "fault-proxy", maxBodyBytes: 16 * 1024 * 1024);
        _server.Start();
    }

    public Uri Endpoint => new($"http://{_server.LocalEndpoint}/");

    /// <summary>While true every call answers 503 (a Kinesis outage as the relay sees it).</summary>
    public bool Down { get; set; }

    /// <summary>Fails record i of PutRecords call c when this returns true; null fails nothing.</summary>
    public Func<int, int, bool>? FailRecord { get; set; }

    /// <summary>Delay before answering each PutRecords (a slow Kinesis).</summary>
    public TimeSpan PutDelay { get; set; }

    public int PutCalls => Volatile.Read(ref _putCalls);

    public int FailedRecords => Volatile.Read(ref _failedRecords);

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        _server.Dispose();
        _http.Dispose();
    }

    private async Task<HttpResponse> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (Down)
        {
            return HttpResponse.Json(503, """{"__type":"ServiceUnavailable","message":"injected outage"}"""u8.ToArray());
        }

        request.Headers.TryGetValue("x-amz-target", out var target);
        if (target?.EndsWith(".PutRecords", StringComparison.Ordinal) != true)
        {
            return await ForwardAsync(request, request.Body, cancellationToken);
        }

        var call = Interlocked.Increment(ref _putCalls);
        if (PutDelay > TimeSpan.Zero)
        {
            await Task.Delay(PutDelay, cancellationToken);
        }

        var body = JsonNode.Parse(request.Body)!.AsObject();
        var records = body["Records"]!.AsArray();
        var failed = new bool[records.Count];
        var kept = new JsonArray();
        for (var i = 0; i < records.Count; i++)
        {
            failed[i] = FailRecord?.Invoke(call, i) == true;
            if (!failed[i])
            {
                kept.Add(records[i]!.DeepClone());
            }
        }

        JsonArray? upstreamResults = null;
        if (kept.Count > 0)
        {
            var forwarded = new JsonObject { ["StreamName"] = body["StreamName"]!.DeepClone(), ["Records"] = kept };
            var response = await ForwardAsync(request, Encoding.UTF8.GetBytes(forwarded.ToJsonString()), cancellationToken);
            if (response.Status != 200)
            {
                return response;
            }

            upstreamResults = JsonNode.Parse(response.Body)!["Records"]!.AsArray();
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
                results.Add(upstreamResults![next++]!.DeepClone());
            }
        }

        Interlocked.Add(ref _failedRecords, failedCount);
        var merged = new JsonObject { ["FailedRecordCount"] = failedCount, ["Records"] = results };
        return new HttpResponse(200, "application/x-amz-json-1.1", Encoding.UTF8.GetBytes(merged.ToJsonString()));
    }

    private async Task<HttpResponse> ForwardAsync(HttpRequest request, byte[] body, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_target, request.Path));
        message.Content = new ByteArrayContent(body);
        foreach (var (name, value) in request.Headers)
        {
            if (name is "host" or "content-length" or "connection" or "expect")
            {
                continue;
            }

            if (name == "content-type")
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", value);
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await _http.SendAsync(message, cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new HttpResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString() ?? "application/x-amz-json-1.1", bytes);
    }
}
