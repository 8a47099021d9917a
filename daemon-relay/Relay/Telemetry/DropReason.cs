using Pipeline.Core.Wire;

namespace Relay.Telemetry;

/// <summary>Why a segment (or a batch of them) did not reach Kinesis. Each has a counter.</summary>
public enum DropReason
{
    /// <summary>A zero-length datagram.</summary>
    EmptyDatagram,
    /// <summary>No header line before the document.</summary>
    MissingHeader,
    /// <summary>A header other than <c>{"format":"json","version":1}</c>.</summary>
    BadHeader,
    /// <summary>A header and nothing after it.</summary>
    EmptyBody,
    /// <summary>Larger than 64 KiB (or truncated by the socket).</summary>
    Oversize,
    /// <summary>The in-memory buffer (<c>-m</c>) was full: the newest segment is dropped.</summary>
    BufferFull,
    /// <summary>Kinesis could not take it after retries and no spool is configured.</summary>
    KinesisUnavailable,
    /// <summary>Kinesis could not take it and the spool directory was at its cap.</summary>
    SpoolFull,
    /// <summary>Kinesis could not take it and the disk refused the spool write (permissions, read-only, full disk).</summary>
    SpoolUnwritable,
    /// <summary>A spool file failed its checksum or framing on replay: the segments its name counted.</summary>
    SpoolCorrupt,
    /// <summary>Still unsent when --drain-timeout ran out at shutdown and no spool is configured.</summary>
    DrainTimeout,
}

/// <summary>Maps the wire layer's refusal reasons onto the relay's drop reasons.</summary>
public static class DropReasons
{
    public static readonly int Count = Enum.GetValues<DropReason>().Length;

    public static DropReason From(DatagramReject reject) => reject switch
    {
        DatagramReject.Empty => DropReason.EmptyDatagram,
        DatagramReject.MissingHeader => DropReason.MissingHeader,
        DatagramReject.BadHeader => DropReason.BadHeader,
        DatagramReject.EmptyBody => DropReason.EmptyBody,
        DatagramReject.Oversize => DropReason.Oversize,
        _ => throw new ArgumentOutOfRangeException(nameof(reject), reject, "not a reject"),
    };

    /// <summary>The Prometheus label value: snake_case of the enum name.</summary>
    public static string Label(DropReason reason) => reason switch
    {
        DropReason.EmptyDatagram => "empty_datagram",
        DropReason.MissingHeader => "missing_header",
        DropReason.BadHeader => "bad_header",
        DropReason.EmptyBody => "empty_body",
        DropReason.Oversize => "oversize",
        DropReason.BufferFull => "buffer_full",
        DropReason.KinesisUnavailable => "kinesis_unavailable",
        DropReason.SpoolFull => "spool_full",
        DropReason.SpoolUnwritable => "spool_unwritable",
        DropReason.SpoolCorrupt => "spool_corrupt",
        DropReason.DrainTimeout => "drain_timeout",
        _ => reason.ToString(),
    };
}
