using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;

namespace Pipeline.Core.Traces;

/// <summary>
/// The one way the trace pages put text into HTML: <see cref="DisplayText"/> first (so control,
/// bidirectional and invisible characters show as escapes), then HTML encoding (every character
/// that could end a text node or an attribute, and everything outside ASCII, as a character
/// reference). Attributes are always double-quoted by the callers.
/// </summary>
public static class Html
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;

    /// <summary>Text for an element body or a quoted attribute value.</summary>
    public static string Text(string? value) => Encoder.Encode(DisplayText.Escape(value));

    /// <summary>Multi-line text for a &lt;pre&gt;: each line made safe on its own, the newlines kept.</summary>
    public static string Pre(string? value) =>
        string.Join('\n', (value ?? string.Empty).Split('\n').Select(line => Text(line.TrimEnd('\r'))));

    /// <summary>A number for an attribute or SVG coordinate (invariant, short).</summary>
    public static string Number(double value) => double.IsFinite(value) ? Math.Round(value, 3).ToString(CultureInfo.InvariantCulture) : "0";

    /// <summary>A URL query value, percent-encoded.</summary>
    public static string Query(string? value) => Uri.EscapeDataString(value ?? string.Empty);

    /// <summary>The CSP source for an inline &lt;style&gt; or &lt;script&gt; with exactly this content.</summary>
    public static string CspHash(string content) =>
        "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(content))) + "'";
}
