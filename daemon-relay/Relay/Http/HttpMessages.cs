using System.Text;

namespace Relay.Http;

/// <summary>
/// A parsed HTTP/1.1 request as a handler sees it. Header names are lower-case; repeated fields
/// are joined with ", " (RFC 9110 §5.3). <see cref="Body"/> is the decoded body (Content-Length or
/// chunked) in a pooled buffer that is valid only until the handler's task completes: copy what
/// must outlive the call.
/// </summary>
public sealed record HttpRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Body)
{
    public HttpRequest(string method, string path, ReadOnlyMemory<byte> body)
        : this(method, path, "", new Dictionary<string, string>(StringComparer.Ordinal), body)
    {
    }

    /// <summary>A header's value, or null (names are matched lower-case).</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>A response to write back. <paramref name="Headers"/> are extra fields (Retry-After, Content-Encoding, ...).</summary>
public sealed record HttpResponse(int Status, string ContentType, ReadOnlyMemory<byte> Body, IReadOnlyList<KeyValuePair<string, string>>? Headers = null)
{
    public static HttpResponse Text(int status, string text, string contentType = "text/plain; charset=utf-8") =>
        new(status, contentType, Encoding.UTF8.GetBytes(text));

    public static HttpResponse Json(int status, byte[] body) => new(status, "application/json", body);

    /// <summary>The same response with one more header field.</summary>
    public HttpResponse WithHeader(string name, string value) =>
        this with { Headers = [.. Headers ?? [], new KeyValuePair<string, string>(name, value)] };
}

/// <summary>The request handler of a listener. The token fires when the server stops or the client is evicted.</summary>
public delegate Task<HttpResponse> HttpHandler(HttpRequest request, CancellationToken cancellationToken);

/// <summary>
/// An HTTP/2 (prior knowledge, h2c) connection handed over by a listener that was given an
/// <see cref="Http2ConnectionHandler"/>: the listener accepted it inside its connection budget and
/// read the client's first bytes (<paramref name="Preread"/>, starting with the connection
/// preface). <paramref name="Aborted"/> fires when the connection is evicted or the server gives up
/// waiting at stop; <paramref name="Stopping"/> fires when the server starts stopping (send GOAWAY,
/// finish the streams in flight). The handler owns framing, HPACK and its own per-stream bounds.
/// </summary>
public sealed record Http2Connection(Stream Stream, ReadOnlyMemory<byte> Preread, HttpListenerLimits Limits, CancellationToken Aborted, CancellationToken Stopping);

/// <summary>Serves one HTTP/2 connection until it ends (the gRPC receiver plugs in here).</summary>
public delegate Task Http2ConnectionHandler(Http2Connection connection);
