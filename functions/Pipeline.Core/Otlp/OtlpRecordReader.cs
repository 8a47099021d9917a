namespace Pipeline.Core.Otlp;

/// <summary>A span or record the ingest quarantines: reason code and name (docs/otlp.md) and the bytes to keep.</summary>
public readonly record struct OtlpQuarantine(string Reason, int ReasonCode, ReadOnlyMemory<byte> Original);

/// <summary>
/// What one OTLP Kinesis record holds: the X-Ray documents converted from its spans, what had to be
/// quarantined, and how many spans it carried (0 when the record itself could not be read).
/// </summary>
public sealed record OtlpRecordContent(IReadOnlyList<ConvertedDocument> Documents, IReadOnlyList<OtlpQuarantine> Quarantined, int Spans)
{
    /// <summary>The decoded request (null when the record could not be read): what a path that forwards spans as received sends.</summary>
    public OtlpTraceRequest? Request { get; init; }

    public int SpansQuarantined => Quarantined.Count(q => q.ReasonCode < OtlpReasonNames.DecodeErrorCodeBase);
}

/// <summary>The ingest's reading of an OTLP record (<see cref="OtlpRecord"/>): unwrap, decode, convert. Never throws on bad bytes.</summary>
public static class OtlpRecordReader
{
    public static OtlpRecordContent Read(ReadOnlyMemory<byte> record, OtlpConversionOptions? options = null, OtlpLimits? limits = null)
    {
        var status = OtlpRecord.TryRead(record, out var payload);
        if (status != OtlpRecordStatus.Ok)
        {
            var error = status == OtlpRecordStatus.UnsupportedVersion ? OtlpDecodeError.UnsupportedRecordVersion : OtlpDecodeError.TruncatedRecord;
            return Whole(error, record);
        }

        var decoded = OtlpProtobufDecoder.Decode(payload.Span, limits);
        if (!decoded.IsOk)
        {
            return Whole(decoded.Error, record);
        }

        var conversion = SpanConverter.Convert(decoded.Request!, options);
        var quarantined = conversion.Quarantined
            .Select(q => new OtlpQuarantine(q.Problem.ToCode(), OtlpReasonNames.QuarantineCodeBase + (int)q.Problem, q.Original))
            .ToList();
        return new OtlpRecordContent(conversion.Documents, quarantined, decoded.Request!.SpanCount) { Request = decoded.Request };
    }

    private static OtlpRecordContent Whole(OtlpDecodeError error, ReadOnlyMemory<byte> record) =>
        new([], [new OtlpQuarantine(error.ToCode(), OtlpReasonNames.DecodeErrorCodeBase + (int)error, record)], 0);
}
