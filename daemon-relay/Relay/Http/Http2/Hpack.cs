using System.Text;

namespace Relay.Http.Http2;

/// <summary>Why a header block does not decode (each a connection error COMPRESSION_ERROR, RFC 9113 §4.3).</summary>
public enum HpackError
{
    None,
    /// <summary>The block ends inside an integer, a string or a representation.</summary>
    Truncated,
    /// <summary>An integer longer than the decoder accepts (over 2^28).</summary>
    IntegerOverflow,
    /// <summary>An index of 0 or past the static and dynamic tables.</summary>
    BadIndex,
    /// <summary>A Huffman string with EOS, an unknown code or bad padding.</summary>
    BadHuffman,
    /// <summary>A dynamic table size update larger than SETTINGS_HEADER_TABLE_SIZE.</summary>
    TableSizeTooLarge,
    /// <summary>A dynamic table size update after the first header field of a block.</summary>
    TableSizeUpdateMisplaced,
}

/// <summary>A header block that does not decode.</summary>
public sealed class HpackException(HpackError error) : Exception($"HPACK header block does not decode: {error}")
{
    public HpackError Error { get; } = error;
}

/// <summary>
/// HPACK decoder (RFC 7541) of one HTTP/2 connection: the static table, a dynamic table bounded by
/// the size we advertise (SETTINGS_HEADER_TABLE_SIZE, 4096 by default), integers, plain and Huffman
/// string literals. It bounds the decoded header list (RFC 9113 §6.5.2 SETTINGS_MAX_HEADER_LIST_SIZE:
/// name + value + 32 per field): past the bound it keeps decoding, so the dynamic table stays in step
/// with the peer's encoder, but stops keeping fields and sets <see cref="HeaderList.TooLarge"/>.
/// </summary>
public sealed class HpackDecoder(int maxTableSize = HpackDecoder.DefaultTableSize)
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE initial value. Source: RFC 9113 §6.5.2.</summary>
    public const int DefaultTableSize = 4096;

    /// <summary>Per-entry overhead counted in table and header list sizes. Source: RFC 7541 §4.1.</summary>
    public const int EntryOverhead = 32;

    /// <summary>Integers past this are refused (no header block of ours needs more; guards the shift).</summary>
    private const int MaxInteger = 1 << 28;

    private readonly List<(string Name, string Value)> _dynamic = [];
    private readonly int _maxTableSize = maxTableSize;
    private int _tableSize;
    private int _tableCapacity = maxTableSize;

    /// <summary>Bytes the dynamic table holds now (entry sizes per RFC 7541 §4.1).</summary>
    public int TableSize => _tableSize;

    /// <summary>Entries in the dynamic table, newest first (tests compare them with RFC 7541 Appendix C).</summary>
    public IReadOnlyList<(string Name, string Value)> DynamicTable => _dynamic;

    /// <summary>Decodes one complete header block; throws <see cref="HpackException"/> when it does not decode.</summary>
    public HeaderList Decode(ReadOnlySpan<byte> block, int maxHeaderListSize)
    {
        var list = new HeaderList();
        var position = 0;
        var fieldSeen = false;
        var scratch = new List<byte>(64);
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                // Indexed header field (§6.1).
                var index = ReadInteger(block, ref position, 7);
                var (name, value) = Entry(index);
                list.Add(name, value, maxHeaderListSize);
                fieldSeen = true;
            }
            else if ((first & 0x40) != 0)
            {
                // Literal with incremental indexing (§6.2.1).
                var (name, value) = ReadLiteral(block, ref position, 6, scratch);
                Insert(name, value);
                list.Add(name, value, maxHeaderListSize);
                fieldSeen = true;
            }
            else if ((first & 0x20) != 0)
            {
                // Dynamic table size update (§6.3): only at the start of a block (§4.2).
                if (fieldSeen)
                {
                    throw new HpackException(HpackError.TableSizeUpdateMisplaced);
                }

                var size = ReadInteger(block, ref position, 5);
                if (size > _maxTableSize)
                {
                    throw new HpackException(HpackError.TableSizeTooLarge);
                }

                _tableCapacity = size;
                Evict(0);
            }
            else
            {
                // Literal without indexing (0000) or never indexed (0001) (§6.2.2, §6.2.3).
                var (name, value) = ReadLiteral(block, ref position, 4, scratch);
                list.Add(name, value, maxHeaderListSize);
                fieldSeen = true;
            }
        }

        return list;
    }

    private (string Name, string Value) ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefixBits, List<byte> scratch)
    {
        var index = ReadInteger(block, ref position, prefixBits);
        var name = index == 0 ? ReadString(block, ref position, scratch) : Entry(index).Name;
        var value = ReadString(block, ref position, scratch);
        return (name, value);
    }

    private (string Name, string Value) Entry(int index)
    {
        if (index >= 1 && index <= HpackStaticTable.Count)
        {
            return HpackStaticTable.Entry(index);
        }

        var dynamic = index - HpackStaticTable.Count - 1;
        if (index == 0 || dynamic >= _dynamic.Count)
        {
            throw new HpackException(HpackError.BadIndex);
        }

        return _dynamic[dynamic];
    }

    private void Insert(string name, string value)
    {
        var size = name.Length + value.Length + EntryOverhead;
        if (size > _tableCapacity)
        {
            // An entry larger than the table empties it and is not added (§4.4).
            _dynamic.Clear();
            _tableSize = 0;
            return;
        }

        Evict(size);
        _dynamic.Insert(0, (name, value));
        _tableSize += size;
    }

    /// <summary>Evicts the oldest entries until <paramref name="room"/> more bytes fit the capacity.</summary>
    private void Evict(int room)
    {
        while (_dynamic.Count > 0 && _tableSize + room > _tableCapacity)
        {
            var (name, value) = _dynamic[^1];
            _tableSize -= name.Length + value.Length + EntryOverhead;
            _dynamic.RemoveAt(_dynamic.Count - 1);
        }
    }

    /// <summary>An integer with an N-bit prefix (§5.1).</summary>
    internal static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        if (position >= block.Length)
        {
            throw new HpackException(HpackError.Truncated);
        }

        var mask = (1 << prefixBits) - 1;
        var prefix = block[position++] & mask;
        if (prefix < mask)
        {
            return prefix;
        }

        long value = prefix;
        for (var shift = 0; ; shift += 7)
        {
            if (position >= block.Length)
            {
                throw new HpackException(HpackError.Truncated);
            }

            if (shift > 21)
            {
                throw new HpackException(HpackError.IntegerOverflow);
            }

            var b = block[position++];
            value += (long)(b & 0x7F) << shift;
            if (value > MaxInteger)
            {
                throw new HpackException(HpackError.IntegerOverflow);
            }

            if ((b & 0x80) == 0)
            {
                return (int)value;
            }
        }
    }

    /// <summary>A string literal (§5.2): H bit, length with a 7-bit prefix, octets (Huffman-coded when H).</summary>
    private static string ReadString(ReadOnlySpan<byte> block, ref int position, List<byte> scratch)
    {
        if (position >= block.Length)
        {
            throw new HpackException(HpackError.Truncated);
        }

        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw new HpackException(HpackError.Truncated);
        }

        var octets = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            return Encoding.Latin1.GetString(octets);
        }

        scratch.Clear();
        if (!HpackHuffman.TryDecode(octets, scratch))
        {
            throw new HpackException(HpackError.BadHuffman);
        }

        return Encoding.Latin1.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(scratch));
    }
}

