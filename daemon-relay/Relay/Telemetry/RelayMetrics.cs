using System.Globalization;
using System.Text;
using Relay.Http;
using Relay.Receive.Otlp;

namespace Relay.Telemetry;

/// <summary>
/// The relay's counters, updated lock-free from the receive and send loops and rendered in the
/// Prometheus text format for /metrics. Segments are counted as the SDK sent them, whether or not
/// they were packed into aggregated records.
/// </summary>
public sealed class RelayMetrics
{
    private static readonly double[] BatchBuckets = [1, 10, 50, 100, 250, 500];
    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly long[] _dropped = new long[DropReasons.Count];
    private readonly Histogram _batchSize = new(BatchBuckets);
    private readonly Histogram _putLatency = new(LatencyBuckets);
    private long _received;
    private long _accepted;
    private long _withoutTraceId;
    private long _forwarded;
    private long _forwardedRecords;
    private long _spooled;
    private long _replayed;
    private long _retried;
    private long _throttled;
    private long _putFailures;
    private long _putTimeouts;
    private Func<KernelUdpDrops?> _kernelDrops = () => null;
    private Func<HealthReport> _health = () => HealthReport.Ok;
    private readonly List<HttpServerMetrics> _http = [];
    private readonly Lock _httpLock = new();
    private Func<long> _bufferBytes = () => 0;
    private Relay.Sending.InFlightWindow? _window;
    private long _spoolBytes;
    private (Relay.Aws.CredentialMetrics Metrics, TimeProvider Time)? _credentials;

    /// <summary>The OTLP receivers' counters (HTTP and gRPC share them), rendered after the relay's own.</summary>
    public OtlpReceiverMetrics Otlp { get; } = new();

    /// <summary>Datagrams read from the socket, good or bad.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Segments that passed the header check and entered the buffer.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Segments Kinesis acknowledged (user records, not aggregated records).</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Kinesis records acknowledged (differs from <see cref="Forwarded"/> with --aggregate).</summary>
    public long ForwardedRecords => Interlocked.Read(ref _forwardedRecords);

    public long Spooled => Interlocked.Read(ref _spooled);

    public long Replayed => Interlocked.Read(ref _replayed);

    public long Retried => Interlocked.Read(ref _retried);

    public long Throttled => Interlocked.Read(ref _throttled);

    public long WithoutTraceId => Interlocked.Read(ref _withoutTraceId);

    public long BufferBytes => _bufferBytes();

    public long SpoolBytes => Interlocked.Read(ref _spoolBytes);

    public long PutRecordsCalls => _putLatency.Count;

    public long Dropped(DropReason reason) => Interlocked.Read(ref _dropped[(int)reason]);

