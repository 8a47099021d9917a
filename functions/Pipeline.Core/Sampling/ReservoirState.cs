namespace Pipeline.Core.Sampling;

/// <summary>
/// Per-rule reservoir counters for the current second. Time comes in as an argument, so a test can
/// drive it. Thread-safe; one instance per sampler (per Lambda container: a reservoir of N per
/// second is per container, as it is per SDK instance in X-Ray).
/// </summary>
public sealed class ReservoirState
{
    private readonly Dictionary<string, (long Second, int Used)> _counters = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Takes one slot of <paramref name="rule"/>'s reservoir for the second of <paramref name="now"/>.</summary>
    public bool TryTake(SamplingRule rule, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.ReservoirSize <= 0)
        {
            return false;
        }

        var second = now.ToUnixTimeSeconds();
        lock (_lock)
        {
            _counters.TryGetValue(rule.RuleName, out var counter);
            if (counter.Second != second)
            {
                counter = (second, 0);
            }

            if (counter.Used >= rule.ReservoirSize)
            {
                return false;
            }

            _counters[rule.RuleName] = (second, counter.Used + 1);
            return true;
        }
    }
}
