using System.Text;
using Relay.Http;
using Relay.Http.Http2;
using Relay.Logging;

namespace Relay.Receive.Otlp;

/// <summary>
/// How the relay serves <see cref="OtlpGrpcReceiver"/>: an <see cref="HttpServer"/> listener of its
/// own (label <c>otlp_grpc</c>, its own connection budget) whose HTTP/2 connections run an
/// <see cref="Http2Session"/>. An HTTP/1.1 request on this port is answered 426 with a pointer to the
/// OTLP/HTTP receiver.
/// </summary>
public static class OtlpGrpcListener
{
    public const string Name = "otlp_grpc";

    /// <summary>Prefix of the HTTP/2 counters in /metrics.</summary>
    public const string MetricsPrefix = "xray_relay_otlp_grpc_http2";

    /// <summary>
    /// gRPC exporters keep one long-lived connection per process, so the budget is the OTLP/HTTP
    /// one halved: 64 connections. The preface must come within the first-request timeout.
    /// </summary>
    public static HttpListenerLimits Limits => new() { MaxConnections = 64, MaxBodyBytes = 0 };

    /// <summary>The HTTP/2 bounds: the message limit of the receiver plus the 5-byte gRPC prefix.</summary>
    public static Http2Limits Http2Limits(OtlpReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var body = options.MaxBodyBytes + OtlpGrpcReceiver.MessagePrefixLength;
        return new Http2Limits { MaxBodyBytes = body, ConnectionWindowBytes = Math.Max(body + (1024 * 1024), 8 * 1024 * 1024) };
    }

    public static HttpHandler Http1Handler => (request, _) => Task.FromResult(new HttpResponse(
        426,
        "text/plain; charset=utf-8",
        Encoding.UTF8.GetBytes("this port serves OTLP/gRPC over HTTP/2 (h2c prior knowledge); OTLP/HTTP is POST /v1/traces on the --otlp-http port\n"),
        [new KeyValuePair<string, string>("Upgrade", "h2c")]));

    public static Http2ConnectionHandler ConnectionHandler(OtlpGrpcReceiver receiver, Http2Limits limits, Http2Metrics metrics, JsonLog log, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        return async connection =>
        {
            using var session = new Http2Session(connection, limits, metrics, receiver.HandleAsync, log, time);
            await session.RunAsync().ConfigureAwait(false);
        };
    }
}
