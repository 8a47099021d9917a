using System.Globalization;
using System.Text;

namespace Pipeline.Testing.BadInput;

/// <summary>
/// A seeded random mutator for fuzzing the segment path (no SharpFuzz here): each call applies
/// one to three byte- or token-level edits to a seed document — bit flips, byte insert/delete,
/// chunk duplication, truncation, splices with another seed, and JSON-aware swaps of a number,
/// string or literal for a hostile value (huge, NaN, deep, null bytes, bad UTF-8). Same seed,
/// same sequence.
/// </summary>
public sealed class SegmentMutator(int seed)
{
    private static readonly string[] HostileValues =
    [
        "1e400", "-1e400", "NaN", "Infinity", "-0", "1.7976931348623157e309", "99999999999999999999999999999",
        "null", "true", "[]", "{}", "\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"" + new string('z', 300) + "\"",
        new string('[', 200) + new string(']', 200), "{\"a\":" + new string('[', 80) + new string(']', 80) + "}",
        "\"1-00000000-000000000000000000000000\"", "\"ffffffffffffffff\"", "\"subsegment\"",
    ];

    private readonly Random _random = new(seed);

    public byte[] Mutate(ReadOnlySpan<byte> document, IReadOnlyList<byte[]> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        var bytes = document.ToArray();
        var edits = 1 + _random.Next(3);
        for (var i = 0; i < edits && bytes.Length > 0; i++)
        {
            bytes = _random.Next(9) switch
            {
                0 => FlipBit(bytes),
                1 => InsertByte(bytes),
                2 => DeleteRange(bytes),
                3 => DuplicateChunk(bytes),
                4 => bytes[..Math.Max(1, _random.Next(bytes.Length))],
                5 => Splice(bytes, seeds[_random.Next(seeds.Count)]),
                _ => ReplaceValue(bytes),
            };
        }

        return bytes;
    }

    private byte[] FlipBit(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        copy[_random.Next(copy.Length)] ^= (byte)(1 << _random.Next(8));
        return copy;
    }

    private byte[] InsertByte(byte[] bytes)
    {
        byte[] interesting = [0x00, 0xFF, 0xC0, 0x80, (byte)'"', (byte)'\\', (byte)'{', (byte)'[', (byte)',', (byte)':', (byte)'\n', 0x7F];
        var at = _random.Next(bytes.Length + 1);
        var value = _random.Next(2) == 0 ? interesting[_random.Next(interesting.Length)] : (byte)_random.Next(256);
        return [.. bytes.AsSpan(0, at), value, .. bytes.AsSpan(at)];
    }

    private byte[] DeleteRange(byte[] bytes)
    {
        var at = _random.Next(bytes.Length);
        var length = Math.Min(bytes.Length - at, 1 + _random.Next(16));
        return [.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + length)];
    }

    private byte[] DuplicateChunk(byte[] bytes)
    {
        var at = _random.Next(bytes.Length);
        var length = Math.Min(bytes.Length - at, 1 + _random.Next(64));
        return [.. bytes.AsSpan(0, at + length), .. bytes.AsSpan(at, length), .. bytes.AsSpan(at + length)];
    }

    private byte[] Splice(byte[] bytes, byte[] other)
    {
        var cut = _random.Next(bytes.Length);
        var from = _random.Next(Math.Max(1, other.Length));
        return [.. bytes.AsSpan(0, cut), .. other.AsSpan(Math.Min(from, other.Length))];
    }

    /// <summary>Swaps one JSON value (after a ':') for a hostile one.</summary>
    private byte[] ReplaceValue(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var colons = new List<int>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == ':')
            {
                colons.Add(i);
            }
        }

        if (colons.Count == 0)
        {
            return bytes;
        }

        var start = colons[_random.Next(colons.Count)] + 1;
        var end = ValueEnd(text, start);
        var replacement = _random.Next(5) == 0
            ? _random.NextDouble().ToString("R", CultureInfo.InvariantCulture) + "e" + _random.Next(-400, 400).ToString(CultureInfo.InvariantCulture)
            : HostileValues[_random.Next(HostileValues.Length)];
        return Encoding.UTF8.GetBytes(string.Concat(text.AsSpan(0, start), replacement, text.AsSpan(end)));
    }

    private static int ValueEnd(string text, int start)
    {
        var i = start;
        while (i < text.Length && text[i] == ' ')
        {
            i++;
        }

        if (i < text.Length && text[i] == '"')
        {
            for (i++; i < text.Length; i++)
            {
                if (text[i] == '\\')
                {
                    i++;
                }
                else if (text[i] == '"')
                {
                    return i + 1;
                }
            }

            return text.Length;
        }

        var depth = 0;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '{' or '[')
            {
                depth++;
            }
            else if (c is '}' or ']')
            {
                if (depth == 0)
                {
                    return i;
                }

                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                return i;
            }
        }

        return text.Length;
    }
}
