using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Relay.Http.Http2;

namespace Relay.Receive.Otlp;

/// <summary>
/// Counters of the OTLP receivers, rendered into /metrics next to the relay's own: requests by
/// outcome, spans accepted, spans refused by reason, requests refused by reason (undecodable,
/// too large, wrong content type, buffer full). Lock-free; reasons are a small fixed vocabulary.
/// </summary>
public sealed class OtlpReceiverMetrics
{
    private readonly ConcurrentDictionary<string, long> _spansRefused = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _requestsRefused = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, long> _grpcStatus = new();
    private long _requests;
    private long _spansAccepted;
    private long _records;
    private long _spansBufferFull;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>The OTLP/gRPC receiver's HTTP/2 layer (connections, streams, protocol refusals).</summary>
    public Http2Metrics Grpc { get; } = new(OtlpGrpcListener.MetricsPrefix);

    /// <summary>OTLP/gRPC answers with this grpc-status.</summary>
    public long GrpcStatus(int code) => _grpcStatus.GetValueOrDefault(code);

    public void OnGrpcStatus(int code) => _grpcStatus.AddOrUpdate(code, 1, (_, n) => n + 1);

    public long SpansAccepted => Interlocked.Read(ref _spansAccepted);

    public long Records => Interlocked.Read(ref _records);

    public long SpansRefused(string reason) => _spansRefused.GetValueOrDefault(reason);

    public long RequestsRefused(string reason) => _requestsRefused.GetValueOrDefault(reason);

    public void OnRequest() => Interlocked.Increment(ref _requests);

    public void OnAccepted(int spans, int records)
    {
        Interlocked.Add(ref _spansAccepted, spans);
        Interlocked.Add(ref _records, records);
    }

    public void OnSpansRefused(string reason, int spans) => _spansRefused.AddOrUpdate(reason, spans, (_, n) => n + spans);

    public void OnRequestRefused(string reason) => _requestsRefused.AddOrUpdate(reason, 1, (_, n) => n + 1);

    /// <summary>A request refused whole because the buffer was full (the SDK retries it).</summary>
    public void OnBufferFull(int spans)
    {
        OnRequestRefused("buffer_full");
        Interlocked.Add(ref _spansBufferFull, spans);
    }

    public void WritePrometheus(StringBuilder text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var c = CultureInfo.InvariantCulture;
        text.Append("# HELP xray_relay_otlp_requests_total OTLP export requests received (HTTP and gRPC).\n# TYPE xray_relay_otlp_requests_total counter\n");
        text.Append(c, $"xray_relay_otlp_requests_total {Requests}\n");
        text.Append("# HELP xray_relay_otlp_spans_accepted_total OTLP spans buffered for Kinesis.\n# TYPE xray_relay_otlp_spans_accepted_total counter\n");
        text.Append(c, $"xray_relay_otlp_spans_accepted_total {SpansAccepted}\n");
        text.Append("# HELP xray_relay_otlp_records_total OTLP records (one per trace and request) buffered for Kinesis.\n# TYPE xray_relay_otlp_records_total counter\n");
        text.Append(c, $"xray_relay_otlp_records_total {Records}\n");
        text.Append("# HELP xray_relay_otlp_spans_retry_total Spans of requests refused because the buffer was full (answered retryable).\n# TYPE xray_relay_otlp_spans_retry_total counter\n");
        text.Append(c, $"xray_relay_otlp_spans_retry_total {Interlocked.Read(ref _spansBufferFull)}\n");
        text.Append("# HELP xray_relay_otlp_spans_refused_total OTLP spans refused (partial_success), by reason.\n# TYPE xray_relay_otlp_spans_refused_total counter\n");
        foreach (var (reason, count) in _spansRefused.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            text.Append(c, $"xray_relay_otlp_spans_refused_total{{reason=\"{reason}\"}} {count}\n");
        }

        text.Append("# HELP xray_relay_otlp_requests_refused_total OTLP requests refused whole, by reason.\n# TYPE xray_relay_otlp_requests_refused_total counter\n");
        foreach (var (reason, count) in _requestsRefused.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            text.Append(c, $"xray_relay_otlp_requests_refused_total{{reason=\"{reason}\"}} {count}\n");
        }

        text.Append("# HELP xray_relay_otlp_grpc_responses_total OTLP/gRPC answers, by grpc-status code.\n# TYPE xray_relay_otlp_grpc_responses_total counter\n");
        foreach (var (code, count) in _grpcStatus.OrderBy(r => r.Key))
        {
            text.Append(c, $"xray_relay_otlp_grpc_responses_total{{code=\"{code}\"}} {count}\n");
        }

        Grpc.WritePrometheus(text);
    }
}
