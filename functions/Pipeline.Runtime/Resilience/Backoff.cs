using Pipeline.Runtime.Telemetry;

namespace Pipeline.Runtime.Resilience;

/// <summary>
/// The one backoff policy of every retry loop (signed AWS clients, Athena, the X-Ray forwarder;
/// the relay's sender and local mode's event-source mapping move onto it): retry n (1-based) waits
/// a uniform random time in [cap/2, cap], cap = min(MaxDelay, BaseDelay · 2^(n-1)) — "equal
/// jitter", which spreads clients apart but never retries at once — for at most MaxAttempts
/// attempts, and never past a deadline (a Lambda's remaining time, a drain timeout): a wait that
/// would end after it is not taken, the caller gets the last failure instead. Each retry and each
/// give-up is counted on <see cref="PipelineMetrics"/> (pipeline.retries, pipeline.retry_give_ups,
/// tagged with the operation). Kept internal rather than Polly.Core: see bench/RESULTS.md
/// ("Backoff: Polly.Core or our own") for the measured cost in the relay's AOT image and cold start.
/// </summary>
public sealed class Backoff
{
    private readonly Random _random;
    private readonly Lock _randomLock = new();

    public Backoff(BackoffOptions options, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxAttempts, "MaxAttempts must be at least 1.");
        }

        if (options.BaseDelay < TimeSpan.Zero || options.MaxDelay < options.BaseDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Need 0 ≤ BaseDelay ≤ MaxDelay.");
        }

        Options = options;
        _random = random ?? Random.Shared;
    }

    public BackoffOptions Options { get; }

    public int MaxAttempts => Options.MaxAttempts;

    /// <summary>Upper bound of the wait before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan CapFor(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var exponent = Math.Min(retry - 1, 30);
        var ticks = Math.Min(Options.BaseDelay.Ticks * Math.Pow(2, exponent), Options.MaxDelay.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>A wait in [cap/2, cap] before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan DelayFor(int retry)
    {
        var cap = CapFor(retry);
        double sample;
        lock (_randomLock)
        {
            sample = _random.NextDouble();
        }

        return TimeSpan.FromTicks((cap.Ticks / 2) + (long)(sample * (cap.Ticks - (cap.Ticks / 2))));
    }

    /// <summary>
    /// Whether another attempt may follow <paramref name="failedAttempts"/> failed ones, and after
    /// how long: false when the attempts are used up or the wait would end after <paramref name="deadline"/>.
    /// </summary>
    public bool TryNextDelay(int failedAttempts, DateTimeOffset now, DateTimeOffset? deadline, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        if (failedAttempts >= Options.MaxAttempts)
        {
            return false;
        }

        delay = DelayFor(failedAttempts);
        return deadline is not { } end || now + delay < end;
    }

    /// <summary>
    /// For loops that are not one call (resubmitting what a batch API left unprocessed): after
    /// <paramref name="failedAttempts"/> failed attempts, waits the next delay and returns true
    /// (a retry, counted), or returns false at once when the attempts are used up or the wait would
    /// pass <paramref name="deadline"/> (a give-up, counted).
    /// </summary>
    public async Task<bool> TryWaitAsync(string operation, int failedAttempts, TimeProvider time, CancellationToken cancellationToken, DateTimeOffset? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (!TryNextDelay(failedAttempts, time.GetUtcNow(), deadline, out var delay))
        {
            PipelineMetrics.CountGiveUp(operation);
            return false;
        }

        PipelineMetrics.CountRetry(operation);
        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> (given its 1-based number) until it succeeds, fails with an
    /// exception <paramref name="isRetryable"/> refuses, the attempts are used up, or the next wait
    /// would pass <paramref name="deadline"/>; then the last exception propagates. Waits run on
    /// <paramref name="time"/>. <paramref name="operation"/> tags the retry and give-up counters.
    /// </summary>
    public async Task<T> RunAsync<T>(
        string operation,
        Func<int, CancellationToken, Task<T>> attempt,
        Func<Exception, bool> isRetryable,
        TimeProvider time,
        CancellationToken cancellationToken,
        DateTimeOffset? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(isRetryable);
        ArgumentNullException.ThrowIfNull(time);
        for (var number = 1; ; number++)
        {
            try
            {
                return await attempt(number, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (isRetryable(ex))
            {
                if (!await TryWaitAsync(operation, number, time, cancellationToken, deadline).ConfigureAwait(false))
                {
                    throw;
                }
            }
        }
    }
}
