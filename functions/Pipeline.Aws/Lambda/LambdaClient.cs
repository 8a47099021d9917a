using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws.Lambda;

/// <summary>
/// AWS Lambda over rest-json (API version 2015-03-31), signed as "lambda" through the shared
/// <see cref="AwsHttpClient"/>. Invoke goes through a sender of its own: an HttpClient whose
/// attempt timeout covers the function's run and no retry, because a retried synchronous invoke
/// runs the function twice.
/// </summary>
internal sealed class LambdaClient : ILambdaClient
{
    public const string ApiVersion = "2015-03-31";

    public const string FunctionErrorHeader = "X-Amz-Function-Error";
    public const string ExecutedVersionHeader = "X-Amz-Executed-Version";

    /// <summary>Lambda's error for an unknown function or mapping (HTTP 404).</summary>
    public const string ResourceNotFoundCode = "ResourceNotFoundException";

    private const string JsonContentType = "application/json";

    private readonly AwsHttpClient _calls;
    private readonly AwsHttpClient _invokes;

    public LambdaClient(AwsHttpClient calls, AwsHttpClient invokes)
    {
        _calls = calls;
        _invokes = invokes;
    }

    public async Task<LambdaInvokeResult> InvokeAsync(string functionName, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(functionName);
        var request = new AwsRequest(
            AwsService.Lambda, "Invoke", HttpMethod.Post, $"/{ApiVersion}/functions/{Segment(functionName)}/invocations", JsonContentType, payload)
        {
            ResponseHeaders = [FunctionErrorHeader, ExecutedVersionHeader],
        };
        var response = await _invokes.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return new LambdaInvokeResult((int)response.StatusCode, response.Header(FunctionErrorHeader), response.Body, response.Header(ExecutedVersionHeader));
    }

    public async Task<EventSourceMappingDescription?> GetEventSourceMappingAsync(string uuid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uuid);
        AwsResponse response;
        try
        {
            response = await _calls.SendAsync(
                new AwsRequest(AwsService.Lambda, "GetEventSourceMapping", HttpMethod.Get, $"/{ApiVersion}/event-source-mappings/{Segment(uuid)}", JsonContentType, ReadOnlyMemory<byte>.Empty),
                cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException e) when (e.ErrorCode == ResourceNotFoundCode)
        {
            return null;
        }

        MappingResponse? mapping;
        try
        {
            mapping = JsonSerializer.Deserialize(response.Body, LambdaJsonContext.Default.MappingResponse);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Lambda GetEventSourceMapping answered a body that is not its JSON: {e.Message}", e);
        }

        if (mapping?.State is not { } state)
        {
            throw new InvalidDataException("Lambda GetEventSourceMapping answered no State.");
        }

        return new EventSourceMappingDescription(
            mapping.Uuid ?? uuid, state, mapping.EventSourceArn, mapping.FunctionArn, mapping.LastProcessingResult, mapping.StateTransitionReason);
    }

    // Function names ([A-Za-z0-9-_], or name:alias) and UUIDs need no escaping; anything else is
    // refused rather than escaped, because SigV4 signs a doubly-encoded path for non-S3 services.
    private static string Segment(string value)
    {
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or ':' or '.'))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"'{value}' is not a Lambda function name or mapping id (character '{c}')."), nameof(value));
            }
        }

        return value;
    }

    internal sealed record MappingResponse(
        [property: JsonPropertyName("UUID")] string? Uuid,
        string? State,
        string? EventSourceArn,
        string? FunctionArn,
        string? LastProcessingResult,
        string? StateTransitionReason);
}

[JsonSourceGenerationOptions(MaxDepth = 16)]
[JsonSerializable(typeof(LambdaClient.MappingResponse))]
internal sealed partial class LambdaJsonContext : JsonSerializerContext;

/// <summary>Builds the Lambda client from the shared settings (the composition root's entry point).</summary>
public static class LambdaClientFactory
{
    /// <param name="httpClient">The executable's one pooled HttpClient, for every call but Invoke (not disposed here).</param>
    /// <param name="invokeHttpClient">The HttpClient for Invoke: its timeout must cover the function's (template.yaml's longest is 900 s).</param>
    public static ILambdaClient Create(AwsSettings settings, HttpClient httpClient, HttpClient invokeHttpClient, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var time = timeProvider ?? TimeProvider.System;
        var credentials = AwsHttpClient.CredentialsFor(settings);
        return new LambdaClient(
            new AwsHttpClient(httpClient, settings, credentials, time, new Backoff(settings.Retry)),
            new AwsHttpClient(invokeHttpClient, settings, credentials, time, new Backoff(BackoffOptions.None)));
    }
}
