using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Kinesis;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Resilience;
using Relay.Aws;
using Relay.Config;
using Relay.Logging;
using Relay.Sampling;

namespace Relay;

/// <summary>
/// The real AWS clients the relay runs with, built once in the composition root: region and
/// credentials from <see cref="RelayIdentity"/> (options or EC2 instance metadata; environment key,
/// SDK chain or IMDSv2 instance role; -r/--role-arn assumed through STS), the Kinesis endpoint from -e (else AWS_ENDPOINT_URL_KINESIS / AWS_ENDPOINT_URL / AWS's own),
/// and X-Ray (proxy sampling only) from AWS_ENDPOINT_URL_XRAY / AWS_ENDPOINT_URL / AWS's own.
/// The clients do not retry: the relay's sender owns retry, backoff and spooling.
/// </summary>
public sealed class RelayClients : IDisposable
{
    private readonly SignedAwsClients _aws;
    private readonly HttpClient _http;

    private RelayClients(SignedAwsClients aws, HttpClient http, ISamplingUpstream? samplingUpstream, RelayIdentity identity)
    {
        _aws = aws;
        _http = http;
        SamplingUpstream = samplingUpstream;
        Identity = identity;
    }

    /// <summary>The region and credentials the clients use, and the credential renewal metrics.</summary>
    public RelayIdentity Identity { get; }

    public IKinesisClient Kinesis => _aws.Kinesis;

    public ISamplingUpstream? SamplingUpstream { get; }

    /// <summary>
    /// Resolves the identity (may ask EC2 instance metadata and STS; failures are
    /// <see cref="AwsIdentityException"/>s) and builds the clients on one pooled HttpClient.
    /// </summary>
    public static async Task<RelayClients> CreateAsync(RelayOptions options, IEnvironment environment, TimeProvider time, JsonLog log)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = AwsSettings.FromEnvironment(environment) with
        {
            Region = options.Region,
            Retry = BackoffOptions.None,
        };
        if (options.Endpoint is { } endpoint)
        {
            var endpoints = new Dictionary<AwsService, Uri>(settings.ServiceEndpointUrls) { [AwsService.Kinesis] = endpoint };
            settings = settings with { ServiceEndpointUrls = endpoints };
        }

        // Keep-alive connections per endpoint: one per PutRecords in flight and one for the
        // occasional ListShards (X-Ray sampling goes to another host, with its own connections).
        var http = AwsHttp.CreateClient(options.MaxInFlight + 1);
        try
        {
            var identity = await RelayIdentity.ResolveAsync(options, environment, settings, http, time, log).ConfigureAwait(false);
            var aws = SignedAwsClients.Create(settings with { Region = identity.Region }, http, time, identity.Credentials);
            return new RelayClients(aws, http, options.SdkSampling == SdkSamplingMode.Proxy ? new XRaySamplingUpstream(aws.XRay) : null, identity);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Identity.Dispose();
        _aws.Dispose();
        _http.Dispose();
    }
}
