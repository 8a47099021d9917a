using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.Runtime;
using RetryPolicy = Pipeline.Aws.Http.RetryPolicy;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;

namespace Pipeline.Aws.Athena;

/// <summary>
/// Amazon Athena over JSON 1.1 (target prefix AmazonAthena, API version 2017-05-18), signed by
/// the shared <see cref="SigV4Signer"/> with the shared retry policy and error mapping.
/// </summary>
internal sealed class AthenaClient : IAthenaClient
{
    public const string ContentType = "application/x-amz-json-1.1";
    public const string TargetPrefix = "AmazonAthena.";
    public const string SigningName = "athena";

    /// <summary>Largest answer read: a 1000-row page of wide rows stays far below this.</summary>
    public const int MaxResponseBytes = 16 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _region;
    private readonly AWSCredentials _credentials;
    private readonly TimeProvider _time;
    private readonly RetryPolicy _retry;
    private readonly SigV4Signer _signer = new();

    public AthenaClient(HttpClient http, Uri endpoint, string region, AWSCredentials credentials, TimeProvider time, RetryPolicy retry)
    {
        _http = http;
        _endpoint = endpoint;
        _region = region;
        _credentials = credentials;
        _time = time;
        _retry = retry;
    }

    public async Task<string> StartQueryExecutionAsync(AthenaQueryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new StartQueryExecutionRequest(
            request.QueryString,
            // Idempotency: a retried attempt sends the same token, so Athena starts one query.
            Guid.NewGuid().ToString("N"),
            request.Database is null ? null : new QueryExecutionContext(request.Database),
            request.OutputLocation is null ? null : new ResultConfiguration(request.OutputLocation),
            request.WorkGroup);
        var response = await SendAsync("StartQueryExecution", JsonSerializer.SerializeToUtf8Bytes(body, AthenaJsonContext.Default.StartQueryExecutionRequest), AthenaJsonContext.Default.StartQueryExecutionResponse, cancellationToken).ConfigureAwait(false);
        return response.QueryExecutionId ?? throw new InvalidDataException("Athena StartQueryExecution answered no QueryExecutionId.");
    }

    public async Task<AthenaQueryExecution> GetQueryExecutionAsync(string queryExecutionId, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new QueryExecutionIdRequest(queryExecutionId), AthenaJsonContext.Default.QueryExecutionIdRequest);
        var response = await SendAsync("GetQueryExecution", body, AthenaJsonContext.Default.GetQueryExecutionResponse, cancellationToken).ConfigureAwait(false);
        var execution = response.QueryExecution ?? throw new InvalidDataException("Athena GetQueryExecution answered no QueryExecution.");
        return new AthenaQueryExecution(
            execution.QueryExecutionId ?? queryExecutionId,
            ParseState(execution.Status?.State),
            execution.Status?.StateChangeReason,
            execution.Statistics?.DataScannedInBytes);
    }

    public async Task<AthenaResultPage> GetQueryResultsAsync(string queryExecutionId, string? nextToken, int maxResults = AthenaLimits.MaxResultsPerPage, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxResults);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxResults, AthenaLimits.MaxResultsPerPage);
        var body = JsonSerializer.SerializeToUtf8Bytes(new GetQueryResultsRequest(queryExecutionId, nextToken, maxResults), AthenaJsonContext.Default.GetQueryResultsRequest);
        var response = await SendAsync("GetQueryResults", body, AthenaJsonContext.Default.GetQueryResultsResponse, cancellationToken).ConfigureAwait(false);
        var columns = response.ResultSet?.ResultSetMetadata?.ColumnInfo?.Select(c => c.Name ?? c.Label ?? string.Empty).ToList() ?? [];
        var rows = response.ResultSet?.Rows?
            .Select(r => (IReadOnlyList<string?>)(r.Data?.Select(d => d.VarCharValue).ToList() ?? []))
            .ToList() ?? [];
        return new AthenaResultPage(columns, rows, string.IsNullOrEmpty(response.NextToken) ? null : response.NextToken);
    }

    private static AthenaQueryState ParseState(string? state) => state switch
    {
        "QUEUED" => AthenaQueryState.Queued,
        "RUNNING" => AthenaQueryState.Running,
        "SUCCEEDED" => AthenaQueryState.Succeeded,
        "FAILED" => AthenaQueryState.Failed,
        "CANCELLED" => AthenaQueryState.Cancelled,
        _ => throw new InvalidDataException($"Athena answered an unknown query state '{state}'."),
    };

    private async Task<T> SendAsync<T>(string operation, byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var answer = await SendOnceAsync(operation, body, cancellationToken).ConfigureAwait(false);
                return (answer.Length == 0 ? default : JsonSerializer.Deserialize(answer, type))
                    ?? throw new InvalidDataException($"Athena {operation} answered no body.");
            }
            catch (Exception ex) when (attempt < _retry.MaxAttempts && RetryPolicy.IsRetryable(ex, cancellationToken))
            {
                await Task.Delay(_retry.DelayFor(attempt), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<byte[]> SendOnceAsync(string operation, byte[] body, CancellationToken cancellationToken)
    {
        var root = new Uri(_endpoint.GetLeftPart(UriPartial.Authority) + "/");
        var path = _endpoint.AbsolutePath.TrimEnd('/') + "/";
        var headers = new List<KeyValuePair<string, string>>(2)
        {
            new("Content-Type", ContentType),
            new("X-Amz-Target", TargetPrefix + operation),
        };
        var credentials = await _credentials.GetCredentialsAsync().ConfigureAwait(false);
        var signed = _signer.Sign(root, path, HttpMethod.Post.Method, headers, body, SigningName, _region, credentials, _time.GetUtcNow());

        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(root, path));
        var content = new ByteArrayContent(body);
        message.Content = content;
        foreach (var (name, value) in signed)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                content.Headers.TryAddWithoutValidation(name, value); // exactly as signed, no charset
            }
            else if (name.Equals("host", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.Host = value;
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength is > MaxResponseBytes)
        {
            throw new InvalidDataException($"Athena {operation} answer exceeds {MaxResponseBytes} bytes.");
        }

        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (answer.Length > MaxResponseBytes)
        {
            throw new InvalidDataException($"Athena {operation} answer exceeds {MaxResponseBytes} bytes.");
        }

        if (response.IsSuccessStatusCode)
        {
            return answer;
        }

        var requestId = response.Headers.TryGetValues(AwsErrorMapper.RequestIdHeader, out var ids) ? ids.FirstOrDefault() : null;
        var errorType = response.Headers.TryGetValues(AwsErrorMapper.ErrorTypeHeader, out var types) ? types.FirstOrDefault() : null;
        throw AwsErrorMapper.Map(SigningName, response.StatusCode, errorType, requestId, answer);
    }
}

