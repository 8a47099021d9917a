using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Aws.Sts;

namespace Relay.Aws;

/// <summary>
/// EC2 instance metadata over IMDSv2 only: a session token from <c>PUT /latest/api/token</c>,
/// then GETs that carry it. It gives the relay its region (the instance identity document, else
/// <c>placement/region</c>) and the instance role's credentials when no other source is configured.
/// IMDSv1 (GETs without a token) is never tried: instances with <c>HttpTokens=required</c> refuse
/// it, and the daemon's v1 fallback is what broke there. Every request is bounded in time
/// (<see cref="DefaultAttemptTimeout"/> per attempt, <see cref="DefaultAttempts"/> attempts) and
/// size (<see cref="MaxAnswerBytes"/>). Hand-written over the relay's one HttpClient so that the
/// Native AOT image carries no AWSSDK metadata client.
/// </summary>
public sealed class InstanceMetadataClient : IDisposable
{
    /// <summary>Where IMDS answers on every EC2 instance (IPv4 link-local).</summary>
    public static readonly Uri DefaultEndpoint = new("http://169.254.169.254/");

    /// <summary>The SDKs' override of the metadata endpoint (tests point it at a loopback stub).</summary>
    public const string EndpointVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT";

    /// <summary>The SDKs' switch that turns instance metadata off (the relay then needs -n/--region).</summary>
    public const string DisabledVariable = "AWS_EC2_METADATA_DISABLED";

    // IMDSv2 wire facts (EC2 user guide, "Use IMDSv2"): the token request header and its TTL
    // bound (1 s to 6 h), and the header every later request carries.
    public const string TokenPath = "latest/api/token";
    public const string TokenTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
    public const string TokenHeader = "X-aws-ec2-metadata-token";
    public static readonly TimeSpan TokenTtl = TimeSpan.FromHours(6);

    public const string IdentityDocumentPath = "latest/dynamic/instance-identity/document";
    public const string PlacementRegionPath = "latest/meta-data/placement/region";
    public const string SecurityCredentialsPath = "latest/meta-data/iam/security-credentials/";

    /// <summary>IMDS answers in microseconds on the instance; the SDKs wait 1 s per attempt.</summary>
    public static readonly TimeSpan DefaultAttemptTimeout = TimeSpan.FromSeconds(1);

    public const int DefaultAttempts = 3;

    /// <summary>The largest answer read (identity documents and credentials are well under 2 KiB).</summary>
    public const int MaxAnswerBytes = 64 * 1024;

    /// <summary>A token this close to its end is renewed before use.</summary>
    private static readonly TimeSpan TokenRenewMargin = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly TimeSpan _attemptTimeout;
    private readonly int _attempts;
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private (string Value, DateTimeOffset Expires)? _token;

