using Pipeline.Runtime.Logging;
using System.Text.Json;
using Relay.Config;
using Relay.Http;
using Relay.Logging;

namespace Relay.Sampling;

/// <summary>Forwards an SDK sampling call to X-Ray, signed (the <c>--sdk-sampling proxy</c> mode).</summary>
public interface ISamplingUpstream
{
    /// <summary>POSTs <paramref name="body"/> to X-Ray at <paramref name="path"/> and returns X-Ray's status and body.</summary>
    Task<(int Status, byte[] Body)> ForwardAsync(string path, byte[] body, CancellationToken cancellationToken);
}

/// <summary>
/// Answers the SDKs' centralized sampling calls on the TCP address (rest-json, as X-Ray does:
/// <c>POST /GetSamplingRules</c>, <c>POST /SamplingTargets</c>, epoch-second timestamps). In the
/// default mode it serves one rule that records every request, because the pipeline archives
/// every segment and samples for X-Ray after archiving; SDKs that get no rule fall back to
/// 1 request/s + 5 % and would starve the archive. Facts from the Python SDK 2.x connector: a rule
/// is used only with Version 1, ResourceARN "*", a ServiceType and no Attributes; the targets'
/// FixedRate replaces the rule's; a targets answer without LastRuleModification breaks it. The Node
/// SDK 3.x connector drops a rule whose Attributes is absent rather than empty, so the rule carries
/// an empty Attributes object, which both accept.
/// </summary>
public sealed class SamplingResponder
{
    public const string RuleName = "pipeline-record-all";
    public const string RulesPath = "/GetSamplingRules";
    public const string TargetsPath = "/SamplingTargets";

    /// <summary>Rule priority: the lowest number wins; X-Ray allows 1..9999 for custom rules.</summary>
    public const int RulePriority = 1;

    /// <summary>The reservoir when no cap is set: more than any node serves, so never the limiting factor.</summary>
    public const int UncappedReservoir = 1_000_000;

    /// <summary>Seconds between the SDKs' target polls (X-Ray answers 10).</summary>
    public const int TargetInterval = 10;

    /// <summary>How long a quota is valid; longer than the poll interval so one missed poll is harmless.</summary>
    public static readonly TimeSpan QuotaTtl = TimeSpan.FromSeconds(30);

    /// <summary>The sampling listener's bounds: SDK calls carry a few KiB of statistics at most.</summary>
    public static readonly HttpListenerLimits Limits = new() { MaxBodyBytes = 64 * 1024 };

    /// <summary>SDK clients remembered for sharing the per-node cap (bounded).</summary>
    public const int MaxTrackedClients = 4096;

    private readonly RelayOptions _options;
    private readonly TimeProvider _time;
    private readonly ISamplingUpstream? _upstream;
    private readonly LogRateLimiter _limitedLog;
    private readonly double _ruleModified;
    private readonly Dictionary<string, long> _clients = new(StringComparer.Ordinal);
    private readonly Lock _clientsLock = new();

    public SamplingResponder(RelayOptions options, TimeProvider time, ISamplingUpstream? upstream, JsonLog log)
    {
        _options = options;
        _time = time;
        _upstream = upstream;
        _limitedLog = new LogRateLimiter(log, time);
        _ruleModified = time.GetUtcNow().ToUnixTimeSeconds();
        if (options.SdkSampling == SdkSamplingMode.Proxy && upstream is null)
        {
            throw new ArgumentException("--sdk-sampling proxy needs an upstream X-Ray client", nameof(upstream));
        }
    }

    private bool Capped => _options.SdkMaxPerSecond > 0;

