using System.Globalization;
using Relay.Http;

namespace Relay.Receive.Otlp;

/// <summary>
/// How the relay serves <see cref="OtlpHttpReceiver"/> on one of its <see cref="HttpServer"/>
/// listeners: the listener's name (the <c>listener</c> label in /metrics), its bounds, and the
/// handler that turns an <see cref="HttpRequest"/> into the receiver's answer.
/// </summary>
public static class OtlpHttpListener
{
    public const string Name = "otlp_http";

    /// <summary>
    /// SDK exporters keep one or a few connections per process and export every few seconds, so the
    /// default connection budget holds a node's services; bodies are bounded by
    /// <see cref="OtlpReceiverOptions.MaxBodyBytes"/> (answered 413 by the server past it).
    /// </summary>
    public static HttpListenerLimits Limits(OtlpReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new HttpListenerLimits { MaxBodyBytes = options.MaxBodyBytes, MaxConnections = 128 };
    }

    public static HttpHandler Handler(OtlpHttpReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        return (request, _) =>
        {
            var answer = receiver.Handle(request.Method, request.Path, request.Header, request.Body.Span);
            var response = new HttpResponse(answer.Status, answer.ContentType, answer.Body);
            if (answer.RetryAfter is { } delay)
            {
                // Retry-After is whole seconds (RFC 9110 §10.2.3); OTel exporters honour it on 429/503.
                var seconds = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds));
                response = response.WithHeader("Retry-After", seconds.ToString(CultureInfo.InvariantCulture));
            }

            return Task.FromResult(response);
        };
    }
}
