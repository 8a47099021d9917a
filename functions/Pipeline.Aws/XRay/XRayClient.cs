using Pipeline.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;

namespace Pipeline.Aws.XRay;

/// <summary>X-Ray over rest-json (API version 2016-04-12), signed with SigV4.</summary>
internal sealed class XRayClient : IXRayClient
{
    public const string ContentType = "application/json";

    // Request URIs from the X-Ray API reference.
    public const string PutTraceSegmentsPath = "/TraceSegments";
    public const string GetSamplingRulesPath = "/GetSamplingRules";
    public const string GetSamplingTargetsPath = "/SamplingTargets";

    private readonly AwsHttpClient _http;

    public XRayClient(AwsHttpClient http) => _http = http;

    public async Task<IReadOnlyList<UnprocessedTraceSegment>> PutTraceSegmentsAsync(IReadOnlyList<string> segmentDocuments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segmentDocuments);
        if (segmentDocuments.Count is 0 or > XRayLimits.MaxSegmentsPerPut)
        {
            throw new ArgumentOutOfRangeException(nameof(segmentDocuments), segmentDocuments.Count, $"PutTraceSegments takes 1 to {XRayLimits.MaxSegmentsPerPut} documents.");
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(new PutTraceSegmentsRequest(segmentDocuments), XRayJsonContext.Default.PutTraceSegmentsRequest);
        var response = await SendAsync("PutTraceSegments", PutTraceSegmentsPath, body, cancellationToken).ConfigureAwait(false);
        var parsed = Parse(response, XRayJsonContext.Default.PutTraceSegmentsResponse, "PutTraceSegments");
        return parsed.UnprocessedTraceSegments ?? [];
    }

    public async Task<SamplingRulesPage> GetSamplingRulesAsync(string? nextToken = null, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new GetSamplingRulesRequest(nextToken), XRayJsonContext.Default.GetSamplingRulesRequest);
        var response = await SendAsync("GetSamplingRules", GetSamplingRulesPath, body, cancellationToken).ConfigureAwait(false);
        var parsed = Parse(response, XRayJsonContext.Default.GetSamplingRulesResponse, "GetSamplingRules");
        return new SamplingRulesPage(parsed.SamplingRuleRecords ?? [], string.IsNullOrEmpty(parsed.NextToken) ? null : parsed.NextToken);
    }

    public async Task<SamplingTargetsResult> GetSamplingTargetsAsync(IReadOnlyList<SamplingStatistics> statistics, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        if (statistics.Count > XRayLimits.MaxStatisticsPerTargets)
        {
            throw new ArgumentOutOfRangeException(nameof(statistics), statistics.Count, $"GetSamplingTargets takes at most {XRayLimits.MaxStatisticsPerTargets} statistics.");
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(new GetSamplingTargetsRequest(statistics), XRayJsonContext.Default.GetSamplingTargetsRequest);
        var response = await SendAsync("GetSamplingTargets", GetSamplingTargetsPath, body, cancellationToken).ConfigureAwait(false);
        var parsed = Parse(response, XRayJsonContext.Default.GetSamplingTargetsResponse, "GetSamplingTargets");
        return new SamplingTargetsResult(parsed.SamplingTargetDocuments ?? [], parsed.LastRuleModification, parsed.UnprocessedStatistics ?? []);
    }

    private static T Parse<T>(AwsResponse response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string operation) =>
        (response.Body.Length == 0 ? default : JsonSerializer.Deserialize(response.Body, type))
        ?? throw new InvalidDataException($"X-Ray {operation} answered no body.");

    private Task<AwsResponse> SendAsync(string operation, string path, byte[] body, CancellationToken cancellationToken) =>
        _http.SendAsync(new AwsRequest(AwsService.XRay, operation, HttpMethod.Post, path, ContentType, body), cancellationToken);
}

internal sealed record PutTraceSegmentsRequest(IReadOnlyList<string> TraceSegmentDocuments);

internal sealed record PutTraceSegmentsResponse(IReadOnlyList<UnprocessedTraceSegment>? UnprocessedTraceSegments);

internal sealed record GetSamplingRulesRequest([property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NextToken);

internal sealed record GetSamplingRulesResponse(IReadOnlyList<SamplingRuleRecord>? SamplingRuleRecords, string? NextToken);

internal sealed record GetSamplingTargetsRequest(IReadOnlyList<SamplingStatistics> SamplingStatisticsDocuments);

internal sealed record GetSamplingTargetsResponse(
    IReadOnlyList<SamplingTarget>? SamplingTargetDocuments,
    [property: JsonConverter(typeof(NullableEpochSecondsConverter))] DateTimeOffset? LastRuleModification,
    IReadOnlyList<UnprocessedStatistics>? UnprocessedStatistics);

[JsonSourceGenerationOptions(MaxDepth = 16)]
[JsonSerializable(typeof(PutTraceSegmentsRequest))]
[JsonSerializable(typeof(PutTraceSegmentsResponse))]
[JsonSerializable(typeof(GetSamplingRulesRequest))]
[JsonSerializable(typeof(GetSamplingRulesResponse))]
[JsonSerializable(typeof(GetSamplingTargetsRequest))]
[JsonSerializable(typeof(GetSamplingTargetsResponse))]
internal sealed partial class XRayJsonContext : JsonSerializerContext;