/// <summary>A decoded header list in order; fields past the size bound are not kept.</summary>
public sealed class HeaderList
{
    private readonly List<(string Name, string Value)> _fields = [];

    public IReadOnlyList<(string Name, string Value)> Fields => _fields;

    /// <summary>The list's size per RFC 9113 §6.5.2 (name + value + 32 per field), counted even past the bound.</summary>
    public int Size { get; private set; }

    /// <summary>True when the list was larger than the bound (its fields are incomplete; refuse the request).</summary>
    public bool TooLarge { get; private set; }

    internal void Add(string name, string value, int maxSize)
    {
        Size += name.Length + value.Length + HpackDecoder.EntryOverhead;
        if (Size > maxSize)
        {
            TooLarge = true;
            return;
        }

        _fields.Add((name, value));
    }
}

/// <summary>The HPACK static table. Source: RFC 7541 Appendix A.</summary>
internal static class HpackStaticTable
{
    private static readonly (string Name, string Value)[] Entries =
    [
        (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
        (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
        (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""), ("access-control-allow-origin", ""),
        ("age", ""), ("allow", ""), ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
        ("content-encoding", ""), ("content-language", ""), ("content-length", ""), ("content-location", ""), ("content-range", ""),
        ("content-type", ""), ("cookie", ""), ("date", ""), ("etag", ""), ("expect", ""),
        ("expires", ""), ("from", ""), ("host", ""), ("if-match", ""), ("if-modified-since", ""),
        ("if-none-match", ""), ("if-range", ""), ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""),
        ("location", ""), ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""), ("range", ""),
        ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""), ("set-cookie", ""),
        ("strict-transport-security", ""), ("transfer-encoding", ""), ("user-agent", ""), ("vary", ""), ("via", ""),
        ("www-authenticate", ""),
    ];

    public const int Count = 61;

    /// <summary>Index of <c>:status: 200</c>.</summary>
    public const int Status200 = 8;

    /// <summary>Index of the <c>content-type</c> name.</summary>
    public const int ContentType = 31;

    public static (string Name, string Value) Entry(int index) => Entries[index - 1];
}

/// <summary>
/// The encoder side, as small as the receiver needs: indexed static fields and literals without
/// indexing, never Huffman and never the dynamic table, so the peer's decoder state never depends
/// on ours (RFC 7541 allows an encoder to use neither).
/// </summary>
public static class HpackEncoder
{
    public static void WriteIndexed(List<byte> output, int index) => WriteInteger(output, 0x80, 7, index);

    /// <summary>Literal without indexing with a static-table name (§6.2.2).</summary>
    public static void WriteLiteral(List<byte> output, int nameIndex, string value)
    {
        WriteInteger(output, 0x00, 4, nameIndex);
        WriteString(output, value);
    }

    /// <summary>Literal without indexing with a literal name (§6.2.2). Names must be lower-case.</summary>
    public static void WriteLiteral(List<byte> output, string name, string value)
    {
        output.Add(0x00);
        WriteString(output, name);
        WriteString(output, value);
    }

    internal static void WriteInteger(List<byte> output, byte flags, int prefixBits, int value)
    {
        var mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            output.Add((byte)(flags | value));
            return;
        }

        output.Add((byte)(flags | mask));
        value -= mask;
        while (value >= 0x80)
        {
            output.Add((byte)((value & 0x7F) | 0x80));
            value >>= 7;
        }

        output.Add((byte)value);
    }

    private static void WriteString(List<byte> output, string value)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        WriteInteger(output, 0x00, 7, bytes.Length);
        output.AddRange(bytes);
    }
}
