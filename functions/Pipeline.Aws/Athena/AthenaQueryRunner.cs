namespace Pipeline.Aws.Athena;

/// <summary>
/// Runs one query to completion over <see cref="IAthenaClient"/>: start, poll
/// GetQueryExecution until a terminal state (bounded by a timeout), then page
/// GetQueryResults by NextToken up to a row limit.
/// </summary>
public sealed class AthenaQueryRunner
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    private readonly IAthenaClient _client;
    private readonly TimeProvider _time;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _timeout;

    public AthenaQueryRunner(IAthenaClient client, TimeProvider time, TimeSpan? pollInterval = null, TimeSpan? timeout = null)
    {
        _client = client;
        _time = time;
        _pollInterval = pollInterval ?? DefaultPollInterval;
        _timeout = timeout ?? DefaultTimeout;
    }

    public async Task<AthenaQueryOutcome> RunAsync(AthenaQueryRequest request, int maxRows, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRows);
        var id = await _client.StartQueryExecutionAsync(request, cancellationToken).ConfigureAwait(false);
        var deadline = _time.GetUtcNow() + _timeout;
        AthenaQueryExecution execution;
        var polls = 0;
        while (true)
        {
            execution = await _client.GetQueryExecutionAsync(id, cancellationToken).ConfigureAwait(false);
            polls++;
            if (execution.State is AthenaQueryState.Succeeded or AthenaQueryState.Failed or AthenaQueryState.Cancelled)
            {
                break;
            }

            if (_time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"Athena query {id} still {execution.State} after {_timeout}");
            }

            await Task.Delay(_pollInterval, _time, cancellationToken).ConfigureAwait(false);
        }

        if (execution.State != AthenaQueryState.Succeeded)
        {
            throw new AthenaQueryFailedException(id, execution.State, execution.StateChangeReason);
        }

        var columns = (IReadOnlyList<string>)[];
        var rows = new List<IReadOnlyList<string?>>();
        string? token = null;
        var pages = 0;
        var truncated = false;
        do
        {
            var page = await _client.GetQueryResultsAsync(id, token, AthenaLimits.MaxResultsPerPage, cancellationToken).ConfigureAwait(false);
            var pageRows = page.Rows;
            if (pages == 0)
            {
                columns = page.Columns;

                // For SELECT, the first row of the first page repeats the column labels.
                if (pageRows.Count > 0 && pageRows[0].SequenceEqual(columns))
                {
                    pageRows = pageRows.Skip(1).ToList();
                }
            }

            pages++;
            foreach (var row in pageRows)
            {
                if (rows.Count == maxRows)
                {
                    truncated = true;
                    break;
                }

                rows.Add(row);
            }

            token = page.NextToken;
        }
        while (token is not null && !truncated && rows.Count < maxRows);

        // Rows left on a page or a page left unread: the answer was cut at maxRows.
        return new AthenaQueryOutcome(id, columns, rows, truncated || token is not null, execution.DataScannedInBytes, polls, pages);
    }
}

/// <param name="Polls">GetQueryExecution calls made.</param>
/// <param name="Pages">GetQueryResults calls made.</param>
public sealed record AthenaQueryOutcome(
    string QueryExecutionId,
    IReadOnlyList<string> Columns,
    IReadOnlyList<IReadOnlyList<string?>> Rows,
    bool Truncated,
    long? DataScannedInBytes,
    int Polls,
    int Pages);

public sealed class AthenaQueryFailedException : Exception
{
    public AthenaQueryFailedException(string queryExecutionId, AthenaQueryState state, string? reason)
        : base($"Athena query {queryExecutionId} {state}: {reason ?? "no reason given"}")
    {
        QueryExecutionId = queryExecutionId;
        State = state;
    }

    public AthenaQueryFailedException()
    {
        QueryExecutionId = string.Empty;
    }

    public AthenaQueryFailedException(string message)
        : base(message)
    {
        QueryExecutionId = string.Empty;
    }

    public AthenaQueryFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        QueryExecutionId = string.Empty;
    }

    public string QueryExecutionId { get; }

    public AthenaQueryState State { get; }
}
