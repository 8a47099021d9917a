using System.Buffers;
using System.Text;

namespace Pipeline.Core.Redaction;

/// <summary>Masks query parameter values and the password of user info in a URL (bytes in, bytes out).</summary>
internal static class UrlSecrets
{
    public static byte[] Redact(ReadOnlySpan<byte> url, byte[][] parameters, bool maskPassword, byte[] mask, out int maskedParameters, out int maskedPasswords)
    {
        var output = new ArrayBufferWriter<byte>(url.Length + 16);
        Process(url, parameters, maskPassword, mask, output, out maskedParameters, out maskedPasswords);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>How many values <see cref="Redact"/> would mask, without building the result.</summary>
    public static int Count(ReadOnlySpan<byte> url, byte[][] parameters, bool maskPassword, byte[] mask)
    {
        Process(url, parameters, maskPassword, mask, output: null, out var maskedParameters, out var maskedPasswords);
        return maskedParameters + maskedPasswords;
    }

    private static void Process(ReadOnlySpan<byte> url, byte[][] parameters, bool maskPassword, byte[] mask, ArrayBufferWriter<byte>? output, out int maskedParameters, out int maskedPasswords)
    {
        maskedParameters = 0;
        maskedPasswords = 0;
        var rest = url;

        if (maskPassword)
        {
            var scheme = url.IndexOf("://"u8);
            if (scheme >= 0)
            {
                var authorityStart = scheme + 3;
                var authorityEnd = url[authorityStart..].IndexOfAny("/?#"u8);
                var authority = authorityEnd < 0 ? url[authorityStart..] : url.Slice(authorityStart, authorityEnd);
                var at = authority.LastIndexOf((byte)'@');
                var colon = at < 0 ? -1 : authority[..at].IndexOf((byte)':');
                if (colon >= 0)
                {
                    var password = authority.Slice(colon + 1, at - colon - 1);
                    output?.Write(url[..(authorityStart + colon + 1)]);
                    if (password.SequenceEqual(mask))
                    {
                        output?.Write(password);
                    }
                    else
                    {
                        output?.Write(mask);
                        maskedPasswords++;
                    }

                    rest = url[(authorityStart + at)..];
                }
            }
        }

        var query = rest.IndexOf((byte)'?');
        if (query < 0 || parameters.Length == 0)
        {
            output?.Write(rest);
            return;
        }

        output?.Write(rest[..(query + 1)]);
        rest = rest[(query + 1)..];
        var fragmentAt = rest.IndexOf((byte)'#');
        var fragment = fragmentAt < 0 ? default : rest[fragmentAt..];
        var pairs = fragmentAt < 0 ? rest : rest[..fragmentAt];
        var first = true;
        while (true)
        {
            var amp = pairs.IndexOf((byte)'&');
            var pair = amp < 0 ? pairs : pairs[..amp];
            if (!first)
            {
                output?.Write("&"u8);
            }

            first = false;
            var equals = pair.IndexOf((byte)'=');
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? default : pair[(equals + 1)..];
            if (equals >= 0 && !value.SequenceEqual(mask) && IsListed(parameters, name))
            {
                output?.Write(name);
                output?.Write("="u8);
                output?.Write(mask);
                maskedParameters++;
            }
            else
            {
                output?.Write(pair);
            }

            if (amp < 0)
            {
                break;
            }

            pairs = pairs[(amp + 1)..];
        }

        output?.Write(fragment);
    }

    private static bool IsListed(byte[][] parameters, ReadOnlySpan<byte> name)
    {
        foreach (var parameter in parameters)
        {
            if (Ascii.EqualsIgnoreCase(parameter, name))
            {
                return true;
            }
        }

        return false;
    }
}
