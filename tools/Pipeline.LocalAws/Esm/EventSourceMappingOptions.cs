namespace Pipeline.LocalAws.Esm;

/// <summary>
/// How the local event-source mapping batches and retries; the defaults follow template.yaml's
/// mapping (ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts 10) with a
/// shorter batching window so local traffic reaches the archive in about a second.
/// </summary>
public sealed record EventSourceMappingOptions
{
    /// <summary>Lambda's synchronous invocation payload limit (6 MB): a batch never exceeds it.</summary>
    public const long MaxPayloadBytes = 6L * 1024 * 1024;

    /// <summary>Records per invocation at most (template IngestBatchSize default).</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>How long records wait for a fuller batch (MaximumBatchingWindowInSeconds).</summary>
    public TimeSpan BatchingWindow { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Pause after a GetRecords call that found an idle shard: Lambda's Kinesis mapping polls each
    /// shard about once a second (Lambda developer guide, "How Lambda processes records from
    /// Kinesis"). Busy shards are read back to back, within <see cref="ShardReadLimiter"/>'s limit.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Retries of a failing batch before its records are discarded and counted (MaximumRetryAttempts).</summary>
    public int MaxRetryAttempts { get; init; } = 10;

    public bool BisectOnFunctionError { get; init; } = true;

    /// <summary>
    /// Records the retry after a function error may read when it is not bisected (default: the
    /// batch size). Lambda's retry comes back longer when records arrived behind a batch the
    /// batching window cut short; the proof tests set this to produce that shape on demand.
    /// </summary>
    public int? RetryBatchSize { get; init; }

    /// <summary>The function's timeout: the deadline each invocation gets.</summary>
    public TimeSpan InvocationTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The one <c>Backoff</c> policy's base delay for retries of a failed batch and after read
    /// errors: retry n waits a jittered time in [cap/2, cap], cap = min(<see cref="MaxRetryDelay"/>, RetryDelay · 2^(n-1)).
    /// </summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between retries (the Backoff's cap).</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>At shutdown: how long to keep delivering what is already in the stream.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(15);
}
