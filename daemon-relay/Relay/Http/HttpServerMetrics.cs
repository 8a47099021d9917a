namespace Relay.Http;

/// <summary>
/// Counters of one HTTP listener, rendered into /metrics by RelayMetrics with a
/// <c>listener</c> label: what was served, what was refused and why, and what was shed to keep
/// the listener available (evicted idle connections, refused connections at the cap).
/// </summary>
public sealed class HttpServerMetrics(string listener)
{
    private readonly long[] _rejected = new long[Enum.GetValues<HttpRejectReason>().Length];
    /// <summary>Responses by status code (100..599).</summary>
    private readonly long[] _responses = new long[600];
    private long _accepted;
    private long _open;
    private long _evicted;
    private long _refused;
    private long _requests;
    private long _idleClosed;

    public string Listener { get; } = listener;

    public long Accepted => Interlocked.Read(ref _accepted);

    public long Open => Interlocked.Read(ref _open);

    /// <summary>Idle or slow connections closed to make room for a new one at the cap.</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    /// <summary>Connections answered 503 and closed at the cap because none could be evicted.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Requests that reached the handler.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Connections closed for idling past the first-request or keep-alive timeout.</summary>
    public long IdleClosed => Interlocked.Read(ref _idleClosed);

    public long Responses(int status) => status is >= 0 and < 600 ? Interlocked.Read(ref _responses[status]) : 0;

    /// <summary>Status codes answered at least once, with their counts.</summary>
    public IEnumerable<(int Status, long Count)> ResponseCounts()
    {
        for (var status = 100; status < _responses.Length; status++)
        {
            var count = Interlocked.Read(ref _responses[status]);
            if (count > 0)
            {
                yield return (status, count);
            }
        }
    }

    public long Rejected(HttpRejectReason reason) => Interlocked.Read(ref _rejected[(int)reason]);

    internal void OnAccepted()
    {
        Interlocked.Increment(ref _accepted);
        Interlocked.Increment(ref _open);
    }

    internal void OnClosed() => Interlocked.Decrement(ref _open);

    internal void OnEvicted() => Interlocked.Increment(ref _evicted);

    internal void OnRefused() => Interlocked.Increment(ref _refused);

    internal void OnRequest() => Interlocked.Increment(ref _requests);

    internal void OnIdleClosed() => Interlocked.Increment(ref _idleClosed);

    internal void OnResponse(int status)
    {
        if (status is >= 100 and < 600)
        {
            Interlocked.Increment(ref _responses[status]);
        }
    }

    internal void OnRejected(HttpRejectReason reason) => Interlocked.Increment(ref _rejected[(int)reason]);
}
