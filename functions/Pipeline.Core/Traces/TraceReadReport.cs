using System.Globalization;

namespace Pipeline.Core.Traces;

/// <summary>What a lookup read to find a trace, for the user ("say what was read") and the JSON output.</summary>
/// <param name="Source">Where: "local archive /path", "s3://bucket", "Athena workgroup wg".</param>
/// <param name="Bytes">Bytes of the objects read; on Athena, the bytes Athena scanned.</param>
/// <param name="BytesScanned">True when <paramref name="Bytes"/> is Athena's DataScannedInBytes.</param>
public sealed record TraceReadReport(string Source, IReadOnlyList<ArchiveHour> Hours, int Rounds, long Objects, long Bytes, bool BytesScanned = false)
{
    public string Describe()
    {
        var what = BytesScanned
            ? $"{Size(Bytes)} scanned by Athena"
            : $"{Objects.ToString(CultureInfo.InvariantCulture)} object(s), {Size(Bytes)}";
        return $"{Hours.Count.ToString(CultureInfo.InvariantCulture)} hour partition(s) ({ArchiveHour.Describe(Hours)}) in {Rounds.ToString(CultureInfo.InvariantCulture)} round(s): {what} from {Source}";
    }

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB"),
    };
}
