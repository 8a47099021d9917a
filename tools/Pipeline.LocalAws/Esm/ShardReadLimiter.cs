namespace Pipeline.LocalAws.Esm;

/// <summary>
/// Kinesis' read limit as the service enforces it: each shard supports up to
/// <see cref="ReadsPerSecondPerShard"/> GetRecords transactions per second, shared by every
/// consumer of the shard (Kinesis Data Streams quotas; more answers
/// ProvisionedThroughputExceededException). Every reader of a stream takes a slot here before each
/// GetRecords, so local mode never reads at a rate a real stream would throttle. Pass one instance
/// to every mapping of the same stream so that they share it, as consumers of one shard do.
/// </summary>
public sealed class ShardReadLimiter
{
    /// <summary>GetRecords transactions per second per shard (Kinesis Data Streams quotas and limits).</summary>
    public const int ReadsPerSecondPerShard = 5;

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Dictionary<string, Queue<DateTimeOffset>> _granted = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _waits;

    public ShardReadLimiter(TimeProvider time) => _time = time ?? throw new ArgumentNullException(nameof(time));

    /// <summary>How often a reader had to wait for a slot (the limit was reached).</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>Waits until a GetRecords on <paramref name="shardId"/> keeps the shard within the limit, and takes that slot.</summary>
    public async Task AcquireAsync(string shardId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                var now = _time.GetUtcNow();
                if (!_granted.TryGetValue(shardId, out var granted))
                {
                    _granted[shardId] = granted = new Queue<DateTimeOffset>(ReadsPerSecondPerShard);
                }

                while (granted.Count > 0 && now - granted.Peek() >= Window)
                {
                    granted.Dequeue();
                }

                if (granted.Count < ReadsPerSecondPerShard)
                {
                    granted.Enqueue(now);
                    return;
                }

                // The oldest grant of the last second leaves the window first.
                wait = Window - (now - granted.Peek());
            }

            Interlocked.Increment(ref _waits);
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
