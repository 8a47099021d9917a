namespace Pipeline.Aws.Athena;

/// <summary>
/// The Amazon Athena calls the pipeline makes (JSON 1.1, target prefix AmazonAthena).
/// AWSSDK.Athena is not served here, so this is our own small client; the interface is shaped
/// so the official package could replace it.
/// </summary>
public interface IAthenaClient
{
    /// <summary>StartQueryExecution; returns the QueryExecutionId.</summary>
    Task<string> StartQueryExecutionAsync(AthenaQueryRequest request, CancellationToken cancellationToken = default);

    Task<AthenaQueryExecution> GetQueryExecutionAsync(string queryExecutionId, CancellationToken cancellationToken = default);

    /// <summary>One page of GetQueryResults (≤ 1000 rows); pass the previous page's NextToken.</summary>
    Task<AthenaResultPage> GetQueryResultsAsync(string queryExecutionId, string? nextToken, int maxResults = AthenaLimits.MaxResultsPerPage, CancellationToken cancellationToken = default);
}

public static class AthenaLimits
{
    /// <summary>GetQueryResults MaxResults upper bound (Athena API reference).</summary>
    public const int MaxResultsPerPage = 1000;
}

/// <param name="OutputLocation">s3:// prefix for results. Pass it even with a workgroup: moto
/// does not inherit the workgroup's, and a workgroup that enforces its own ignores it.</param>
public sealed record AthenaQueryRequest(string QueryString, string? Database, string? WorkGroup, string? OutputLocation);

public sealed record AthenaQueryExecution(
    string QueryExecutionId,
    AthenaQueryState State,
    string? StateChangeReason,
    long? DataScannedInBytes);

/// <summary>QueryExecutionStatus.State values (Athena API reference).</summary>
public enum AthenaQueryState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <param name="Rows">Cells as Athena returns them (VarCharValue; null when absent).</param>
public sealed record AthenaResultPage(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows, string? NextToken);