    public InstanceMetadataClient(HttpClient http, Uri endpoint, TimeProvider time, TimeSpan? attemptTimeout = null, int attempts = DefaultAttempts)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        _http = http;
        Endpoint = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        _time = time;
        _attemptTimeout = attemptTimeout ?? DefaultAttemptTimeout;
        _attempts = attempts;
    }

    public Uri Endpoint { get; }

    public void Dispose() => _tokenLock.Dispose();

    /// <summary>Tokens fetched so far (a 401 on a GET fetches a new one).</summary>
    public int TokensFetched { get; private set; }

    /// <summary>
    /// <see cref="EndpointVariable"/> as an absolute http(s) URL, else <see cref="DefaultEndpoint"/>;
    /// anything else throws an <see cref="AwsIdentityException"/> naming the variable.
    /// </summary>
    public static Uri ResolveEndpoint(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return DefaultEndpoint;
        }

        if (Uri.TryCreate(configured.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        throw new AwsIdentityException($"{EndpointVariable}: '{configured}' is not an absolute http(s) URL");
    }

    /// <summary>
    /// The instance's region: <c>region</c> of the identity document, else (document missing)
    /// <c>placement/region</c>. Throws <see cref="AwsIdentityException"/> when neither answers a region.
    /// </summary>
    public async Task<string> GetRegionAsync(CancellationToken cancellationToken = default)
    {
        var document = await GetAsync(IdentityDocumentPath, allowNotFound: true, cancellationToken).ConfigureAwait(false);
        if (document is not null)
        {
            var region = ReadJsonString(document, "region", IdentityDocumentPath);
            return ValidRegion(region, IdentityDocumentPath);
        }

        var placement = await GetAsync(PlacementRegionPath, allowNotFound: true, cancellationToken).ConfigureAwait(false)
            ?? throw new AwsIdentityException($"EC2 instance metadata at {Endpoint} has neither {IdentityDocumentPath} nor {PlacementRegionPath}: pass -n/--region");
        return ValidRegion(Encoding.UTF8.GetString(placement).Trim(), PlacementRegionPath);
    }

    /// <summary>
    /// The instance role's current credentials (<c>iam/security-credentials/&lt;role&gt;</c>).
    /// No role attached, a <c>Code</c> other than Success, or a missing field throws
    /// <see cref="AwsIdentityException"/>.
    /// </summary>
    public async Task<TemporaryCredentials> GetRoleCredentialsAsync(CancellationToken cancellationToken = default)
    {
        var roles = await GetAsync(SecurityCredentialsPath, allowNotFound: true, cancellationToken).ConfigureAwait(false);
        var role = roles is null
            ? null
            : Encoding.UTF8.GetString(roles).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (role is null)
        {
            throw new AwsIdentityException($"EC2 instance metadata at {Endpoint} lists no IAM role: attach an instance profile, or give the relay credentials another way (IRSA, AWS_ACCESS_KEY_ID)");
        }

        if (role.Contains('/', StringComparison.Ordinal) || role.Contains("..", StringComparison.Ordinal))
        {
            throw new AwsIdentityException($"EC2 instance metadata at {Endpoint} answered a role name that is not one: '{Excerpt(role)}'");
        }

        var path = SecurityCredentialsPath + Uri.EscapeDataString(role);
        var body = await GetAsync(path, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        return ParseRoleCredentials(body!, path);
    }

    /// <summary>The JSON IMDS answers for a role: Code, AccessKeyId, SecretAccessKey, Token, Expiration.</summary>
    internal static TemporaryCredentials ParseRoleCredentials(byte[] body, string path)
    {
        string? code = null, keyId = null, secret = null, token = null, expiration = null;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 4 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new AwsIdentityException($"EC2 instance metadata {path} answered something that is not a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                switch (name)
                {
                    case "Code": code = value; break;
                    case "AccessKeyId": keyId = value; break;
                    case "SecretAccessKey": secret = value; break;
                    case "Token": token = value; break;
                    case "Expiration": expiration = value; break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new AwsIdentityException($"EC2 instance metadata {path} answered JSON that does not parse: {e.Message}", e);
        }

        if (code is not null && code != "Success")
        {
            throw new AwsIdentityException($"EC2 instance metadata {path} answered Code '{Excerpt(code)}' instead of Success (the instance role's credentials are not available)");
        }

        if (keyId is not { Length: > 0 } || secret is not { Length: > 0 } || token is not { Length: > 0 })
        {
            throw new AwsIdentityException($"EC2 instance metadata {path} answered credentials without AccessKeyId, SecretAccessKey or Token");
        }

        if (!DateTimeOffset.TryParse(expiration, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var expires))
        {
            throw new AwsIdentityException($"EC2 instance metadata {path} answered an Expiration that is not a time: '{Excerpt(expiration ?? "")}'");
        }

        return new TemporaryCredentials(keyId, secret, token, expires);
    }

    private static string ReadJsonString(byte[] body, string property, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(property, out var value)
                && value.ValueKind == JsonValueKind.String)
            {
                return value.GetString()!;
            }
        }
        catch (JsonException e)
        {
            throw new AwsIdentityException($"EC2 instance metadata {path} answered JSON that does not parse: {e.Message}", e);
        }

        throw new AwsIdentityException($"EC2 instance metadata {path} has no \"{property}\"");
    }

    // Region names are lower-case letters, digits and dashes (us-east-1, cn-north-1, us-gov-west-1).
    private static string ValidRegion(string region, string path) =>
        region.Length is > 0 and <= 32 && region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            ? region
            : throw new AwsIdentityException($"EC2 instance metadata {path} answered a region that is not one: '{Excerpt(region)}'");

    /// <summary>One GET with the session token; a 401 (token expired or revoked) fetches a new token and asks once more.</summary>
    private async Task<byte[]?> GetAsync(string path, bool allowNotFound, CancellationToken cancellationToken)
    {
        for (var renewed = false; ; renewed = true)
        {
            var token = await TokenAsync(forceNew: renewed, cancellationToken).ConfigureAwait(false);
            var (status, body) = await SendAsync(HttpMethod.Get, path, new(TokenHeader, token), cancellationToken).ConfigureAwait(false);
            switch (status)
            {
                case HttpStatusCode.OK:
                    return body;
                case HttpStatusCode.NotFound when allowNotFound:
                    return null;
                case HttpStatusCode.Unauthorized when !renewed:
                    continue;
                case HttpStatusCode.Unauthorized:
                    throw new AwsIdentityException($"EC2 instance metadata at {Endpoint} refused GET /{path} with 401 even with a new IMDSv2 token");
                default:
                    throw new AwsIdentityException($"EC2 instance metadata at {Endpoint} answered GET /{path} with {(int)status}: {Excerpt(Encoding.UTF8.GetString(body))}");
            }
        }
    }

    private async Task<string> TokenAsync(bool forceNew, CancellationToken cancellationToken)
    {
        await _tokenLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!forceNew && _token is { } cached && _time.GetUtcNow() < cached.Expires - TokenRenewMargin)
            {
                return cached.Value;
            }

            _token = null;
            var asked = _time.GetUtcNow();
            var ttl = ((long)TokenTtl.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            var (status, body) = await SendAsync(HttpMethod.Put, TokenPath, new(TokenTtlHeader, ttl), cancellationToken).ConfigureAwait(false);
            var text = Encoding.UTF8.GetString(body).Trim();
            if (status != HttpStatusCode.OK)
            {
                var hint = status switch
                {
                    HttpStatusCode.Forbidden => " (instance metadata is turned off for this instance, or the request was forwarded: pass -o/--local-mode with -n/--region off EC2)",
                    HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed => " (this endpoint does not serve IMDSv2 tokens; the relay does not fall back to IMDSv1)",
                    _ => "",
                };
                throw new AwsIdentityException($"EC2 instance metadata at {Endpoint} refused an IMDSv2 token: PUT /{TokenPath} answered {(int)status}{hint}: {Excerpt(text)}");
            }

            if (text.Length == 0 || text.Length > 1024 || text.Any(char.IsControl))
            {
                throw new AwsIdentityException($"EC2 instance metadata at {Endpoint} answered PUT /{TokenPath} with something that is not a token");
            }

            TokensFetched++;
            _token = (text, asked + TokenTtl);
            return text;
        }
        finally
        {
            _tokenLock.Release();
        }
    }

    private async Task<(HttpStatusCode Status, byte[] Body)> SendAsync(HttpMethod method, string path, KeyValuePair<string, string> header, CancellationToken cancellationToken)
    {
        var uri = new Uri(Endpoint, path);
        Exception? last = null;
        for (var attempt = 1; attempt <= _attempts; attempt++)
        {
            if (attempt > 1)
            {
                await Task.Delay(RetryDelay * (attempt - 1), _time, cancellationToken).ConfigureAwait(false);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_attemptTimeout);
            try
            {
                using var request = new HttpRequestMessage(method, uri);
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                var body = await ReadBoundedAsync(response.Content, timeout.Token).ConfigureAwait(false);
                if ((int)response.StatusCode >= 500 && attempt < _attempts)
                {
                    last = new AwsIdentityException($"{(int)response.StatusCode}");
                    continue;
                }

                return (response.StatusCode, body);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                last = new TimeoutException($"no answer within {_attemptTimeout.TotalMilliseconds:0} ms");
            }
            catch (HttpRequestException e)
            {
                last = e;
            }
        }

        var hop = method == HttpMethod.Put
            ? " (on EC2 in a container, the token answer needs the instance's HttpPutResponseHopLimit >= 2; off EC2 pass -o/--local-mode with -n/--region)"
            : "";
        throw new AwsIdentityException($"EC2 instance metadata at {Endpoint} did not answer {method} /{path} after {_attempts} attempts{hop}: {last?.Message}", last!);
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is > MaxAnswerBytes)
        {
            throw new AwsIdentityException($"EC2 instance metadata answered {content.Headers.ContentLength} bytes, over the {MaxAnswerBytes}-byte limit");
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = ArrayPool<byte>.Shared.Rent(MaxAnswerBytes + 1);
            try
            {
                var total = 0;
                int read;
                while ((read = await stream.ReadAsync(buffer.AsMemory(total, MaxAnswerBytes + 1 - total), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                    if (total > MaxAnswerBytes)
                    {
                        throw new AwsIdentityException($"EC2 instance metadata answered over the {MaxAnswerBytes}-byte limit");
                    }
                }

                return buffer.AsSpan(0, total).ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static string Excerpt(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
