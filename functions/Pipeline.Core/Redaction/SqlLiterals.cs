using System.Buffers;

namespace Pipeline.Core.Redaction;

/// <summary>
/// Replaces string literals (<c>'...'</c>, with <c>''</c> and backslash escapes) and numeric
/// literals with <c>?</c> in a SQL text. Identifiers (<c>t1</c>, <c>"col 2"</c>), placeholders
/// (<c>$1</c>, <c>:name</c>, <c>?</c>) and comments are left alone, so sanitizing twice changes nothing.
/// </summary>
internal static class SqlLiterals
{
    public static byte[] Sanitize(ReadOnlySpan<byte> sql, out int literals)
    {
        var output = new ArrayBufferWriter<byte>(sql.Length);
        literals = Process(sql, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>How many literals <see cref="Sanitize"/> would replace.</summary>
    public static int Count(ReadOnlySpan<byte> sql) => Process(sql, output: null);

    private static int Process(ReadOnlySpan<byte> sql, ArrayBufferWriter<byte>? output)
    {
        var literals = 0;
        var i = 0;
        while (i < sql.Length)
        {
            var b = sql[i];
            if (b == (byte)'\'')
            {
                i = SkipQuoted(sql, i, (byte)'\'');
                output?.Write("?"u8);
                literals++;
            }
            else if (b == (byte)'"' || b == (byte)'`')
            {
                var end = SkipQuoted(sql, i, b);
                output?.Write(sql[i..end]);
                i = end;
            }
            else if (char.IsAsciiDigit((char)b) && (i == 0 || !IsWordByte(sql[i - 1])))
            {
                i = SkipNumber(sql, i);
                output?.Write("?"u8);
                literals++;
            }
            else
            {
                output?.Write(sql.Slice(i, 1));
                i++;
            }
        }

        return literals;
    }

    private static bool IsWordByte(byte b) =>
        char.IsAsciiLetterOrDigit((char)b) || b is (byte)'_' or (byte)'$' or (byte)':' or (byte)'@' or (byte)'.' or (byte)'?' or >= 0x80;

    /// <summary>Index just past the closing quote (or the end of text when unterminated).</summary>
    private static int SkipQuoted(ReadOnlySpan<byte> sql, int start, byte quote)
    {
        var i = start + 1;
        while (i < sql.Length)
        {
            if (sql[i] == (byte)'\\' && quote == (byte)'\'')
            {
                i += 2;
                continue;
            }

            if (sql[i] == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return sql.Length;
    }

    private static int SkipNumber(ReadOnlySpan<byte> sql, int start)
    {
        var i = start;
        while (i < sql.Length && (char.IsAsciiLetterOrDigit((char)sql[i]) || sql[i] == (byte)'.'
            || ((sql[i] == (byte)'+' || sql[i] == (byte)'-') && (sql[i - 1] | 0x20) == (byte)'e')))
        {
            i++;
        }

        return i;
    }
}
