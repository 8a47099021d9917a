namespace Relay.Http.Http2;

/// <summary>
/// The HPACK Huffman code (RFC 7541 Appendix B). The code is canonical: codes of one length are
/// consecutive and ordered by symbol, and each length's first code follows the previous length's
/// last. So the table is only each symbol's code length, transcribed from the appendix; the codes
/// are derived from it (RelayTests check a sample of codes against the appendix and the RFC 7541
/// Appendix C vectors). Symbol 256 is EOS, which a valid string never contains.
/// </summary>
internal static class HpackHuffman
{
    public const int Eos = 256;

    /// <summary>Code length in bits of symbols 0..256. Source: RFC 7541 Appendix B, column "len".</summary>
    private static readonly byte[] Lengths =
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    private const int MaxLength = 30;

    /// <summary>Codes (right-aligned) of symbols 0..256.</summary>
    private static readonly uint[] Codes = new uint[257];

    /// <summary>Per length: the first code, how many codes, and where its symbols start in <see cref="Sorted"/>.</summary>
    private static readonly uint[] FirstCode = new uint[MaxLength + 1];
    private static readonly int[] Count = new int[MaxLength + 1];
    private static readonly int[] Offset = new int[MaxLength + 1];
    private static readonly short[] Sorted = new short[257];

    static HpackHuffman()
    {
        var position = 0;
        for (var length = 1; length <= MaxLength; length++)
        {
            Offset[length] = position;
            for (var symbol = 0; symbol < Lengths.Length; symbol++)
            {
                if (Lengths[symbol] == length)
                {
                    Sorted[position++] = (short)symbol;
                    Count[length]++;
                }
            }
        }

        uint code = 0;
        for (var length = 1; length <= MaxLength; length++)
        {
            FirstCode[length] = code;
            for (var i = 0; i < Count[length]; i++)
            {
                Codes[Sorted[Offset[length] + i]] = code++;
            }

            code <<= 1;
        }
    }

    /// <summary>The code of a symbol and its length (tests compare them with Appendix B).</summary>
    public static (uint Code, int Length) Code(int symbol) => (Codes[symbol], Lengths[symbol]);

    /// <summary>
    /// Decodes a Huffman-coded string literal into <paramref name="output"/>; false when the input
    /// contains EOS, a code that is not in the table, or padding longer than 7 bits or not all ones
    /// (RFC 7541 §5.2: each a decoding error).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> input, List<byte> output)
    {
        uint code = 0;
        var length = 0;
        var allOnes = true;
        foreach (var b in input)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                var one = (b >> bit) & 1;
                code = (code << 1) | (uint)one;
                length++;
                allOnes &= one == 1;
                if (length > MaxLength)
                {
                    return false;
                }

                var index = code - FirstCode[length];
                if (index < (uint)Count[length])
                {
                    var symbol = Sorted[Offset[length] + (int)index];
                    if (symbol == Eos)
                    {
                        return false;
                    }

                    output.Add((byte)symbol);
                    code = 0;
                    length = 0;
                    allOnes = true;
                }
            }
        }

        // What is left must be a prefix of EOS (all ones) shorter than a byte.
        return length <= 7 && allOnes;
    }

    /// <summary>Huffman-codes <paramref name="input"/> (the receiver's responses use plain literals; tests and the bench client use this).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> input)
    {
        var output = new List<byte>(input.Length);
        ulong pending = 0;
        var bits = 0;
        foreach (var b in input)
        {
            pending = (pending << Lengths[b]) | Codes[b];
            bits += Lengths[b];
            while (bits >= 8)
            {
                bits -= 8;
                output.Add((byte)(pending >> bits));
            }
        }

        if (bits > 0)
        {
            // Pad with the most significant bits of EOS (ones).
            output.Add((byte)((pending << (8 - bits)) | (0xFFu >> bits)));
        }

        return [.. output];
    }
}
