using System.Globalization;
using System.Text;
using Pipeline.Core.Segments;
using Pipeline.Core.Wire;

namespace Pipeline.Core.Traces;

/// <summary>
/// Trace ids as a user types them: the X-Ray form <c>1-5f84c7a3-0123456789abcdef01234567</c>
/// (any hex case) or the W3C / OpenTelemetry form of 32 hex digits, which maps to X-Ray as
/// <c>1-</c> + first 8 + <c>-</c> + last 24 (DESIGN.md "OpenTelemetry"). The result is the
/// lowercase X-Ray form, the key the archive lookups compare against.
/// </summary>
public static class TraceIds
{
    /// <summary>W3C trace-context trace-id: 16 bytes as 32 lowercase hex digits.</summary>
    public const int W3CLength = 32;

    public static bool TryNormalize(string? text, out string traceId)
    {
        traceId = string.Empty;
        var t = text?.Trim() ?? string.Empty;
        if (t.Length == W3CLength && t.All(char.IsAsciiHexDigit))
        {
            t = "1-" + t[..8] + "-" + t[8..];
        }

        if (t.Length != TraceIdSniffer.TraceIdLength || !TraceIdSniffer.IsWellFormed(Encoding.ASCII.GetBytes(t)))
        {
            return false;
        }

        traceId = t.ToLowerInvariant();
        return true;
    }

    /// <summary>The start epoch carried in a normalised trace id (seconds).</summary>
    public static DateTimeOffset Epoch(string traceId)
    {
        ArgumentNullException.ThrowIfNull(traceId);
        var seconds = SegmentValidator.TraceEpochSeconds(Encoding.ASCII.GetBytes(traceId));
        return seconds < 0
            ? throw new ArgumentException($"'{traceId}' is not a trace id", nameof(traceId))
            : DateTimeOffset.FromUnixTimeSeconds(seconds);
    }

    /// <summary>Whether the epoch is one a real trace can have, by the ingest's own rule.</summary>
    public static bool IsPlausibleEpoch(DateTimeOffset epoch, DateTimeOffset now, ValidationOptions? options = null)
    {
        var o = options ?? new ValidationOptions();
        return epoch >= o.MinTraceEpoch && epoch <= now + o.MaxTraceEpochSkew;
    }

    public static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
