using System.Net.Sockets;
using Pipeline.Aws.Configuration;

namespace Pipeline.Aws.Http;

/// <summary>Decides whether a failed attempt is retried and how long to wait first.</summary>
internal sealed class RetryPolicy
{
    private readonly RetryOptions _options;
    private readonly Random _random;
    private readonly Lock _randomLock = new();

    public RetryPolicy(RetryOptions options, Random? random = null)
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

        _options = options;
        _random = random ?? Random.Shared;
    }

    public int MaxAttempts => _options.MaxAttempts;

    /// <summary>Throttling, 5xx and transient network failures are retried; everything else is final.</summary>
    public static bool IsRetryable(Exception exception, CancellationToken callerToken) => exception switch
    {
        AwsServiceException service => service.IsRetryable,
        HttpRequestException => true,
        IOException => true,
        SocketException => true,
        // HttpClient's own timeout surfaces as a cancellation that the caller did not ask for.
        OperationCanceledException => !callerToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>Upper bound of the wait before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan CapFor(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var exponent = Math.Min(retry - 1, 30);
        var ticks = Math.Min((double)_options.BaseDelay.Ticks * Math.Pow(2, exponent), _options.MaxDelay.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>A wait in [cap/2, cap] for retry number <paramref name="retry"/> (1-based).</summary>
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
}
