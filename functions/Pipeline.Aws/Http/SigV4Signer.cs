using System.Globalization;
using System.Runtime.InteropServices;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;

namespace Pipeline.Aws.Http;

/// <summary>
/// Signs a request with the SDK's <see cref="AWS4Signer"/> and returns the headers to send.
/// Moto routes requests by the credential scope of the Authorization header, so every request
/// is signed even against a local endpoint.
/// </summary>
internal sealed class SigV4Signer
{
    public const string SecurityTokenHeader = "X-Amz-Security-Token";
    public const string AuthorizationHeader = "Authorization";
    private readonly AWS4Signer _signer = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string SigningName, string Region), SigningConfig> _configs = new();

    /// <summary>
    /// The headers of the signed request, including Host, X-Amz-Date, X-Amz-Content-SHA256,
    /// the given <paramref name="headers"/>, the session token when there is one, and Authorization.
    /// The body is hashed where it lies: the SDK's signer reads it through a read-only stream over the
    /// caller's (pooled) array instead of being handed a copy as <c>Content</c>.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Sign(
        Uri endpoint,
        string path,
        string method,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        ReadOnlyMemory<byte> body,
        string signingName,
        string region,
        ImmutableCredentials credentials,
        DateTimeOffset signedAt)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        using var request = new DefaultRequest(SignedCall.Instance, signingName)
        {
            HttpMethod = method,
            Endpoint = endpoint,
            ResourcePath = path,
            AuthenticationRegion = region,
            OverrideSigningServiceName = signingName,
        };
        foreach (var (name, value) in headers)
        {
            request.Headers[name] = value;
        }

        using var content = AsStream(body);
        request.ContentStream = content;

        if (credentials.UseToken)
        {
            request.Headers[SecurityTokenHeader] = credentials.Token;
        }

        var config = _configs.GetOrAdd((signingName, region), static key => new SigningConfig(key.SigningName, key.Region));
        var result = _signer.SignRequest(request, config, metrics: null, credentials.AccessKey, credentials.SecretKey, signedAt.UtcDateTime);
        var signed = new List<KeyValuePair<string, string>>(request.Headers.Count + 1);
        signed.AddRange(request.Headers);
        signed.Add(new(AuthorizationHeader, result.ForAuthorizationHeader));
        return signed;
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);

    // DefaultRequest wants the SDK request object it was made from; ours has none.
    private sealed class SignedCall : AmazonWebServiceRequest
    {
        public static readonly SignedCall Instance = new();
    }

    // The signer reads the signing service and region from a client config; nothing else of it.
    private sealed class SigningConfig : ClientConfig
    {
        public SigningConfig(string signingName, string region)
            : base(null)
        {
            AuthenticationServiceName = signingName;
            AuthenticationRegion = region;
        }

        public override string ServiceVersion => "1";

        public override string UserAgent => "pipeline-aws";

        public override string RegionEndpointServiceName => AuthenticationServiceName;

        public override Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(Amazon.Runtime.Endpoints.ServiceOperationEndpointParameters parameters) =>
            throw new NotSupportedException("Endpoints are resolved by AwsSettings.");
    }
}