/// <summary>Builds the Athena client from the shared settings (the composition root's entry point).</summary>
public static class AthenaClientFactory
{
    /// <param name="httpClient">The executable's one pooled HttpClient (not disposed here).</param>
    public static IAthenaClient Create(AwsSettings settings, HttpClient httpClient, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new AthenaClient(
            httpClient,
            settings.ResolveEndpoint(AwsService.Athena),
            settings.Region,
            AwsHttpClient.CredentialsFor(settings),
            timeProvider ?? TimeProvider.System,
            new RetryPolicy(settings.Retry));
    }
}

internal sealed record StartQueryExecutionRequest(
    string QueryString,
    string ClientRequestToken,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] QueryExecutionContext? QueryExecutionContext,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ResultConfiguration? ResultConfiguration,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? WorkGroup);

internal sealed record QueryExecutionContext(string Database);

internal sealed record ResultConfiguration(string OutputLocation);

internal sealed record StartQueryExecutionResponse(string? QueryExecutionId);

internal sealed record QueryExecutionIdRequest(string QueryExecutionId);

internal sealed record GetQueryExecutionResponse(QueryExecutionWire? QueryExecution);

internal sealed record QueryExecutionWire(string? QueryExecutionId, QueryExecutionStatusWire? Status, QueryExecutionStatisticsWire? Statistics);

internal sealed record QueryExecutionStatusWire(string? State, string? StateChangeReason);

internal sealed record QueryExecutionStatisticsWire(long? DataScannedInBytes);

internal sealed record GetQueryResultsRequest(
    string QueryExecutionId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NextToken,
    int MaxResults);

internal sealed record GetQueryResultsResponse(ResultSetWire? ResultSet, string? NextToken);

internal sealed record ResultSetWire(IReadOnlyList<RowWire>? Rows, ResultSetMetadataWire? ResultSetMetadata);

internal sealed record RowWire(IReadOnlyList<DatumWire>? Data);

internal sealed record DatumWire(string? VarCharValue);

internal sealed record ResultSetMetadataWire(IReadOnlyList<ColumnInfoWire>? ColumnInfo);

internal sealed record ColumnInfoWire(string? Name, string? Label, string? Type);

[JsonSourceGenerationOptions(MaxDepth = 16)]
[JsonSerializable(typeof(StartQueryExecutionRequest))]
[JsonSerializable(typeof(StartQueryExecutionResponse))]
[JsonSerializable(typeof(QueryExecutionIdRequest))]
[JsonSerializable(typeof(GetQueryExecutionResponse))]
[JsonSerializable(typeof(GetQueryResultsRequest))]
[JsonSerializable(typeof(GetQueryResultsResponse))]
internal sealed partial class AthenaJsonContext : JsonSerializerContext;
