namespace Relay.Http;

/// <summary>Why the server refused a request or a connection before (or instead of) the handler; each is a counter.</summary>
public enum HttpRejectReason
{
    BadRequestLine,
    UnsupportedVersion,
    BadHeader,
    TooManyHeaders,
    HeadersTooLarge,
    MissingHost,
    DuplicateHost,
    BadContentLength,
    DuplicateContentLength,
    /// <summary>Both Content-Length and Transfer-Encoding (RFC 9112 §6.1: a smuggling vector, so refused).</summary>
    AmbiguousLength,
    UnsupportedTransferEncoding,
    BodyTooLarge,
    BadChunk,
    UnsupportedExpectation,
    /// <summary>The HTTP/2 connection preface on a listener that speaks HTTP/1.1 only.</summary>
    Http2NotSupported,
    HeadersTimeout,
    BodyTimeout,
    /// <summary>The handler threw: 500, logged (rate-limited).</summary>
    HandlerFailed,
}

/// <summary>Status codes and metric labels of <see cref="HttpRejectReason"/>.</summary>
public static class HttpRejectReasons
{
    public static int Status(HttpRejectReason reason) => reason switch
    {
        HttpRejectReason.UnsupportedVersion => 505,
        HttpRejectReason.HeadersTooLarge or HttpRejectReason.TooManyHeaders => 431,
        HttpRejectReason.BodyTooLarge => 413,
        HttpRejectReason.UnsupportedTransferEncoding => 501,
        HttpRejectReason.UnsupportedExpectation => 417,
        HttpRejectReason.HeadersTimeout or HttpRejectReason.BodyTimeout => 408,
        HttpRejectReason.HandlerFailed => 500,
        _ => 400,
    };

    public static string Label(HttpRejectReason reason) => reason switch
    {
        HttpRejectReason.BadRequestLine => "bad_request_line",
        HttpRejectReason.UnsupportedVersion => "unsupported_version",
        HttpRejectReason.BadHeader => "bad_header",
        HttpRejectReason.TooManyHeaders => "too_many_headers",
        HttpRejectReason.HeadersTooLarge => "headers_too_large",
        HttpRejectReason.MissingHost => "missing_host",
        HttpRejectReason.DuplicateHost => "duplicate_host",
        HttpRejectReason.BadContentLength => "bad_content_length",
        HttpRejectReason.DuplicateContentLength => "duplicate_content_length",
        HttpRejectReason.AmbiguousLength => "ambiguous_length",
        HttpRejectReason.UnsupportedTransferEncoding => "unsupported_transfer_encoding",
        HttpRejectReason.BodyTooLarge => "body_too_large",
        HttpRejectReason.BadChunk => "bad_chunk",
        HttpRejectReason.UnsupportedExpectation => "unsupported_expectation",
        HttpRejectReason.Http2NotSupported => "http2_not_supported",
        HttpRejectReason.HeadersTimeout => "headers_timeout",
        HttpRejectReason.BodyTimeout => "body_timeout",
        HttpRejectReason.HandlerFailed => "handler_failed",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    /// <summary>The short text body of the refusal (bounded, no request data echoed).</summary>
    public static string Message(HttpRejectReason reason) => reason switch
    {
        HttpRejectReason.BadRequestLine => "malformed request line\n",
        HttpRejectReason.UnsupportedVersion => "only HTTP/1.0 and HTTP/1.1 are served here\n",
        HttpRejectReason.BadHeader => "malformed header field\n",
        HttpRejectReason.TooManyHeaders => "too many header fields\n",
        HttpRejectReason.HeadersTooLarge => "request headers too large\n",
        HttpRejectReason.MissingHost => "an HTTP/1.1 request needs a Host header\n",
        HttpRejectReason.DuplicateHost => "more than one Host header\n",
        HttpRejectReason.BadContentLength => "Content-Length is not a number\n",
        HttpRejectReason.DuplicateContentLength => "more than one Content-Length header\n",
        HttpRejectReason.AmbiguousLength => "Content-Length together with Transfer-Encoding\n",
        HttpRejectReason.UnsupportedTransferEncoding => "only Transfer-Encoding: chunked is understood\n",
        HttpRejectReason.BodyTooLarge => "request body too large\n",
        HttpRejectReason.BadChunk => "malformed chunked body\n",
        HttpRejectReason.UnsupportedExpectation => "only Expect: 100-continue is understood\n",
        HttpRejectReason.Http2NotSupported => "HTTP/2 is not served on this port\n",
        HttpRejectReason.HeadersTimeout => "request headers took too long\n",
        HttpRejectReason.BodyTimeout => "request body took too long\n",
        HttpRejectReason.HandlerFailed => "internal error\n",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