    public async Task<HttpResponse> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Path is not (RulesPath or TargetsPath))
        {
            return HttpResponse.Text(404, "not found\n");
        }

        if (request.Method != "POST")
        {
            return HttpResponse.Text(405, "method not allowed\n");
        }

        if (_options.SdkSampling == SdkSamplingMode.Proxy)
        {
            try
            {
                var (status, body) = await _upstream!.ForwardAsync(request.Path, request.Body.ToArray(), cancellationToken).ConfigureAwait(false);
                return HttpResponse.Json(status, body);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                _limitedLog.Write(LogSeverity.Warn, "sampling-proxy", "sampling proxy call failed", ("path", request.Path), ("error", e.Message));
                return HttpResponse.Json(502, """{"message":"X-Ray unreachable from the relay"}"""u8.ToArray());
            }
        }

        return request.Path == RulesPath ? HttpResponse.Json(200, Rules()) : Targets(request.Body);
    }

    private byte[] Rules()
    {
        using var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteStartArray("SamplingRuleRecords");
            json.WriteStartObject();
            json.WriteStartObject("SamplingRule");
            json.WriteString("RuleName", RuleName);
            json.WriteString("RuleARN", $"arn:aws:xray:{_options.Region}:000000000000:sampling-rule/{RuleName}");
            json.WriteString("ResourceARN", "*");
            json.WriteNumber("Priority", RulePriority);
            json.WriteNumber("FixedRate", Capped ? 0.0 : 1.0);
            json.WriteNumber("ReservoirSize", Capped ? _options.SdkMaxPerSecond : UncappedReservoir);
            json.WriteString("ServiceName", "*");
            json.WriteString("ServiceType", "*");
            json.WriteString("Host", "*");
            json.WriteString("HTTPMethod", "*");
            json.WriteString("URLPath", "*");
            json.WriteNumber("Version", 1);
            json.WriteStartObject("Attributes");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteNumber("CreatedAt", _ruleModified);
            json.WriteNumber("ModifiedAt", _ruleModified);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return output.ToArray();
    }

    private HttpResponse Targets(ReadOnlyMemory<byte> body)
    {
        var now = _time.GetUtcNow();
        var ruleNames = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("SamplingStatisticsDocuments", out var docs)
                || docs.ValueKind != JsonValueKind.Array)
            {
                return BadRequest("SamplingStatisticsDocuments is required");
            }

            foreach (var doc in docs.EnumerateArray())
            {
                if (doc.ValueKind == JsonValueKind.Object && doc.TryGetProperty("RuleName", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    ruleNames.Add(name.GetString()!);
                    if (doc.TryGetProperty("ClientID", out var client) && client.ValueKind == JsonValueKind.String)
                    {
                        TrackClient(client.GetString()!, now.ToUnixTimeSeconds());
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Also what invalid UTF-8 gives: System.Text.Json validates the encoding while it reads.
            return BadRequest("body is not JSON (or not UTF-8)");
        }
        catch (InvalidOperationException)
        {
            // GetString() on an escaped lone surrogate ("\ud800"): the text is not Unicode.
            return BadRequest("RuleName and ClientID must be valid Unicode text");
        }

        var quota = Capped ? Math.Max(1, _options.SdkMaxPerSecond / Math.Max(1, ActiveClients(now.ToUnixTimeSeconds()))) : UncappedReservoir;
        using var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteStartArray("SamplingTargetDocuments");
            foreach (var name in ruleNames)
            {
                if (name != RuleName)
                {
                    continue;
                }

                json.WriteStartObject();
                json.WriteString("RuleName", name);
                json.WriteNumber("FixedRate", Capped ? 0.0 : 1.0);
                json.WriteNumber("ReservoirQuota", quota);
                json.WriteNumber("ReservoirQuotaTTL", (now + QuotaTtl).ToUnixTimeSeconds());
                json.WriteNumber("Interval", TargetInterval);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("LastRuleModification", _ruleModified);
            json.WriteStartArray("UnprocessedStatistics");
            foreach (var name in ruleNames)
            {
                if (name != RuleName)
                {
                    json.WriteStartObject();
                    json.WriteString("RuleName", name);
                    json.WriteString("ErrorCode", "400");
                    json.WriteString("Message", "unknown rule");
                    json.WriteEndObject();
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return HttpResponse.Json(200, output.ToArray());
    }

    private void TrackClient(string clientId, long now)
    {
        lock (_clientsLock)
        {
            if (_clients.Count >= MaxTrackedClients && !_clients.ContainsKey(clientId))
            {
                Prune(now);
                if (_clients.Count >= MaxTrackedClients)
                {
                    return;
                }
            }

            _clients[clientId] = now;
        }
    }

    private int ActiveClients(long now)
    {
        lock (_clientsLock)
        {
            Prune(now);
            return _clients.Count;
        }
    }

    private void Prune(long now)
    {
        // A client polls every 10 s; one silent for three intervals is gone.
        var horizon = now - (3 * TargetInterval);
        foreach (var (id, seen) in _clients)
        {
            if (seen < horizon)
            {
                _clients.Remove(id);
            }
        }
    }

    private static HttpResponse BadRequest(string message) =>
        HttpResponse.Json(400, JsonSerializerSafe.Message(message));
}

/// <summary>Tiny reflection-free JSON helpers for error bodies.</summary>
internal static class JsonSerializerSafe
{
    public static byte[] Message(string message)
    {
        using var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("message", message);
            json.WriteEndObject();
        }

        return output.ToArray();
    }
}
