namespace Pipeline.Runtime.Resilience;

/// <summary>
/// The bounds of <see cref="Backoff"/>: attempts in all (the first included), the first retry's
/// wait and the cap on any one wait. Defaults: 3 attempts (the AWS SDKs' "standard" mode),
/// 100 ms base, 20 s cap.
/// </summary>
public sealed record BackoffOptions
{
    public static BackoffOptions Default { get; } = new();

    /// <summary>One attempt, no retry (the caller owns retry, as the relay's sender does).</summary>
    public static BackoffOptions None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Total attempts including the first; at least 1.</summary>
    public int MaxAttempts { get; init; } = 3;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(20);
}
