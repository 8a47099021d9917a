namespace Relay.Http;

/// <summary>
/// The bounds one HTTP listener holds its clients to. Every listener (SDK sampling, /healthz +
/// /metrics, the OTLP receivers) has its own instance and its own connection budget, so clients of
/// one listener can never take another offline. The defaults suit loopback callers (SDKs polling
/// every few seconds, a kubelet probe, a Prometheus scrape): anything slower than them is a client
/// to shed, not to wait for.
/// </summary>
public sealed record HttpListenerLimits
{
    /// <summary>Open connections per listener; at the cap the longest-waiting idle connection is evicted for a new one.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>Request line + headers, bytes (Kestrel's default MaxRequestHeadersTotalSize is 32 KiB; SDK calls send under 1 KiB).</summary>
    public int MaxHeaderBytes { get; init; } = 16 * 1024;

    /// <summary>Header fields per request (Kestrel's default MaxRequestHeaderCount is 100).</summary>
    public int MaxHeaderCount { get; init; } = 100;

    /// <summary>Decoded request body, bytes. SDK sampling calls are a few KiB.</summary>
    public int MaxBodyBytes { get; init; } = 64 * 1024;

    /// <summary>A connection that was just accepted must send its first request within this (it has not proven it is a client yet).</summary>
    public TimeSpan FirstRequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Idle time allowed between requests on a keep-alive connection (the SDKs poll targets every 10 s).</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>From the first byte of a request to the end of its headers (Kestrel's RequestHeadersTimeout).</summary>
    public TimeSpan HeadersTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Grace before <see cref="MinBodyBytesPerSecond"/> applies to a body (Kestrel's MinRequestBodyDataRate grace).</summary>
    public TimeSpan BodyGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Slowest body upload accepted after the grace (loopback clients send megabytes a millisecond).</summary>
    public int MinBodyBytesPerSecond { get; init; } = 64 * 1024;

    /// <summary>Writing one response (a client that does not read holds a slot no longer than this).</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a stop waits for connections still in a handler before it abandons them.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time allowed to read a whole body of <paramref name="length"/> bytes.</summary>
    public TimeSpan BodyTimeout(long length) =>
        BodyGracePeriod + TimeSpan.FromSeconds((double)length / MinBodyBytesPerSecond);

    /// <summary>Throws when a bound is not positive (limits are built in code, not from user input).</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderBytes, 256);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBodyBytes, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinBodyBytesPerSecond, 1);
        foreach (var timeout in new[] { FirstRequestTimeout, KeepAliveTimeout, HeadersTimeout, WriteTimeout, StopTimeout })
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        }
    }
}
