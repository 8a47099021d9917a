using Pipeline.Runtime.Serialization;
using System.Text.Json.Serialization;
using Pipeline.Aws.Http;

namespace Pipeline.Aws.XRay;

/// <summary>
/// The AWS X-Ray calls the pipeline makes (rest-json). AWSSDK.XRay is not served here, so this
/// is our own small client, shaped so the official package could replace it.
/// </summary>
public interface IXRayClient
{
    /// <summary>
    /// One PutTraceSegments call (1 to <see cref="XRayLimits.MaxSegmentsPerPut"/> documents, each a
    /// segment JSON string). Returns the segments X-Ray did not take, with its reason; empty when all
    /// were accepted. Rejected segments are not an exception: callers retry or park them.
    /// </summary>
    Task<IReadOnlyList<UnprocessedTraceSegment>> PutTraceSegmentsAsync(IReadOnlyList<string> segmentDocuments, CancellationToken cancellationToken = default);

    /// <summary>One page of sampling rules (POST /GetSamplingRules); pass the page's NextToken for the next.</summary>
    Task<SamplingRulesPage> GetSamplingRulesAsync(string? nextToken = null, CancellationToken cancellationToken = default);

    /// <summary>Reports rule statistics and gets the quotas back (POST /SamplingTargets).</summary>
    Task<SamplingTargetsResult> GetSamplingTargetsAsync(IReadOnlyList<SamplingStatistics> statistics, CancellationToken cancellationToken = default);
}

public static class XRayLimits
{
    /// <summary>Documents per PutTraceSegments call; the X-Ray daemon sends at most 50 a batch.</summary>
    public const int MaxSegmentsPerPut = 50;

    /// <summary>Statistics documents per GetSamplingTargets call (X-Ray API reference: 25).</summary>
    public const int MaxStatisticsPerTargets = 25;
}

public sealed record UnprocessedTraceSegment(string? Id, string? ErrorCode, string? Message);

/// <summary>A sampling rule as X-Ray returns it; names are the wire names.</summary>
public sealed record SamplingRule
{
    public string? RuleName { get; init; }

    public string? RuleARN { get; init; }

    public string ResourceARN { get; init; } = "*";

    public int Priority { get; init; }

    public double FixedRate { get; init; }

    public int ReservoirSize { get; init; }

    public string ServiceName { get; init; } = "*";

    public string ServiceType { get; init; } = "*";

    public string Host { get; init; } = "*";

    public string HTTPMethod { get; init; } = "*";

    public string URLPath { get; init; } = "*";

    public int Version { get; init; } = 1;

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }
}

public sealed record SamplingRuleRecord(
    SamplingRule SamplingRule,
    [property: JsonConverter(typeof(NullableEpochSecondsConverter))] DateTimeOffset? CreatedAt,
    [property: JsonConverter(typeof(NullableEpochSecondsConverter))] DateTimeOffset? ModifiedAt);

public sealed record SamplingRulesPage(IReadOnlyList<SamplingRuleRecord> SamplingRuleRecords, string? NextToken);

/// <summary>What a client observed for one rule since its last report (ClientID: 24 hex chars).</summary>
public sealed record SamplingStatistics(
    string RuleName,
    string ClientID,
    [property: JsonConverter(typeof(EpochSecondsConverter))] DateTimeOffset Timestamp,
    int RequestCount,
    int SampledCount,
    int BorrowCount);

public sealed record SamplingTarget(
    string RuleName,
    double? FixedRate,
    int? ReservoirQuota,
    [property: JsonConverter(typeof(NullableEpochSecondsConverter))] DateTimeOffset? ReservoirQuotaTTL,
    int? Interval);

public sealed record UnprocessedStatistics(string? RuleName, string? ErrorCode, string? Message);

public sealed record SamplingTargetsResult(
    IReadOnlyList<SamplingTarget> SamplingTargetDocuments,
    [property: JsonConverter(typeof(NullableEpochSecondsConverter))] DateTimeOffset? LastRuleModification,
    IReadOnlyList<UnprocessedStatistics> UnprocessedStatistics);
