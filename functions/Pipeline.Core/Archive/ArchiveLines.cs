using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Archive;

/// <summary>One quarantined record: why, where in the document, and the original bytes.</summary>
public readonly record struct QuarantineEntry(
    string Reason,
    int ReasonCode,
    string Path,
    string SequenceNumber,
    DateTimeOffset ArrivalTime,
    ReadOnlyMemory<byte> Original)
{
    public static QuarantineEntry FromRejection(SegmentRejection rejection, string sequenceNumber, DateTimeOffset arrivalTime, ReadOnlyMemory<byte> original) =>
        new(rejection.Reason.ToCode(), (int)rejection.Reason, rejection.Path, sequenceNumber, arrivalTime, original);
}

/// <summary>
/// NDJSON line formats of the archive.
/// <para>Segments: one document per line, the (redacted) document bytes unchanged, then <c>\n</c>.
/// A document that contains line breaks (pretty-printed JSON; a JSON string cannot hold a raw
/// line break, so every CR/LF is insignificant whitespace) has its insignificant whitespace removed
/// so that it fits one line; any other document is written byte for byte.</para>
/// <para>Quarantine: <c>{"reason":"invalid_trace_id","reason_code":11,"path":"$.trace_id",
/// "sequence_number":"…","arrival_time":"2026-11-25T14:00:00.000Z","size":123,"original_base64":"…"}</c>.
/// Base64 because a rejected record need not be UTF-8 or JSON; Athena decodes it with <c>from_base64</c>.</para>
/// </summary>
public static class ArchiveLines
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };

    public static void WriteSegment(IBufferWriter<byte> output, ReadOnlySpan<byte> document)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (document.IndexOfAny((byte)'\n', (byte)'\r') < 0)
        {
            output.Write(document);
        }
        else
        {
            var span = output.GetSpan(document.Length);
            var written = Compact(document, span);
            output.Advance(written);
        }

        output.Write("\n"u8);
    }

    public static void WriteQuarantine(IBufferWriter<byte> output, in QuarantineEntry entry)
    {
        ArgumentNullException.ThrowIfNull(output);
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("reason"u8, entry.Reason);
            writer.WriteNumber("reason_code"u8, entry.ReasonCode);
            writer.WriteString("path"u8, entry.Path);
            writer.WriteString("sequence_number"u8, entry.SequenceNumber);
            writer.WriteString("arrival_time"u8, entry.ArrivalTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteNumber("size"u8, entry.Original.Length);
            writer.WriteBase64String("original_base64"u8, entry.Original.Span);
            writer.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>Removes whitespace outside strings. <paramref name="destination"/> must be as long as the input.</summary>
    internal static int Compact(ReadOnlySpan<byte> json, Span<byte> destination)
    {
        var written = 0;
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (inString)
            {
                destination[written++] = b;
                if (b == (byte)'\\' && i + 1 < json.Length)
                {
                    destination[written++] = json[++i];
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }
            }
            else if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                inString = b == (byte)'"';
                destination[written++] = b;
            }
        }

        return written;
    }
}
