namespace Pipeline.Aws.Configuration;

/// <summary>
/// Bounded retry with jittered exponential backoff: attempt n (n ≥ 1 retries) waits a uniform
/// random time in [cap/2, cap] where cap = min(<see cref="MaxDelay"/>, <see cref="BaseDelay"/> · 2^(n-1))
/// ("equal jitter": spreads clients apart but never retries at once).
/// </summary>
public sealed record RetryOptions
{
    /// <summary>3 attempts in all, as the SDKs' "standard" retry mode; 100 ms base; 20 s cap.</summary>
    public static RetryOptions Default { get; } = new();

    /// <summary>One attempt, no retry.</summary>
    public static RetryOptions None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Total attempts including the first; at least 1.</summary>
    public int MaxAttempts { get; init; } = 3;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(20);
}
