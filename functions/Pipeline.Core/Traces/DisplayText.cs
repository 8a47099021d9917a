using System.Globalization;
using System.Text;

namespace Pipeline.Core.Traces;

/// <summary>
/// Makes application-written text safe to show on a terminal or in a page (where HTML encoding
/// comes on top). Segment documents come from any application (and, through a compromised one,
/// from an attacker): on a terminal a name holding ESC could move
/// the cursor, rewrite earlier lines, set the window title or, on some terminals, answer back
/// into the input. Every control character (C0, DEL, C1 — so every ANSI/OSC sequence loses its
/// introducer), every bidirectional override or isolate (which reorder what is displayed,
/// "Trojan Source", in a terminal and in a browser alike), zero-width and other format characters, and unpaired surrogates are shown as
/// visible escapes (<c>\x1b</c>, <c>\u202e</c>) instead. Nothing else is changed.
/// </summary>
public static class DisplayText
{
    public const char Ellipsis = '…';

    /// <summary>The text with every unsafe character escaped.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (!NeedsEscape(text))
        {
            return text;
        }

        var b = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var rune = new Rune(c, text[i + 1]);
                if (IsUnsafe(rune))
                {
                    b.Append(CultureInfo.InvariantCulture, $"\\u{{{rune.Value:x}}}");
                }
                else
                {
                    b.Append(c).Append(text[i + 1]);
                }

                i++;
            }
            else if (char.IsSurrogate(c))
            {
                b.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else if (IsUnsafe(new Rune(c)))
            {
                b.Append(c < 0x100 ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}") : string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"));
            }
            else
            {
                b.Append(c);
            }
        }

        return b.ToString();
    }

    /// <summary>Escaped, then cut to <paramref name="width"/> characters (the last one an ellipsis when cut).</summary>
    public static string Fit(string? text, int width)
    {
        var safe = Escape(text);
        if (width <= 0)
        {
            return string.Empty;
        }

        if (safe.Length <= width)
        {
            return safe;
        }

        var cut = width - 1;
        if (cut > 0 && char.IsHighSurrogate(safe[cut - 1]))
        {
            cut--;
        }

        return safe[..cut] + Ellipsis;
    }

    /// <summary>Padded on the right to exactly <paramref name="width"/> characters after <see cref="Fit"/>.</summary>
    public static string Column(string? text, int width) => Fit(text, width).PadRight(Math.Max(width, 0));

    private static bool NeedsEscape(string text)
    {
        foreach (var c in text)
        {
            if (char.IsSurrogate(c) || c < 0x20 || (c >= 0x7f && IsUnsafe(new Rune(c))))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsUnsafe(Rune rune)
    {
        var category = Rune.GetUnicodeCategory(rune);
        return category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;
    }
}