    public long DroppedTotal
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _dropped.Length; i++)
            {
                total += Interlocked.Read(ref _dropped[i]);
            }

            return total;
        }
    }

    /// <summary>The counters of the HTTP listener <paramref name="listener"/> (created on first use, rendered with a listener label).</summary>
    public HttpServerMetrics Http(string listener)
    {
        lock (_httpLock)
        {
            var existing = _http.Find(h => h.Listener == listener);
            if (existing is not null)
            {
                return existing;
            }

            var created = new HttpServerMetrics(listener);
            _http.Add(created);
            return created;
        }
    }

    public void OnReceived() => Interlocked.Increment(ref _received);

    public void OnAccepted(bool hasTraceId)
    {
        Interlocked.Increment(ref _accepted);
        if (!hasTraceId)
        {
            Interlocked.Increment(ref _withoutTraceId);
        }
    }

    public void OnDropped(DropReason reason, long segments = 1) => Interlocked.Add(ref _dropped[(int)reason], segments);

    public void OnForwarded(long segments, long records)
    {
        Interlocked.Add(ref _forwarded, segments);
        Interlocked.Add(ref _forwardedRecords, records);
    }

    public void OnSpooled(long segments) => Interlocked.Add(ref _spooled, segments);

    public void OnReplayed(long segments) => Interlocked.Add(ref _replayed, segments);

    public void OnRetried(long records) => Interlocked.Add(ref _retried, records);

    public void OnThrottled(long records) => Interlocked.Add(ref _throttled, records);

    public void OnPutFailure() => Interlocked.Increment(ref _putFailures);

    public void OnPutTimeout() => Interlocked.Increment(ref _putTimeouts);

    public long PutTimeouts => Interlocked.Read(ref _putTimeouts);

    /// <summary>Reads the kernel's UDP drop counters at scrape time.</summary>
    public void ObserveKernelDrops(Func<KernelUdpDrops?> drops) => _kernelDrops = drops;

    /// <summary>Reads the relay's health at scrape time.</summary>
    public void ObserveHealth(Func<HealthReport> health) => _health = health;

    public void OnBatch(int records, TimeSpan latency)
    {
        _batchSize.Observe(records);
        _putLatency.Observe(latency.TotalSeconds);
    }

    /// <summary>Reads the in-flight window at scrape time.</summary>
    public void ObserveInFlight(Relay.Sending.InFlightWindow window) => _window = window;

    /// <summary>Writes the temporary credentials' renewal counters and expiry gauge (sources: IMDS, assumed role).</summary>
    public void ObserveCredentials(Relay.Aws.CredentialMetrics credentials, TimeProvider time) => _credentials = (credentials, time);

    /// <summary>Reads the buffer gauge from its owner at scrape time (two threads move it; a pushed value could go stale).</summary>
    public void ObserveBufferBytes(Func<long> bytes) => _bufferBytes = bytes;

    public void SetSpoolBytes(long bytes) => Interlocked.Exchange(ref _spoolBytes, bytes);

    /// <summary>Prometheus text exposition format 0.0.4.</summary>
    public string ToPrometheus()
    {
        var text = new StringBuilder(4096);
        Counter(text, "xray_relay_received_datagrams_total", "Datagrams read from the UDP socket.", Received);
        Counter(text, "xray_relay_accepted_segments_total", "Segments that passed the header check and were buffered.", Accepted);
        Counter(text, "xray_relay_segments_without_trace_id_total", "Accepted segments without a well-formed top-level trace_id (forwarded for the ingest to quarantine).", WithoutTraceId);
        Counter(text, "xray_relay_forwarded_segments_total", "Segments acknowledged by Kinesis.", Forwarded);
        Counter(text, "xray_relay_forwarded_records_total", "Kinesis records acknowledged (aggregated records count once).", ForwardedRecords);
        text.Append("# HELP xray_relay_dropped_segments_total Segments dropped, by reason.\n# TYPE xray_relay_dropped_segments_total counter\n");
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            text.Append(CultureInfo.InvariantCulture, $"xray_relay_dropped_segments_total{{reason=\"{DropReasons.Label(reason)}\"}} {Dropped(reason)}\n");
        }

        Counter(text, "xray_relay_spooled_segments_total", "Segments written to the spool directory during a Kinesis outage.", Spooled);
        Counter(text, "xray_relay_replayed_segments_total", "Segments replayed from the spool to Kinesis.", Replayed);
        Counter(text, "xray_relay_retried_records_total", "Records sent again after a partial PutRecords failure.", Retried);
        Counter(text, "xray_relay_throttled_records_total", "Records Kinesis refused with ProvisionedThroughputExceededException.", Throttled);
        Counter(text, "xray_relay_putrecords_failures_total", "PutRecords calls that failed as a whole (network, 5xx).", Interlocked.Read(ref _putFailures));
        Counter(text, "xray_relay_putrecords_timeouts_total", "PutRecords calls that did not answer within --send-timeout (each marks Kinesis down).", PutTimeouts);
        if (_kernelDrops() is { } kernel)
        {
            if (kernel.SocketDrops is { } socketDrops)
            {
                Counter(text, "xray_relay_udp_socket_drops_total", "Datagrams the kernel dropped for the relay's UDP socket (receive buffer full; /proc/net/udp drops).", socketDrops);
            }

            if (kernel.RcvbufErrors is { } rcvbuf)
            {
                Counter(text, "xray_relay_udp_rcvbuf_errors_total", "UDP datagrams dropped for a full receive buffer in the relay's network namespace, all sockets (/proc/net/snmp RcvbufErrors).", rcvbuf);
            }
        }

        var health = _health();
        Gauge(text, "xray_relay_healthy", "1 when Kinesis takes batches and the spool (if any) is writable; 0 when degraded.", health.Healthy ? 1 : 0);
        Gauge(text, "xray_relay_buffer_bytes", "Bytes of segments held in memory (buffered, batched or in flight).", BufferBytes);
        Gauge(text, "xray_relay_spool_bytes", "Bytes in the spool directory.", SpoolBytes);
        if (_window is { } window)
        {
            Gauge(text, "xray_relay_putrecords_in_flight", "PutRecords calls in flight now.", window.InFlight);
            Gauge(text, "xray_relay_putrecords_in_flight_limit", "PutRecords calls allowed in flight now (--max-in-flight, halved by throttling, raised by clean calls).", window.Limit);
            Counter(text, "xray_relay_in_flight_decreases_total", "Times throttling or a failed call lowered the in-flight limit.", window.Decreases);
        }
        if (_credentials is { } credentials)
        {
            credentials.Metrics.WritePrometheus(text, credentials.Time.GetUtcNow());
        }

        _batchSize.Write(text, "xray_relay_batch_records", "Records per PutRecords call.");
        _putLatency.Write(text, "xray_relay_putrecords_seconds", "PutRecords call latency.");
        Otlp.WritePrometheus(text);
        WriteHttp(text);
        return text.ToString();
    }

    private void WriteHttp(StringBuilder text)
    {
        HttpServerMetrics[] listeners;
        lock (_httpLock)
        {
            listeners = [.. _http];
        }

        if (listeners.Length == 0)
        {
            return;
        }

        void Family(string name, string type, string help, Func<HttpServerMetrics, long> value)
        {
            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");
            foreach (var listener in listeners)
            {
                text.Append(CultureInfo.InvariantCulture, $"{name}{{listener=\"{listener.Listener}\"}} {value(listener)}\n");
            }
        }

        Family("xray_relay_http_connections_total", "counter", "HTTP connections accepted, by listener.", l => l.Accepted);
        Family("xray_relay_http_open_connections", "gauge", "HTTP connections open now, by listener.", l => l.Open);
        Family("xray_relay_http_evicted_connections_total", "counter", "Idle or slow HTTP connections closed to make room for a new one at the listener's cap.", l => l.Evicted);
        Family("xray_relay_http_refused_connections_total", "counter", "HTTP connections answered 503 at the cap because every slot was in a handler.", l => l.Refused);
        Family("xray_relay_http_idle_closed_connections_total", "counter", "HTTP connections closed for idling past the first-request or keep-alive timeout.", l => l.IdleClosed);
        Family("xray_relay_http_requests_total", "counter", "HTTP requests that reached their handler, by listener.", l => l.Requests);
        text.Append("# HELP xray_relay_http_rejected_requests_total HTTP requests refused before or by the handler's server side, by listener and reason.\n# TYPE xray_relay_http_rejected_requests_total counter\n");
        foreach (var listener in listeners)
        {
            foreach (var reason in Enum.GetValues<HttpRejectReason>())
            {
                text.Append(CultureInfo.InvariantCulture, $"xray_relay_http_rejected_requests_total{{listener=\"{listener.Listener}\",reason=\"{HttpRejectReasons.Label(reason)}\"}} {listener.Rejected(reason)}\n");
            }
        }

        text.Append("# HELP xray_relay_http_responses_total HTTP responses written, by listener and status code.\n# TYPE xray_relay_http_responses_total counter\n");
        foreach (var listener in listeners)
        {
            foreach (var (status, count) in listener.ResponseCounts())
            {
                text.Append(CultureInfo.InvariantCulture, $"xray_relay_http_responses_total{{listener=\"{listener.Listener}\",code=\"{status}\"}} {count}\n");
            }
        }
    }

    private static void Counter(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");

    private static void Gauge(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n");

    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private readonly Lock _sumLock = new();
        private double _sum;
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public void Observe(double value)
        {
            var bucket = bounds.Length;
            for (var i = 0; i < bounds.Length; i++)
            {
                if (value <= bounds[i])
                {
                    bucket = i;
                    break;
                }
            }

            Interlocked.Increment(ref _counts[bucket]);
            Interlocked.Increment(ref _count);
            lock (_sumLock)
            {
                _sum += value;
            }
        }

        public void Write(StringBuilder text, string name, string help)
        {
            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} histogram\n");
            long cumulative = 0;
            for (var i = 0; i < bounds.Length; i++)
            {
                cumulative += Interlocked.Read(ref _counts[i]);
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"{bounds[i]}\"}} {cumulative}\n");
            }

            cumulative += Interlocked.Read(ref _counts[bounds.Length]);
            double sum;
            lock (_sumLock)
            {
                sum = _sum;
            }

            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"+Inf\"}} {cumulative}\n{name}_sum {sum}\n{name}_count {cumulative}\n");
        }
    }
}

/// <summary>Kernel UDP drop counters: for the relay's socket, and for its network namespace (null when unreadable).</summary>
public sealed record KernelUdpDrops(long? SocketDrops, long? RcvbufErrors);

/// <summary>What /healthz says: healthy, or degraded with the reasons.</summary>
public sealed record HealthReport(IReadOnlyList<string> Problems)
{
    public static HealthReport Ok { get; } = new([]);

    public bool Healthy => Problems.Count == 0;
}
