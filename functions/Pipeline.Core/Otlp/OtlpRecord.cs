using System.Buffers.Binary;

namespace Pipeline.Core.Otlp;

/// <summary>What <see cref="OtlpRecord.TryRead"/> found in a Kinesis record.</summary>
public enum OtlpRecordStatus
{
    /// <summary>No OTLP record magic: an X-Ray segment document (or a KPL aggregate), not ours.</summary>
    NotOtlp,
    /// <summary>A version this reader knows; the payload is returned.</summary>
    Ok,
    /// <summary>The magic but a version this reader does not know (a newer relay): quarantined whole, replayable.</summary>
    UnsupportedVersion,
    /// <summary>The magic and no room for the version byte.</summary>
    Truncated,
}

/// <summary>
/// The versioned Kinesis record the relay writes for OTLP spans (docs/record-format.md). Layout:
/// 4 bytes magic <c>8E 4F 54 4C</c> (0x8E then "OTL"), 1 byte version, then the payload. Version 1's
/// payload is a protobuf OTLP <c>ExportTraceServiceRequest</c> holding spans of one trace (the
/// partition key is that trace's id in X-Ray form). The magic cannot start an X-Ray record: 0x8E is a
/// UTF-8 continuation byte, so no JSON text (a segment document, or the daemon header line) begins
/// with it, and the KPL magic begins with 0xF3.
/// </summary>
public static class OtlpRecord
{
    public static ReadOnlySpan<byte> Magic => [0x8E, 0x4F, 0x54, 0x4C];

    /// <summary>Version 1: payload = protobuf ExportTraceServiceRequest.</summary>
    public const byte Version1 = 1;

    public const int HeaderLength = 5;

    public static bool IsOtlpRecord(ReadOnlySpan<byte> data) => data.StartsWith(Magic);

    public static OtlpRecordStatus TryRead(ReadOnlyMemory<byte> data, out ReadOnlyMemory<byte> payload)
    {
        payload = default;
        var span = data.Span;
        if (!IsOtlpRecord(span))
        {
            return OtlpRecordStatus.NotOtlp;
        }

        if (span.Length < HeaderLength)
        {
            return OtlpRecordStatus.Truncated;
        }

        if (span[Magic.Length] != Version1)
        {
            return OtlpRecordStatus.UnsupportedVersion;
        }

        payload = data[HeaderLength..];
        return OtlpRecordStatus.Ok;
    }

    /// <summary>Writes the header into <paramref name="destination"/> (at least <see cref="HeaderLength"/> bytes).</summary>
    public static void WriteHeader(Span<byte> destination)
    {
        Magic.CopyTo(destination);
        destination[Magic.Length] = Version1;
    }

    /// <summary>A version 1 record around an encoded <c>ExportTraceServiceRequest</c>.</summary>
    public static byte[] Create(ReadOnlySpan<byte> request)
    {
        var record = new byte[HeaderLength + request.Length];
        WriteHeader(record);
        request.CopyTo(record.AsSpan(HeaderLength));
        return record;
    }
}

/// <summary>OTLP ids in the forms X-Ray and the archive use.</summary>
public static class OtlpIds
{
    /// <summary>
    /// A W3C trace id in X-Ray form: <c>1-</c> + first 8 hex + <c>-</c> + remaining 24 hex (lowercase).
    /// Source: AWS X-Ray developer guide, "Tracing identifiers" / the AWS X-Ray ID generator for OTel.
    /// </summary>
    public static string ToXRayTraceId(ReadOnlySpan<byte> traceId)
    {
        if (traceId.Length != OtlpWire.TraceIdLength)
        {
            throw new ArgumentException("A trace id is 16 bytes.", nameof(traceId));
        }

        Span<char> text = stackalloc char[35];
        text[0] = '1';
        text[1] = '-';
        text[10] = '-';
        Convert.TryToHexStringLower(traceId[..4], text[2..10], out _);
        Convert.TryToHexStringLower(traceId[4..], text[11..], out _);
        return new string(text);
    }

    /// <summary>The epoch seconds X-Ray reads from the first 4 bytes of the trace id.</summary>
    public static long TraceEpochSeconds(ReadOnlySpan<byte> traceId) => BinaryPrimitives.ReadUInt32BigEndian(traceId);

    /// <summary>A span id as 16 lowercase hex digits (an X-Ray entity id).</summary>
    public static string ToEntityId(ReadOnlySpan<byte> spanId) => Convert.ToHexStringLower(spanId);

    /// <summary>True for a 16-byte, not all-zero trace id (the OTLP specification calls all-zero invalid).</summary>
    public static bool IsValidTraceId(ReadOnlySpan<byte> traceId) => traceId.Length == OtlpWire.TraceIdLength && traceId.IndexOfAnyExcept((byte)0) >= 0;

    /// <summary>True for an 8-byte, not all-zero span id.</summary>
    public static bool IsValidSpanId(ReadOnlySpan<byte> spanId) => spanId.Length == OtlpWire.SpanIdLength && spanId.IndexOfAnyExcept((byte)0) >= 0;

    /// <summary>The checks every span must pass before the relay accepts it or the ingest converts it.</summary>
    public static OtlpSpanProblem Check(OtlpSpan span)
    {
        ArgumentNullException.ThrowIfNull(span);
        if (span.DecodeProblem != OtlpSpanProblem.None)
        {
            return span.DecodeProblem;
        }

        if (!IsValidTraceId(span.TraceId))
        {
            return OtlpSpanProblem.InvalidTraceId;
        }

        if (!IsValidSpanId(span.SpanId))
        {
            return OtlpSpanProblem.InvalidSpanId;
        }

        // An all-zero parent is read as no parent (some exporters send one for a root span).
        if (span.ParentSpanId.Length != 0 && span.ParentSpanId.Length != OtlpWire.SpanIdLength)
        {
            return OtlpSpanProblem.InvalidParentSpanId;
        }

        if (span.StartTimeUnixNano == 0)
        {
            return OtlpSpanProblem.MissingStartTime;
        }

        return span.EndTimeUnixNano != 0 && span.EndTimeUnixNano < span.StartTimeUnixNano ? OtlpSpanProblem.EndBeforeStart : OtlpSpanProblem.None;
    }

    /// <summary>True when the span names a parent (a non-empty, not all-zero parent span id).</summary>
    public static bool HasParent(OtlpSpan span)
    {
        ArgumentNullException.ThrowIfNull(span);
        return IsValidSpanId(span.ParentSpanId);
    }
}
