using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.S3;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Kinesis;
using Pipeline.Aws.Ses;
using Pipeline.Aws.Storage;
using Pipeline.Aws.XRay;

namespace Pipeline.Aws;

/// <summary>
/// The composition root of every AWS client: one settings record, one pooled HttpClient, one
/// clock. S3 and DynamoDB (AWSSDK clients) are built on first use so a relay that only needs
/// Kinesis never loads them.
/// </summary>
public sealed class AwsClients : IDisposable
{
    /// <summary>HttpClient timeout per attempt when the composition root builds the client itself.</summary>
    public static readonly TimeSpan DefaultHttpTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient? _ownedHttp;
    private readonly AWSCredentials _credentials;
    private readonly Lazy<AmazonS3Client> _s3;
    private readonly Lazy<AmazonDynamoDBClient> _dynamoDb;
    private readonly Lazy<IObjectStore> _objectStore;

    private AwsClients(AwsSettings settings, HttpClient http, HttpClient? ownedHttp, TimeProvider time, Random? random)
    {
        Settings = settings;
        _ownedHttp = ownedHttp;
        _credentials = AwsHttpClient.CredentialsFor(settings);
        var sender = new AwsHttpClient(http, settings, _credentials, time, new Http.RetryPolicy(settings.Retry, random));
        Kinesis = new KinesisClient(sender);
        XRay = new XRayClient(sender);
        Ses = new SesClient(sender);
        _s3 = new Lazy<AmazonS3Client>(() => new AmazonS3Client(_credentials, S3Config(settings)));
        _dynamoDb = new Lazy<AmazonDynamoDBClient>(() => new AmazonDynamoDBClient(_credentials, DynamoDbConfig(settings)));
        _objectStore = new Lazy<IObjectStore>(() => new S3ObjectStore(S3));
    }

    public AwsSettings Settings { get; }

    public IKinesisClient Kinesis { get; }

    public IXRayClient XRay { get; }

    public ISesClient Ses { get; }

    /// <summary>Put/get/list objects (S3).</summary>
    public IObjectStore ObjectStore => _objectStore.Value;

    /// <summary>The AWSSDK S3 client, path-style against a configured endpoint.</summary>
    public IAmazonS3 S3 => _s3.Value;

    /// <summary>The AWSSDK DynamoDB client.</summary>
    public IAmazonDynamoDB DynamoDb => _dynamoDb.Value;

    /// <summary>
    /// Builds every client from <paramref name="settings"/>. Pass the executable's one pooled
    /// <paramref name="httpClient"/> (not disposed here); when null, one is built and owned.
    /// <paramref name="timeProvider"/> drives signing time and retry delays (default: system).
    /// </summary>
    public static AwsClients Create(AwsSettings settings, HttpClient? httpClient = null, TimeProvider? timeProvider = null) =>
        Create(settings, httpClient, timeProvider, random: null);

    internal static AwsClients Create(AwsSettings settings, HttpClient? httpClient, TimeProvider? timeProvider, Random? random)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var owned = httpClient is null ? CreateHttpClient() : null;
        return new AwsClients(settings, httpClient ?? owned!, owned, timeProvider ?? TimeProvider.System, random);
    }

    /// <summary>A pooled HttpClient suited to AWS calls (connection recycling for DNS changes, bounded buffers).</summary>
    public static HttpClient CreateHttpClient()
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
            MaxConnectionsPerServer = 64,
        };
#pragma warning disable RS0030 // The composition root is the one place that builds an HttpClient.
        return new HttpClient(handler, disposeHandler: true)
        {
            Timeout = DefaultHttpTimeout,
            MaxResponseContentBufferSize = AwsHttpClient.MaxResponseBytes,
        };
#pragma warning restore RS0030
    }

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

        _ownedHttp?.Dispose();
    }

    internal static AmazonS3Config S3Config(AwsSettings settings)
    {
        var config = new AmazonS3Config
        {
            AuthenticationRegion = settings.Region,
            RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(settings.Region),
            MaxErrorRetry = settings.Retry.MaxAttempts - 1,
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

    internal static AmazonDynamoDBConfig DynamoDbConfig(AwsSettings settings)
    {
        var config = new AmazonDynamoDBConfig
        {
            AuthenticationRegion = settings.Region,
            RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(settings.Region),
            MaxErrorRetry = settings.Retry.MaxAttempts - 1,
            IgnoreConfiguredEndpointUrls = true,
        };
        if (settings.HasCustomEndpoint(AwsService.DynamoDb))
        {
            config.ServiceURL = settings.ResolveEndpoint(AwsService.DynamoDb).ToString();
        }

        return config;
    }
}
