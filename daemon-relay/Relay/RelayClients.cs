using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Kinesis;
using Pipeline.Runtime.Configuration;
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

    private RelayClients(SignedAwsClients aws, ISamplingUpstream? samplingUpstream)
    {
        _aws = aws;
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
            Retry = RetryOptions.None,
        };
        if (options.Endpoint is { } endpoint)
        {
            var endpoints = new Dictionary<AwsService, Uri>(settings.ServiceEndpointUrls) { [AwsService.Kinesis] = endpoint };
            settings = settings with { ServiceEndpointUrls = endpoints };
        }

        var aws = SignedAwsClients.Create(settings);
        return new RelayClients(aws, options.SdkSampling == SdkSamplingMode.Proxy ? new XRaySamplingUpstream(aws.XRay) : null);
    }

    public void Dispose() => _aws.Dispose();
}
