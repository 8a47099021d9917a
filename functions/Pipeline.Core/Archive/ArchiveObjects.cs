using Pipeline.Runtime.Buffers;
using System.IO.Compression;

namespace Pipeline.Core.Archive;

/// <summary>
/// How the archive's objects are framed (DESIGN.md "Archive"): gzip NDJSON for segments/ and
/// quarantine/ (keys end in <c>.gz</c>), plain NDJSON for xray-retry/, JSON for usage/; the content
/// type each is written with; and the reading side (tools, the replay, the graph, tests). Lines are
/// <see cref="ArchiveLines"/>, keys <see cref="ArchiveKeys"/>.
/// </summary>
public static class ArchiveObjects
{
    /// <summary>Gzip NDJSON objects: the gzip is the object's content, not a transfer encoding, so Athena reads it by the .gz suffix.</summary>
    public const string GzipNdjsonContentType = "application/gzip";

    public const string NdjsonContentType = "application/x-ndjson";

    public const string JsonContentType = "application/json";

    /// <summary>A parked OTLP object (<see cref="ArchiveKeys.XRayRetryOtlp"/>): an OTLP Kinesis record, binary.</summary>
    public const string OtlpContentType = "application/octet-stream";

    /// <summary>Gzips <paramref name="ndjson"/> (Fastest: the archive is written once per batch on the hot path) into a pooled buffer the caller disposes. An empty input is a valid empty gzip.</summary>
    public static PooledBufferWriter Gzip(ReadOnlySpan<byte> ndjson)
    {
        var output = new PooledBufferWriter((ndjson.Length / 4) + 64);
        using (var gzip = new GZipStream(output.AsStream(), CompressionLevel.Fastest, leaveOpen: false))
        {
            gzip.Write(ndjson);
        }

        return output;
    }

    /// <summary>True when <paramref name="stored"/> starts with the gzip magic number 1f 8b (RFC 1952).</summary>
    public static bool IsGzip(ReadOnlySpan<byte> stored) => stored.Length >= 2 && stored[0] == 0x1f && stored[1] == 0x8b;

    /// <summary>An archive object's content as a stream: decompressed when it is gzip (every segments/ and quarantine/ object), as is otherwise.</summary>
    public static Stream OpenRead(byte[] stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var raw = new MemoryStream(stored, writable: false);
        return IsGzip(stored) ? new GZipStream(raw, CompressionMode.Decompress, leaveOpen: false) : raw;
    }

    /// <summary>An archive object's content as bytes: gunzipped when it is gzip, a copy otherwise.</summary>
    public static byte[] Content(ReadOnlySpan<byte> stored) => IsGzip(stored) ? Gunzip(stored) : stored.ToArray();

    /// <summary>Reads a gzip object back.</summary>
    public static byte[] Gunzip(ReadOnlySpan<byte> gzipped)
    {
        using var input = new MemoryStream(gzipped.ToArray(), writable: false);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Splits NDJSON into lines (without the newline), skipping empty ones.</summary>
    public static IReadOnlyList<ReadOnlyMemory<byte>> Lines(ReadOnlyMemory<byte> ndjson)
    {
        var lines = new List<ReadOnlyMemory<byte>>();
        var rest = ndjson;
        while (!rest.IsEmpty)
        {
            var newline = rest.Span.IndexOf((byte)'\n');
            var line = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? ReadOnlyMemory<byte>.Empty : rest[(newline + 1)..];
            if (!line.Span.Trim("\r \t"u8).IsEmpty)
            {
                lines.Add(line);
            }
        }

        return lines;
    }
}
