using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Kinesis;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Resilience;
using Relay.Config;
using Relay.Sampling;

namespace Relay;

/// <summary>
/// The real AWS clients the relay runs with, built once in the composition root: credentials from
/// the SDK's default chain (IRSA, instance role, environment), region from the relay's options,
/// the Kinesis endpoint from -e (else AWS_ENDPOINT_URL_KINESIS / AWS_ENDPOINT_URL / AWS's own),
/// and X-Ray (proxy sampling only) from AWS_ENDPOINT_URL_XRAY / AWS_ENDPOINT_URL / AWS's own.
/// The clients do not retry: the relay's sender owns retry, backoff and spooling.
/// </summary>
public sealed class RelayClients : IDisposable
{
    private readonly SignedAwsClients _aws;
    private readonly HttpClient _http;

    private RelayClients(SignedAwsClients aws, HttpClient http, ISamplingUpstream? samplingUpstream)
    {
        _aws = aws;
        _http = http;
        SamplingUpstream = samplingUpstream;
    }

    public IKinesisClient Kinesis => _aws.Kinesis;

    public ISamplingUpstream? SamplingUpstream { get; }

    public static RelayClients Create(RelayOptions options, IEnvironment environment)
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
        var aws = SignedAwsClients.Create(settings, http);
        return new RelayClients(aws, http, options.SdkSampling == SdkSamplingMode.Proxy ? new XRaySamplingUpstream(aws.XRay) : null);
    }

    public void Dispose()
    {
        _aws.Dispose();
        _http.Dispose();
    }
}
