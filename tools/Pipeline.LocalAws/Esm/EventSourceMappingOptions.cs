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

    /// <summary>Pause between GetRecords calls on an idle shard (Lambda polls about once a second).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

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

    /// <summary>First retry delay; doubles per attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>At shutdown: how long to keep delivering what is already in the stream.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(15);
}
