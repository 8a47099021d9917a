namespace Pipeline.Functions.Ingest;

/// <summary>
/// Why the ingest quarantined a Kinesis record before any segment document could be read from it.
/// Codes start at 1000 so they never collide with <see cref="Core.Segments.SegmentRejectReason"/>
/// in the quarantine's <c>reason_code</c>; never renumber.
/// </summary>
public enum IngestRejectReason
{
    /// <summary>KPL magic, but the MD5 does not match the protobuf.</summary>
    KplBadChecksum = 1001,

    /// <summary>KPL magic and a good MD5, but the protobuf does not decode.</summary>
    KplMalformed = 1002,

    /// <summary>Processing the document threw (a bug): quarantined so that the shard moves on.</summary>
    InternalError = 1003,
}

/// <summary>Stable snake_case names for <see cref="IngestRejectReason"/>.</summary>
public static class IngestRejectReasonNames
{
    public static string ToCode(this IngestRejectReason reason) => reason switch
    {
        IngestRejectReason.KplBadChecksum => "kpl_bad_checksum",
        IngestRejectReason.KplMalformed => "kpl_malformed",
        IngestRejectReason.InternalError => "internal_error",
        _ => "unknown",
    };
}
