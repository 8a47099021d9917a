using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.S3;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Kinesis;
using Pipeline.Aws.Ses;
using Pipeline.Aws.Storage;
using Pipeline.Aws.XRay;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws;

/// <summary>
/// The composition root of every AWS client the functions and the CLI use: the signed clients
/// (<see cref="SignedAwsClients"/>) plus the AWSSDK S3 and DynamoDB clients, all on one settings
/// record, one credentials chain, one clock, one pooled HttpClient (<see cref="AwsHttp"/>) and one
/// backoff policy (<see cref="SdkBackoff"/> for the SDK clients). S3 and DynamoDB are built on first use.
/// </summary>
public sealed class AwsClients : IDisposable
{
    private readonly SignedAwsClients _signed;
    private readonly Lazy<AmazonS3Client> _s3;
    private readonly Lazy<AmazonDynamoDBClient> _dynamoDb;
    private readonly Lazy<IObjectStore> _objectStore;

    private AwsClients(SignedAwsClients signed, Random? random)
    {
        _signed = signed;
        var http = new SharedHttpClientFactory(signed.Http);
        // The same policy (attempts, waits, counters) as the signed clients: see SdkBackoff.
        var backoff = new Backoff(signed.Settings.Retry, random);
        _s3 = new Lazy<AmazonS3Client>(() => new BackoffS3Client(signed.Credentials, S3Config(signed.Settings, http), backoff, signed.Time));
        _dynamoDb = new Lazy<AmazonDynamoDBClient>(() => new BackoffDynamoDbClient(signed.Credentials, DynamoDbConfig(signed.Settings, http), backoff, signed.Time));
        _objectStore = new Lazy<IObjectStore>(() => new S3ObjectStore(S3));
    }

    public AwsSettings Settings => _signed.Settings;

    public IKinesisClient Kinesis => _signed.Kinesis;

    public IXRayClient XRay => _signed.XRay;

    /// <summary>X-Ray's OTLP traces endpoint (XRAY_FORWARD=otlp).</summary>
    public IXRayOtlpClient XRayOtlp => _signed.XRayOtlp;

    public ISesClient Ses => _signed.Ses;

    /// <summary>Put/get/list objects (S3).</summary>
    public IObjectStore ObjectStore => _objectStore.Value;

    /// <summary>The AWSSDK S3 client, path-style against a configured endpoint.</summary>
    public IAmazonS3 S3 => _s3.Value;

    /// <summary>The AWSSDK DynamoDB client.</summary>
    public IAmazonDynamoDB DynamoDb => _dynamoDb.Value;

    /// <inheritdoc cref="SignedAwsClients.Create(AwsSettings, HttpClient?, TimeProvider?)"/>
    public static AwsClients Create(AwsSettings settings, HttpClient? httpClient = null, TimeProvider? timeProvider = null) =>
        new(SignedAwsClients.Create(settings, httpClient, timeProvider), random: null);

    internal static AwsClients Create(AwsSettings settings, HttpClient? httpClient, TimeProvider? timeProvider, Random? random) =>
        new(SignedAwsClients.Create(settings, httpClient, timeProvider, random), random);

    public void Dispose()
    {
        if (_s3.IsValueCreated)
        {
            _s3.Value.Dispose();
        }

        if (_dynamoDb.IsValueCreated)
        {
            _dynamoDb.Value.Dispose();
        }

        _signed.Dispose();
    }

    internal static AmazonS3Config S3Config(AwsSettings settings, HttpClientFactory http)
    {
        var config = new AmazonS3Config
        {
            AuthenticationRegion = settings.Region,
            RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(settings.Region),
            MaxErrorRetry = settings.Retry.MaxAttempts - 1,
            HttpClientFactory = http,
            // Endpoints come from AwsSettings only, so one rule decides for every client.
            IgnoreConfiguredEndpointUrls = true,
            // Checksums only where S3 requires them: moto and S3-compatible stores vary in the
            // trailing-checksum (aws-chunked) support that the SDK's default would use.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (settings.HasCustomEndpoint(AwsService.S3))
        {
            config.ServiceURL = settings.ResolveEndpoint(AwsService.S3).ToString();
            // Virtual-host addressing needs DNS for bucket.host, which a local endpoint lacks.
            config.ForcePathStyle = true;
        }

        return config;
    }

    internal static AmazonDynamoDBConfig DynamoDbConfig(AwsSettings settings, HttpClientFactory http)
    {
        var config = new AmazonDynamoDBConfig
        {
            AuthenticationRegion = settings.Region,
            RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(settings.Region),
            MaxErrorRetry = settings.Retry.MaxAttempts - 1,
            HttpClientFactory = http,
            IgnoreConfiguredEndpointUrls = true,
        };
        if (settings.HasCustomEndpoint(AwsService.DynamoDb))
        {
            config.ServiceURL = settings.ResolveEndpoint(AwsService.DynamoDb).ToString();
        }

        return config;
    }

    /// <summary>
    /// Hands the AWSSDK clients the executable's one pooled HttpClient instead of the one each
    /// would build: the SDK neither caches nor disposes it (the composition root owns it).
    /// </summary>
    internal sealed class SharedHttpClientFactory(HttpClient http) : HttpClientFactory
    {
        public HttpClient Http { get; } = http;

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => Http;

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
    }
}
