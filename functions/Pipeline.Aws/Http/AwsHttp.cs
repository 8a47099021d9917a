using System.Net;

namespace Pipeline.Aws.Http;

/// <summary>
/// The one pooled HTTP handler every AWS client sends through: our signed clients (Kinesis,
/// X-Ray, SES v2, Athena) and the AWSSDK S3 and DynamoDB clients (given it through
/// <c>ClientConfig.HttpClientFactory</c>). Each executable's composition root builds one
/// <see cref="CreateClient"/> and hands it to every client; nothing else builds an HttpClient.
/// </summary>
public static class AwsHttp
{
    /// <summary>Bound on one attempt (connect, send, headers and body); the retry policy bounds the whole call.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A connection that cannot be opened in this long is a failed attempt (AWS endpoints answer in milliseconds).</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Connections are recycled this often so that DNS changes of AWS endpoints are picked up
    /// (.NET's guidance for long-lived HttpClients).
    /// </summary>
    public static readonly TimeSpan PooledConnectionLifetime = TimeSpan.FromMinutes(2);

    /// <summary>Idle connections close before the 60 s idle timeout of AWS's load balancers would close them under us.</summary>
    public static readonly TimeSpan PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50);

    /// <summary>Default connections per endpoint: room for the relay's in-flight requests and the ingest's parallel puts.</summary>
    public const int DefaultMaxConnectionsPerServer = 64;

    /// <summary>GetRecords answers up to 10 MiB of data, base64 in JSON (×4/3): 64 MiB bounds any sane buffered answer.</summary>
    public const int MaxResponseBytes = 64 * 1024 * 1024;

    /// <summary>The handler: no cookies, no proxy auto-detection cost on the first request, no decompression (AWS answers plain).</summary>
    public static SocketsHttpHandler CreateHandler(int maxConnectionsPerServer = DefaultMaxConnectionsPerServer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnectionsPerServer, 1);
        return new SocketsHttpHandler
        {
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = ConnectTimeout,
            PooledConnectionLifetime = PooledConnectionLifetime,
            PooledConnectionIdleTimeout = PooledConnectionIdleTimeout,
            MaxConnectionsPerServer = maxConnectionsPerServer,
        };
    }

    /// <summary>
    /// The executable's one HttpClient for AWS calls, on <see cref="CreateHandler"/>; the caller owns
    /// and disposes it. <paramref name="attemptTimeout"/> (default <see cref="AttemptTimeout"/>) is
    /// longer only for a synchronous Lambda Invoke, whose answer comes when the function returns.
    /// </summary>
    public static HttpClient CreateClient(int maxConnectionsPerServer = DefaultMaxConnectionsPerServer, TimeSpan? attemptTimeout = null)
    {
#pragma warning disable RS0030 // The one place that builds the AWS HttpClient.
        return new HttpClient(CreateHandler(maxConnectionsPerServer), disposeHandler: true)
        {
            Timeout = attemptTimeout ?? AttemptTimeout,
            MaxResponseContentBufferSize = MaxResponseBytes,
        };
#pragma warning restore RS0030
    }
}
