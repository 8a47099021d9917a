namespace Pipeline.Core.Wire;

/// <summary>
/// Protocol Buffers wire encoding primitives shared by the hand-written codecs (KPL aggregated
/// records, OTLP). Source: the protobuf "Encoding" guide (varints, wire types, length-delimited
/// fields). Every read is bounds-checked and returns false instead of throwing on bad input.
/// </summary>
internal static class Protobuf
{
    public const int WireVarint = 0;
    public const int WireFixed64 = 1;
    public const int WireLengthDelimited = 2;
    public const int WireFixed32 = 5;

    /// <summary>A varint is at most 10 bytes (64 bits in 7-bit groups).</summary>
    public const int MaxVarintLength = 10;

    public static uint Tag(int field, int wireType) => (uint)((field << 3) | wireType);

    public static int VarintLength(ulong value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    public static int WriteVarint(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads a varint; false when it runs past the end or past 10 bytes.</summary>
    public static bool TryReadVarint(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= source.Length)
            {
                return false;
            }

            var b = source[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads a field key; false at a truncated key or a field number of 0 (never valid).</summary>
    public static bool TryReadTag(ReadOnlySpan<byte> source, ref int position, out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (!TryReadVarint(source, ref position, out var tag) || tag > uint.MaxValue || (tag >> 3) == 0)
        {
            return false;
        }

        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        return true;
    }

    /// <summary>Reads a length prefix and returns the range it covers; false when it runs past the end.</summary>
    public static bool TryReadLengthDelimited(ReadOnlySpan<byte> source, ref int position, out int start, out int length)
    {
        start = 0;
        length = 0;
        if (!TryReadVarint(source, ref position, out var declared) || declared > (ulong)(source.Length - position))
        {
            return false;
        }

        start = position;
        length = (int)declared;
        position += length;
        return true;
    }

    public static bool TryReadFixed64(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        if (source.Length - position < 8)
        {
            value = 0;
            return false;
        }

        value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(source[position..]);
        position += 8;
        return true;
    }

    public static bool TryReadFixed32(ReadOnlySpan<byte> source, ref int position, out uint value)
    {
        if (source.Length - position < 4)
        {
            value = 0;
            return false;
        }

        value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(source[position..]);
        position += 4;
        return true;
    }

    /// <summary>Skips one field's value of the given wire type; false for groups (3, 4), unknown types or truncation.</summary>
    public static bool TrySkip(ReadOnlySpan<byte> source, ref int position, int wireType)
    {
        switch (wireType)
        {
            case WireVarint:
                return TryReadVarint(source, ref position, out _);
            case WireFixed64:
                return TryReadFixed64(source, ref position, out _);
            case WireLengthDelimited:
                return TryReadLengthDelimited(source, ref position, out _, out _);
            case WireFixed32:
                return TryReadFixed32(source, ref position, out _);
            default:
                return false;
        }
    }
}
