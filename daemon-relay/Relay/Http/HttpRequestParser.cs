using System.Text;

namespace Relay.Http;

/// <summary>What the header block of a request says, before its body is read.</summary>
public sealed record HttpRequestHead(
    string Method,
    string Path,
    string Query,
    bool Http11,
    IReadOnlyDictionary<string, string> Headers,
    long ContentLength,
    bool Chunked,
    bool KeepAlive,
    bool ExpectContinue);

/// <summary>
/// Parses a request line and header fields strictly (RFC 9112): CRLF line ends only, a token
/// method, an origin-form target, HTTP/1.0 or 1.1, token field names with the colon right after
/// them, no obs-fold, no control characters, Host required once in 1.1, at most one
/// Content-Length and never together with Transfer-Encoding, and only the chunked coding. Each
/// refusal names its <see cref="HttpRejectReason"/>; nothing here throws on input.
/// </summary>
public static class HttpRequestParser
{
    /// <summary>The HTTP/2 connection preface's first line (RFC 9113 §3.4).</summary>
    public static ReadOnlySpan<byte> Http2Preface => "PRI * HTTP/2.0\r\n"u8;

    /// <summary>Parses <paramref name="block"/>: the bytes up to, not including, the blank line's CRLF CRLF.</summary>
    public static HttpRejectReason? TryParse(ReadOnlySpan<byte> block, int maxHeaderCount, out HttpRequestHead? head)
    {
        head = null;
        var lineEnd = block.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? block : block[..lineEnd];
        if (requestLine.SequenceEqual(Http2Preface[..^2]))
        {
            return HttpRejectReason.Http2NotSupported;
        }

        if (ParseRequestLine(requestLine, out var method, out var path, out var query, out var http11) is { } lineError)
        {
            return lineError;
        }

        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = lineEnd < 0 ? [] : block[(lineEnd + 2)..];
        var count = 0;
        var contentLengths = 0;
        var hosts = 0;
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 2)..];
            if (++count > maxHeaderCount)
            {
                return HttpRejectReason.TooManyHeaders;
            }

            if (ParseField(line, out var name, out var value) is { } fieldError)
            {
                return fieldError;
            }

            contentLengths += name == "content-length" ? 1 : 0;
            hosts += name == "host" ? 1 : 0;
            headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
        }

        if (contentLengths > 1)
        {
            return HttpRejectReason.DuplicateContentLength;
        }

        if (hosts > 1)
        {
            return HttpRejectReason.DuplicateHost;
        }

        if (http11 && hosts == 0)
        {
            return HttpRejectReason.MissingHost;
        }

        var chunked = false;
        if (headers.TryGetValue("transfer-encoding", out var coding))
        {
            if (contentLengths > 0)
            {
                return HttpRejectReason.AmbiguousLength;
            }

            if (!http11 || !coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                return HttpRejectReason.UnsupportedTransferEncoding;
            }

            chunked = true;
        }

        long length = 0;
        if (headers.TryGetValue("content-length", out var declared) && !TryParseLength(declared, out length))
        {
            return HttpRejectReason.BadContentLength;
        }

        var expectContinue = false;
        if (headers.TryGetValue("expect", out var expect))
        {
            if (!expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
            {
                return HttpRejectReason.UnsupportedExpectation;
            }

            expectContinue = http11;
        }

        var connection = headers.GetValueOrDefault("connection") ?? "";
        var keepAlive = http11
            ? !HasToken(connection, "close")
            : HasToken(connection, "keep-alive");
        head = new HttpRequestHead(method, path, query, http11, headers, length, chunked, keepAlive, expectContinue);
        return null;
    }

    private static HttpRejectReason? ParseRequestLine(ReadOnlySpan<byte> line, out string method, out string path, out string query, out bool http11)
    {
        method = path = query = "";
        http11 = false;
        var firstSpace = line.IndexOf((byte)' ');
        var lastSpace = line.LastIndexOf((byte)' ');
        if (firstSpace <= 0 || lastSpace <= firstSpace + 1)
        {
            return HttpRejectReason.BadRequestLine;
        }

        var methodBytes = line[..firstSpace];
        var target = line[(firstSpace + 1)..lastSpace];
        var version = line[(lastSpace + 1)..];
        if (!IsToken(methodBytes) || target[0] != (byte)'/' || !IsTarget(target))
        {
            return HttpRejectReason.BadRequestLine;
        }

        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            http11 = true;
        }
        else if (!version.SequenceEqual("HTTP/1.0"u8))
        {
            return version.StartsWith("HTTP/"u8) && version.Length == 8 ? HttpRejectReason.UnsupportedVersion : HttpRejectReason.BadRequestLine;
        }

        method = Encoding.ASCII.GetString(methodBytes);
        var question = target.IndexOf((byte)'?');
        path = Encoding.ASCII.GetString(question < 0 ? target : target[..question]);
        query = question < 0 ? "" : Encoding.ASCII.GetString(target[(question + 1)..]);
        return null;
    }

    private static HttpRejectReason? ParseField(ReadOnlySpan<byte> line, out string name, out string value)
    {
        name = value = "";
        var colon = line.IndexOf((byte)':');
        // A leading space or tab is obs-fold; a space before the colon is refused (RFC 9112 §5.1).
        if (colon <= 0 || !IsToken(line[..colon]))
        {
            return HttpRejectReason.BadHeader;
        }

        var raw = line[(colon + 1)..].Trim(" \t"u8);
        foreach (var b in raw)
        {
            if (b is < 0x20 and not (byte)'\t' or 0x7f)
            {
                return HttpRejectReason.BadHeader;
            }
        }

        name = Encoding.ASCII.GetString(line[..colon]).ToLowerInvariant();
        value = Encoding.Latin1.GetString(raw);
        return null;
    }

    private static bool TryParseLength(string value, out long length)
    {
        length = 0;
        if (value.Length is 0 or > 18)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            length = (length * 10) + (c - '0');
        }

        return true;
    }

    private static bool HasToken(string list, string token)
    {
        foreach (var part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>RFC 9110 §5.6.2 tchar.</summary>
    private static bool IsToken(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (var b in value)
        {
            var ok = b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
                || "!#$%&'*+-.^_`|~"u8.Contains(b);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Visible ASCII only (an origin-form target has no spaces, controls or raw non-ASCII).</summary>
    private static bool IsTarget(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is <= 0x20 or >= 0x7f)
            {
                return false;
            }
        }

        return true;
    }
}
