using Amazon.Runtime;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Kinesis;
using Pipeline.Aws.Ses;
using Pipeline.Aws.XRay;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws;

/// <summary>
/// The AOT-clean AWS clients, our own SigV4-signed ones over AWSSDK.Core's credentials chain:
/// Kinesis, X-Ray and SES v2, on one settings record, one pooled HttpClient (<see cref="AwsHttp"/>)
/// and one clock. The relay ships only these; the functions and the CLI use
/// <c>AwsClients</c> (Pipeline.Aws.Sdk), which adds the AWSSDK S3 and DynamoDB adapters.
/// </summary>
public sealed class SignedAwsClients : IDisposable
{
    private readonly HttpClient? _ownedHttp;

    private SignedAwsClients(AwsSettings settings, HttpClient http, HttpClient? ownedHttp, TimeProvider time, Random? random, AWSCredentials? credentials)
    {
        Settings = settings;
        Http = http;
        Time = time;
        _ownedHttp = ownedHttp;
        Credentials = credentials ?? AwsHttpClient.CredentialsFor(settings);
        var sender = new AwsHttpClient(http, settings, Credentials, time, new Backoff(settings.Retry, random));
        Kinesis = new KinesisClient(sender);
        XRay = new XRayClient(sender);
        Ses = new SesClient(sender);
    }

    public AwsSettings Settings { get; }

    public IKinesisClient Kinesis { get; }

    public IXRayClient XRay { get; }

    public ISesClient Ses { get; }

    /// <summary>The pooled HttpClient every client sends through (the AWSSDK clients too).</summary>
    public HttpClient Http { get; }

    public TimeProvider Time { get; }

    /// <summary>The credentials given to <see cref="Create(AwsSettings, HttpClient?, TimeProvider?, AWSCredentials?)"/>, else the settings' key pair, else the SDK's default chain (resolved on first use).</summary>
    public AWSCredentials Credentials { get; }

    /// <summary>
    /// Builds the clients from <paramref name="settings"/>. Pass the executable's one pooled
    /// <paramref name="httpClient"/> (not disposed here); when null, one is built and owned.
    /// <paramref name="timeProvider"/> drives signing time and retry delays (default: system).
    /// </summary>
    public static SignedAwsClients Create(AwsSettings settings, HttpClient? httpClient = null, TimeProvider? timeProvider = null) =>
        Create(settings, httpClient, timeProvider, random: null, credentials: null);

    /// <summary>
    /// As <see cref="Create(AwsSettings, HttpClient?, TimeProvider?)"/>, signing with
    /// <paramref name="credentials"/> (for example the relay's IMDSv2 or assumed-role credentials).
    /// </summary>
    public static SignedAwsClients Create(AwsSettings settings, HttpClient? httpClient, TimeProvider? timeProvider, AWSCredentials? credentials) =>
        Create(settings, httpClient, timeProvider, random: null, credentials);

    internal static SignedAwsClients Create(AwsSettings settings, HttpClient? httpClient, TimeProvider? timeProvider, Random? random, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var owned = httpClient is null ? AwsHttp.CreateClient() : null;
        return new SignedAwsClients(settings, httpClient ?? owned!, owned, timeProvider ?? TimeProvider.System, random, credentials);
    }

    public void Dispose() => _ownedHttp?.Dispose();
}
