using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Pipeline.Lambda;

/// <summary>
/// Wire facts of the Lambda Runtime API.
/// Source: AWS Lambda developer guide, "Using the Lambda runtime API for custom runtimes".
/// </summary>
public static class RuntimeApiProtocol
{
    public const string Version = "2018-06-01";

    public const string RequestIdHeader = "Lambda-Runtime-Aws-Request-Id";

    /// <summary>Unix epoch milliseconds.</summary>
    public const string DeadlineHeader = "Lambda-Runtime-Deadline-Ms";

    public const string InvokedFunctionArnHeader = "Lambda-Runtime-Invoked-Function-Arn";

    public const string TraceIdHeader = "Lambda-Runtime-Trace-Id";

    /// <summary>Sent with error posts; Lambda accepts any string and recommends <c>Category.Reason</c>.</summary>
    public const string FunctionErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";

    /// <summary>
    /// Bigger than any event Lambda delivers (6 MB synchronous invoke payload), so an event is
    /// never cut, but a broken endpoint cannot make us buffer without bound.
    /// </summary>
    public const long MaxEventBytes = 16L * 1024 * 1024;
}

/// <summary>The Runtime API over HTTP. The HttpClient must have no timeout: <c>/next</c> long-polls.</summary>
public sealed class RuntimeApiClient : IRuntimeApiClient
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    private readonly HttpClient _http;
    private readonly Uri _nextUri;
    private readonly Uri _initErrorUri;
    private readonly string _invocationBase;

    /// <param name="http">Shared client; its Timeout should be infinite.</param>
    /// <param name="runtimeApi">The AWS_LAMBDA_RUNTIME_API value, <c>host:port</c>.</param>
    public RuntimeApiClient(HttpClient http, string runtimeApi)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentException.ThrowIfNullOrWhiteSpace(runtimeApi);
        if (!Uri.TryCreate($"http://{runtimeApi}/{RuntimeApiProtocol.Version}/runtime/", UriKind.Absolute, out var baseUri)
            || baseUri.Authority.Length == 0
            || !string.Equals(baseUri.AbsolutePath, $"/{RuntimeApiProtocol.Version}/runtime/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{runtimeApi}' is not a host:port address.", nameof(runtimeApi));
        }

        _http = http;
        _nextUri = new Uri(baseUri, "invocation/next");
        _initErrorUri = new Uri(baseUri, "init/error");
        _invocationBase = baseUri.AbsoluteUri + "invocation/";
    }

    public async Task<Invocation> GetNextInvocationAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _nextUri);
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureStatusAsync(response, "invocation/next", cancellationToken).ConfigureAwait(false);
            var requestId = Header(response, RuntimeApiProtocol.RequestIdHeader);
            if (string.IsNullOrEmpty(requestId))
            {
                throw new RuntimeApiException($"invocation/next answered without {RuntimeApiProtocol.RequestIdHeader}.");
            }

            var deadlineText = Header(response, RuntimeApiProtocol.DeadlineHeader);
            if (!long.TryParse(deadlineText, NumberStyles.None, CultureInfo.InvariantCulture, out var deadlineMs))
            {
                throw new RuntimeApiException($"invocation/next answered with {RuntimeApiProtocol.DeadlineHeader} '{deadlineText}', not epoch milliseconds.");
            }

            await response.Content.LoadIntoBufferAsync(RuntimeApiProtocol.MaxEventBytes, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new Invocation(
                requestId,
                DateTimeOffset.FromUnixTimeMilliseconds(deadlineMs),
                Header(response, RuntimeApiProtocol.InvokedFunctionArnHeader),
                Header(response, RuntimeApiProtocol.TraceIdHeader),
                body,
                response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task SendResponseAsync(string requestId, Stream response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        using var content = new StreamContent(response);
        await PostAsync(InvocationUri(requestId, "response"), content, errorType: null, cancellationToken).ConfigureAwait(false);
    }

    public async Task SendErrorAsync(string requestId, LambdaError lambdaError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lambdaError);
        using var content = ErrorContent(lambdaError);
        await PostAsync(InvocationUri(requestId, "error"), content, lambdaError.ErrorType, cancellationToken).ConfigureAwait(false);
    }

    public async Task SendInitErrorAsync(LambdaError lambdaError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lambdaError);
        using var content = ErrorContent(lambdaError);
        await PostAsync(_initErrorUri, content, lambdaError.ErrorType, cancellationToken).ConfigureAwait(false);
    }

    private Uri InvocationUri(string requestId, string action)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        return new Uri(_invocationBase + Uri.EscapeDataString(requestId) + "/" + action);
    }

    private static ByteArrayContent ErrorContent(LambdaError error)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(error, LambdaJsonContext.Default.LambdaError));
        content.Headers.ContentType = JsonMediaType;
        return content;
    }

    private async Task PostAsync(Uri uri, HttpContent content, string? errorType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        if (errorType is not null)
        {
            request.Headers.TryAddWithoutValidation(RuntimeApiProtocol.FunctionErrorTypeHeader, errorType);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureStatusAsync(response, uri.AbsolutePath, cancellationToken).ConfigureAwait(false);
    }

    private static async Task EnsureStatusAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        const int MaxDetailChars = 1024;
        var detail = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (detail.Length > MaxDetailChars)
        {
            detail = detail[..MaxDetailChars];
        }

        throw new RuntimeApiException(
            $"Runtime API {what} answered {(int)response.StatusCode} {response.ReasonPhrase}: {detail}",
            (int)response.StatusCode);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
