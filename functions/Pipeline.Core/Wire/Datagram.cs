using System.Buffers;

namespace Pipeline.Core.Wire;

/// <summary>Why a datagram was refused before its document was looked at.</summary>
public enum DatagramReject
{
    None = 0,
    Empty,
    /// <summary>No newline: the daemon protocol always has a header line.</summary>
    MissingHeader,
    /// <summary>The header line is not <c>{"format":"json","version":1}</c>.</summary>
    BadHeader,
    /// <summary>Header present but the document after it is empty.</summary>
    EmptyBody,
    /// <summary>Larger than <see cref="Datagram.MaxDatagramBytes"/>.</summary>
    Oversize,
}

/// <summary>
/// The X-Ray daemon's UDP framing: a JSON header line, a newline, then one segment document.
/// Source: AWS X-Ray developer guide, "Sending segment documents to the X-Ray daemon".
/// </summary>
public static class Datagram
{
    /// <summary>The daemon receives into 64 KiB buffers and segment documents are capped at 64 KB.</summary>
    public const int MaxDatagramBytes = 64 * 1024;

    /// <summary>The only header the SDKs send (the daemon compares the decoded header to this).</summary>
    public static ReadOnlySpan<byte> ExpectedHeader => """{"format":"json","version":1}"""u8;

    /// <summary>
    /// Splits a datagram into its document body. Whitespace around the header is tolerated, a
    /// header with other keys or values is not.
    /// </summary>
    public static DatagramReject TrySplit(ReadOnlySpan<byte> datagram, out Range body)
    {
        body = default;
        if (datagram.IsEmpty)
        {
            return DatagramReject.Empty;
        }

        if (datagram.Length > MaxDatagramBytes)
        {
            return DatagramReject.Oversize;
        }

        var newline = datagram.IndexOf((byte)'\n');
        if (newline < 0)
        {
            return DatagramReject.MissingHeader;
        }

        var header = datagram[..newline].Trim(" \t\r"u8);
        if (!IsExpectedHeader(header))
        {
            return DatagramReject.BadHeader;
        }

        var start = newline + 1;
        var rest = datagram[start..];
        var leading = rest.Length - rest.TrimStart(" \t\r\n"u8).Length;
        var trimmed = rest.Trim(" \t\r\n"u8);
        if (trimmed.IsEmpty)
        {
            return DatagramReject.EmptyBody;
        }

        body = new Range(start + leading, start + leading + trimmed.Length);
        return DatagramReject.None;
    }

    /// <summary><see cref="TrySplit(ReadOnlySpan{byte}, out Range)"/> for memory: the document as a slice of the datagram, no copy.</summary>
    public static DatagramReject TryGetDocument(ReadOnlyMemory<byte> datagram, out ReadOnlyMemory<byte> document)
    {
        var reject = TrySplit(datagram.Span, out var body);
        document = reject == DatagramReject.None ? datagram[body] : default;
        return reject;
    }

    private static bool IsExpectedHeader(ReadOnlySpan<byte> header)
    {
        if (header.SequenceEqual(ExpectedHeader))
        {
            return true;
        }

        // Tolerate insignificant whitespace ({"format": "json", "version": 1}) without a JSON parse.
        Span<byte> compact = stackalloc byte[64];
        var length = 0;
        foreach (var b in header)
        {
            if (b is (byte)' ' or (byte)'\t')
            {
                continue;
            }

            if (length == compact.Length)
            {
                return false;
            }

            compact[length++] = b;
        }

        return compact[..length].SequenceEqual(ExpectedHeader);
    }
}
