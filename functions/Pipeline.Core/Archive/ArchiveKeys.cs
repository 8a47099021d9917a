using System.Globalization;

namespace Pipeline.Core.Archive;

/// <summary>
/// S3 keys of the archive (DESIGN.md "Archive"). Every key is a pure function of the Kinesis shard
/// id, the batch's first sequence number and the arrival time of that first record
/// (<c>approximateArrivalTimestamp</c>, UTC): a retried batch that starts at the same record
/// rewrites the same object (a longer retry is a superset overwrite) and a bisected half, starting
/// at another record, gets its own key. Hive-style partitions (<c>dt=</c>, <c>hour=</c>) for Athena.
/// </summary>
public static class ArchiveKeys
{
    public const string SegmentsPrefix = "segments/";
    public const string QuarantinePrefix = "quarantine/";
    public const string UsagePrefix = "usage/";
    public const string XRayRetryPrefix = "xray-retry/";

    /// <summary>Kinesis shard ids are like <c>shardId-000000000000</c>; bounded so keys stay short.</summary>
    private const int MaxShardIdLength = 128;

    /// <summary>Kinesis sequence numbers are decimal strings of up to 128 digits (Kinesis API reference, "SequenceNumber").</summary>
    private const int MaxSequenceNumberLength = 128;

    /// <summary><c>segments/dt=YYYY-MM-DD/hour=HH/&lt;shard&gt;-&lt;firstSeq&gt;.ndjson.gz</c></summary>
    public static string Segments(string shardId, string firstSequenceNumber, DateTimeOffset firstArrival)
    {
        var utc = firstArrival.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{SegmentsPrefix}dt={utc:yyyy-MM-dd}/hour={utc:HH}/{Name(shardId, firstSequenceNumber)}.ndjson.gz");
    }

    /// <summary><c>quarantine/dt=YYYY-MM-DD/&lt;shard&gt;-&lt;firstSeq&gt;.ndjson.gz</c></summary>
    public static string Quarantine(string shardId, string firstSequenceNumber, DateTimeOffset firstArrival) =>
        Daily(QuarantinePrefix, shardId, firstSequenceNumber, firstArrival, ".ndjson.gz");

    /// <summary><c>usage/dt=YYYY-MM-DD/&lt;shard&gt;-&lt;firstSeq&gt;.json</c>: the batch's own key, so a retry overwrites it.</summary>
    public static string Usage(string shardId, string firstSequenceNumber, DateTimeOffset firstArrival) =>
        Daily(UsagePrefix, shardId, firstSequenceNumber, firstArrival, ".json");

    /// <summary><c>segments/dt=YYYY-MM-DD/hour=HH/</c>: one arrival hour of the archive, for listing (the hour of <paramref name="hour"/>, UTC).</summary>
    public static string SegmentsHourPrefix(DateTimeOffset hour)
    {
        var utc = hour.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{SegmentsPrefix}dt={utc:yyyy-MM-dd}/hour={utc:HH}/");
    }

    /// <summary><c>usage/dt=YYYY-MM-DD/</c>: one day of usage records, for listing.</summary>
    public static string UsageDayPrefix(DateOnly day) =>
        string.Create(CultureInfo.InvariantCulture, $"{UsagePrefix}dt={day:yyyy-MM-dd}/");

    /// <summary><c>xray-retry/dt=YYYY-MM-DD/&lt;shard&gt;-&lt;firstSeq&gt;.ndjson</c> (uncompressed: the replay reads it line by line).</summary>
    public static string XRayRetry(string shardId, string firstSequenceNumber, DateTimeOffset firstArrival) =>
        Daily(XRayRetryPrefix, shardId, firstSequenceNumber, firstArrival, ".ndjson");

    /// <summary>
    /// <c>xray-retry/dt=YYYY-MM-DD/&lt;shard&gt;-&lt;firstSeq&gt;.otlp</c>: the OTel spans X-Ray's OTLP endpoint did not
    /// take (XRAY_FORWARD=otlp), one OTLP Kinesis record (docs/kinesis-records.md) holding one
    /// <c>ExportTraceServiceRequest</c>; next to the batch's <see cref="XRayRetry"/> object.
    /// </summary>
    public static string XRayRetryOtlp(string shardId, string firstSequenceNumber, DateTimeOffset firstArrival) =>
        Daily(XRayRetryPrefix, shardId, firstSequenceNumber, firstArrival, XRayRetryOtlpExtension);

    /// <summary>The extension that tells a parked OTLP object from a parked NDJSON one.</summary>
    public const string XRayRetryOtlpExtension = ".otlp";

    private static string Daily(string prefix, string shardId, string firstSequenceNumber, DateTimeOffset firstArrival, string extension)
    {
        var utc = firstArrival.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{prefix}dt={utc:yyyy-MM-dd}/{Name(shardId, firstSequenceNumber)}{extension}");
    }

    private static string Name(string shardId, string firstSequenceNumber)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        ArgumentException.ThrowIfNullOrEmpty(firstSequenceNumber);
        if (shardId.Length > MaxShardIdLength || !shardId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException("A shard id is ASCII letters, digits, '-', '_' or '.'.", nameof(shardId));
        }

        if (firstSequenceNumber.Length > MaxSequenceNumberLength || !firstSequenceNumber.All(char.IsAsciiDigit))
        {
            throw new ArgumentException("A Kinesis sequence number is decimal digits.", nameof(firstSequenceNumber));
        }

        return shardId + "-" + firstSequenceNumber;
    }
}
