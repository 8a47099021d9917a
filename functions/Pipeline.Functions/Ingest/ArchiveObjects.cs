using System.Buffers;
using System.IO.Compression;

namespace Pipeline.Functions.Ingest;

/// <summary>Content types and gzip framing of the objects the ingest writes.</summary>
internal static class ArchiveObjects
{
    /// <summary>NDJSON media type; the gzip is the object's content, not a transfer encoding, so Athena reads it by the .gz suffix.</summary>
    public const string GzipNdjsonContentType = "application/gzip";

    public const string NdjsonContentType = "application/x-ndjson";

    public const string JsonContentType = "application/json";

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

    /// <summary>Reads a gzip object back (tests and tools).</summary>
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

    public static void WriteLine(IBufferWriter<byte> output, ReadOnlySpan<byte> line)
    {
        output.Write(line);
        output.Write("\n"u8);
    }
}
