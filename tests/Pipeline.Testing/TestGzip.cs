using System.IO.Compression;

namespace Pipeline.Testing;

/// <summary>A one-member gzip of some bytes, as an SDK's or a client's <c>Content-Encoding: gzip</c> sends it.</summary>
public static class TestGzip
{
    public static byte[] Compress(ReadOnlySpan<byte> bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }
}
