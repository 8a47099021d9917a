namespace Pipeline.Core.Sampling;

/// <summary>
/// A stable hash of a trace id, identical on every machine and process (unlike
/// <c>string.GetHashCode</c>): FNV-1a 64 over the ASCII-lowercased bytes, then the MurmurHash3
/// 64-bit finaliser so that ids differing in one late digit spread over the whole range.
/// </summary>
public static class TraceHash
{
    private const ulong FnvOffsetBasis = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    public static ulong Hash64(ReadOnlySpan<byte> traceId)
    {
        var hash = FnvOffsetBasis;
        foreach (var b in traceId)
        {
            var lower = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
            hash = (hash ^ lower) * FnvPrime;
        }

        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash;
    }

    /// <summary>The hash mapped uniformly onto [0, 1): keep the trace when this is below the fixed rate.</summary>
    public static double Unit(ReadOnlySpan<byte> traceId) => (Hash64(traceId) >> 11) * (1.0 / (1UL << 53));
}
