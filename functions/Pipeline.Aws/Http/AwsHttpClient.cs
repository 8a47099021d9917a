using System.Buffers;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Pipeline.Aws.Configuration;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws.Http;

/// <summary>
/// Sends <see cref="AwsRequest"/>s: resolves the endpoint, signs each attempt afresh, retries
/// retryable failures with the one <see cref="Backoff"/> policy on the injected <see cref="TimeProvider"/>, and turns
/// error answers into typed <see cref="AwsServiceException"/>s.
/// </summary>
internal sealed class AwsHttpClient
{
    /// <summary>Bound on an answer read into memory (<see cref="AwsHttp.MaxResponseBytes"/>).</summary>
    public const int MaxResponseBytes = AwsHttp.MaxResponseBytes;

    private readonly HttpClient _http;
    private readonly AwsSettings _settings;
    private readonly AWSCredentials _credentials;
    private readonly TimeProvider _time;
    private readonly Backoff _retry;
    private readonly SigV4Signer _signer = new();

    public AwsHttpClient(HttpClient http, AwsSettings settings, AWSCredentials credentials, TimeProvider time, Backoff retry)
    {
        _http = http;
        _settings = settings;
        _credentials = credentials;
        _time = time;
        _retry = retry;
    }

    public AwsSettings Settings => _settings;

    /// <summary>Explicit key pair from the settings, else the SDK's default chain (resolved on first use).</summary>
    public static AWSCredentials CredentialsFor(AwsSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.AccessKeyId is not null && settings.SecretAccessKey is not null)
        {
            return settings.SessionToken is null
                ? new BasicAWSCredentials(settings.AccessKeyId, settings.SecretAccessKey)
                : new SessionAWSCredentials(settings.AccessKeyId, settings.SecretAccessKey, settings.SessionToken);
        }

        return new DefaultChainCredentials();
    }

    public Task<AwsResponse> SendAsync(AwsRequest request, CancellationToken cancellationToken) =>
        _retry.RunAsync(
            AwsServiceInfo.Of(request.Service).SigningName + "." + request.Operation,
            (_, ct) => SendOnceAsync(request, ct),
            ex => AwsErrorMapper.IsRetryable(ex, cancellationToken),
            _time,
            cancellationToken);

    private async Task<AwsResponse> SendOnceAsync(AwsRequest request, CancellationToken cancellationToken)
    {
        var info = AwsServiceInfo.Of(request.Service);
        var endpoint = _settings.ResolveEndpoint(request.Service);
        var root = new Uri(endpoint.GetLeftPart(UriPartial.Authority) + "/");
        var path = endpoint.AbsolutePath.TrimEnd('/') + request.Path;
        var body = request.Body;

        var headers = new List<KeyValuePair<string, string>>(2) { new("Content-Type", request.ContentType) };
        if (request.Target is not null)
        {
            headers.Add(new("X-Amz-Target", request.Target));
        }

        var credentials = await _credentials.GetCredentialsAsync().ConfigureAwait(false);
        var signed = _signer.Sign(root, path, request.Method.Method, headers, body, info.SigningName, _settings.Region, credentials, _time.GetUtcNow());

        using var message = new HttpRequestMessage(request.Method, new Uri(root, path));
        // The caller's (possibly pooled) bytes go on the wire as they are: no copy per attempt.
        var content = new ReadOnlyMemoryContent(body);
        message.Content = content;
        foreach (var (name, value) in signed)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                // Exactly the signed value: no charset may be appended (moto and Kinesis are strict).
                content.Headers.TryAddWithoutValidation(name, value);
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
        var responseBody = await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false);
        var requestId = HeaderValue(response, AwsErrorMapper.RequestIdHeader) ?? HeaderValue(response, AwsErrorMapper.AlternateRequestIdHeader);
        if (response.IsSuccessStatusCode)
        {
            return new AwsResponse(response.StatusCode, responseBody, requestId) { Headers = KeptHeaders(response, request.ResponseHeaders) };
        }

        throw AwsErrorMapper.Map(info.SigningName, response.StatusCode, HeaderValue(response, AwsErrorMapper.ErrorTypeHeader), requestId, responseBody);
    }

    private static Dictionary<string, string> KeptHeaders(HttpResponseMessage response, IReadOnlyList<string>? names)
    {
        var kept = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in names ?? [])
        {
            if (HeaderValue(response, name) is { } value)
            {
                kept[name] = value;
            }
        }

        return kept;
    }

    private static string? HeaderValue(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is > MaxResponseBytes)
        {
            throw new InvalidDataException($"AWS response of {content.Headers.ContentLength} bytes exceeds the {MaxResponseBytes}-byte limit.");
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream(content.Headers.ContentLength is { } length ? (int)length : 4096);
            var chunk = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > MaxResponseBytes)
                    {
                        throw new InvalidDataException($"AWS response exceeds the {MaxResponseBytes}-byte limit.");
                    }

                    buffer.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            return buffer.ToArray();
        }
    }

    // The SDK's default chain (env, profile, web identity/IRSA, container, IMDS), resolved when
    // first needed so that building the clients never touches the network.
    private sealed class DefaultChainCredentials : AWSCredentials
    {
        private readonly Lazy<AWSCredentials> _resolved = new(() => new DefaultAWSCredentialsIdentityResolver().ResolveIdentity(null));

        public override ImmutableCredentials GetCredentials() => _resolved.Value.GetCredentials();

        public override Task<ImmutableCredentials> GetCredentialsAsync() => _resolved.Value.GetCredentialsAsync();
    }
}
