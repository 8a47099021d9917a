namespace Relay.Sending;

/// <summary>
/// How many PutRecords calls the send loop may have in flight, adapted to Kinesis the way TCP
/// adapts its window (additive increase, multiplicative decrease): throttling halves the limit
/// (down to one call) before anything is spooled, and each run of clean calls as long as the
/// current limit raises it by one, up to <see cref="Max"/>. A call that fails outright (Kinesis
/// down) drops the limit to one, so a recovering endpoint is probed by a single call.
/// Thread-safe: slots are taken by the send loop and given back by the send tasks.
/// </summary>
public sealed class InFlightWindow
{
    private readonly Lock _lock = new();
    private readonly Queue<TaskCompletionSource> _waiters = new();
    private int _limit;
    private int _inFlight;
    private int _cleanStreak;
    private long _decreases;

    public InFlightWindow(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        Max = max;
        _limit = max;
    }

    /// <summary>The configured ceiling (--max-in-flight).</summary>
    public int Max { get; }

    /// <summary>Calls allowed at once right now (1..<see cref="Max"/>).</summary>
    public int Limit
    {
        get
        {
            lock (_lock)
            {
                return _limit;
            }
        }
    }

    /// <summary>Calls in flight now.</summary>
    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>Times the limit was lowered (throttling or an outage).</summary>
    public long Decreases => Interlocked.Read(ref _decreases);

    /// <summary>Waits for a free slot and takes it; the caller gives it back with <see cref="Release"/>.</summary>
    public Task AcquireAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (_waiters.Count == 0 && _inFlight < _limit)
            {
                _inFlight++;
                return Task.CompletedTask;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
        }

        if (!cancellationToken.CanBeCanceled)
        {
            return waiter.Task;
        }

        return WaitAsync(waiter, cancellationToken);
    }

    /// <summary>Gives a slot back and hands free slots to waiters.</summary>
    public void Release()
    {
        lock (_lock)
        {
            _inFlight--;
            GrantLocked();
        }
    }

    /// <summary>Kinesis throttled (a whole call or some of its records): halve the limit.</summary>
    public void OnThrottled()
    {
        lock (_lock)
        {
            _cleanStreak = 0;
            if (_limit > 1)
            {
                _limit = Math.Max(1, _limit / 2);
                Interlocked.Increment(ref _decreases);
            }
        }
    }

    /// <summary>A call failed outright (network, 5xx, timeout): one call at a time until one succeeds.</summary>
    public void OnFailed()
    {
        lock (_lock)
        {
            _cleanStreak = 0;
            if (_limit > 1)
            {
                _limit = 1;
                Interlocked.Increment(ref _decreases);
            }
        }
    }

    /// <summary>A call went through without throttling: after <see cref="Limit"/> of them in a row, one more slot.</summary>
    public void OnClean()
    {
        lock (_lock)
        {
            if (_limit >= Max)
            {
                return;
            }

            _cleanStreak++;
            if (_cleanStreak >= _limit)
            {
                _cleanStreak = 0;
                _limit++;
                GrantLocked();
            }
        }
    }

    private void GrantLocked()
    {
        while (_inFlight < _limit && _waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult())
            {
                _inFlight++;
            }
        }
    }

    private static async Task WaitAsync(TaskCompletionSource waiter, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource)state!).TrySetCanceled(token), waiter))
        {
            await waiter.Task.ConfigureAwait(false);
        }
    }
}
