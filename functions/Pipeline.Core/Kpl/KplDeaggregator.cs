using Pipeline.Core.Wire;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Core.Kpl;

/// <summary>What <see cref="KplDeaggregator.Deaggregate"/> found.</summary>
public enum KplStatus
{
    /// <summary>No KPL magic: the record is a plain record, returned as the single user record.</summary>
    NotAggregated,
    /// <summary>A valid aggregated record; its user records are returned in order.</summary>
    Aggregated,
    /// <summary>KPL magic but the MD5 does not match the protobuf: no records are returned.</summary>
    BadChecksum,
    /// <summary>KPL magic and a matching MD5 but protobuf that does not decode: no records are returned.</summary>
    Malformed,
}

/// <summary>
/// One user record out of a Kinesis record. <paramref name="Data"/> is a slice of the input (no
/// copy). <paramref name="SubSequenceNumber"/> is its index inside the aggregated record (0 for a
/// plain record), so (sequence number, sub-sequence number) identifies it uniquely.
/// </summary>
public readonly record struct KplUserRecord(string PartitionKey, string? ExplicitHashKey, ReadOnlyMemory<byte> Data, int SubSequenceNumber);

/// <summary>The outcome: a status and, unless corrupt, the user records in order.</summary>
public sealed record KplDeaggregation(KplStatus Status, IReadOnlyList<KplUserRecord> Records)
{
    public bool IsCorrupt => Status is KplStatus.BadChecksum or KplStatus.Malformed;
}

/// <summary>
/// Splits a KPL aggregated record back into the user records (the KCL's de-aggregation). A record
/// without the magic comes back unchanged as one user record under the outer partition key, so
/// callers can run every Kinesis record through it. Unknown protobuf fields (such as tags) are skipped.
/// </summary>
public static class KplDeaggregator
{
    /// <summary>A bound on user records in one aggregated record (1 MiB of 3-byte minimal records is ~350k).</summary>
    public const int MaxUserRecords = 1_000_000;

    /// <param name="record">The Kinesis record's data (already base64-decoded).</param>
    /// <param name="partitionKey">The Kinesis record's partition key, used for a plain record.</param>
    /// <param name="explicitHashKey">The Kinesis record's explicit hash key, if any.</param>
    public static KplDeaggregation Deaggregate(ReadOnlyMemory<byte> record, string partitionKey, string? explicitHashKey = null)
    {
        var span = record.Span;
        if (span.Length < KplFormat.MagicLength + KplFormat.ChecksumLength || !span.StartsWith(KplFormat.Magic))
        {
            return new KplDeaggregation(KplStatus.NotAggregated, [new KplUserRecord(partitionKey, explicitHashKey, record, 0)]);
        }

        var protobufLength = span.Length - KplFormat.MagicLength - KplFormat.ChecksumLength;
        var protobuf = record.Slice(KplFormat.MagicLength, protobufLength);
        Span<byte> digest = stackalloc byte[KplFormat.ChecksumLength];
#pragma warning disable CA5351 // The KPL format fixes MD5 as an integrity checksum; nothing here is security.
        MD5.HashData(protobuf.Span, digest);
#pragma warning restore CA5351
        if (!digest.SequenceEqual(span[(KplFormat.MagicLength + protobufLength)..]))
        {
            return new KplDeaggregation(KplStatus.BadChecksum, []);
        }

        var records = TryDecode(protobuf);
        return records is null
            ? new KplDeaggregation(KplStatus.Malformed, [])
            : new KplDeaggregation(KplStatus.Aggregated, records);
    }

    /// <summary>True when the data starts with the KPL magic (cheap check before a full de-aggregation).</summary>
    public static bool IsAggregated(ReadOnlySpan<byte> record) =>
        record.Length >= KplFormat.MagicLength + KplFormat.ChecksumLength && record.StartsWith(KplFormat.Magic);

    private static List<KplUserRecord>? TryDecode(ReadOnlyMemory<byte> protobuf)
    {
        var span = protobuf.Span;
        var partitionKeys = new List<string>();
        var hashKeys = new List<string>();
        var raw = new List<(ulong Pk, ulong? Ehk, ReadOnlyMemory<byte> Data)>();
        var position = 0;
        while (position < span.Length)
        {
            if (!Protobuf.TryReadVarint(span, ref position, out var tag))
            {
                return null;
            }

            var field = (int)(tag >> 3);
            var wireType = (int)(tag & 7);
            if (field is KplFormat.FieldPartitionKeyTable or KplFormat.FieldExplicitHashKeyTable or KplFormat.FieldRecords)
            {
                if (wireType != Protobuf.WireLengthDelimited || !Protobuf.TryReadLengthDelimited(span, ref position, out var start, out var length))
                {
                    return null;
                }

                var value = protobuf.Slice(start, length);
                switch (field)
                {
                    case KplFormat.FieldPartitionKeyTable:
                        partitionKeys.Add(Encoding.UTF8.GetString(value.Span));
                        break;
                    case KplFormat.FieldExplicitHashKeyTable:
                        hashKeys.Add(Encoding.UTF8.GetString(value.Span));
                        break;
                    default:
                        if (raw.Count >= MaxUserRecords || !TryDecodeRecord(value, out var entry))
                        {
                            return null;
                        }

                        raw.Add(entry);
                        break;
                }
            }
            else if (!Protobuf.TrySkip(span, ref position, wireType))
            {
                return null;
            }
        }

        var records = new List<KplUserRecord>(raw.Count);
        foreach (var (pk, ehk, data) in raw)
        {
            if (pk >= (ulong)partitionKeys.Count || (ehk is { } e && e >= (ulong)hashKeys.Count))
            {
                return null;
            }

            records.Add(new KplUserRecord(partitionKeys[(int)pk], ehk is { } h ? hashKeys[(int)h] : null, data, records.Count));
        }

        return records;
    }

    private static bool TryDecodeRecord(ReadOnlyMemory<byte> message, out (ulong Pk, ulong? Ehk, ReadOnlyMemory<byte> Data) entry)
    {
        entry = default;
        var span = message.Span;
        ulong? pk = null;
        ulong? ehk = null;
        ReadOnlyMemory<byte>? data = null;
        var position = 0;
        while (position < span.Length)
        {
            if (!Protobuf.TryReadVarint(span, ref position, out var tag))
            {
                return false;
            }

            var field = (int)(tag >> 3);
            var wireType = (int)(tag & 7);
            switch (field)
            {
                case KplFormat.FieldPartitionKeyIndex when wireType == Protobuf.WireVarint:
                    if (!Protobuf.TryReadVarint(span, ref position, out var p))
                    {
                        return false;
                    }

                    pk = p;
                    break;
                case KplFormat.FieldExplicitHashKeyIndex when wireType == Protobuf.WireVarint:
                    if (!Protobuf.TryReadVarint(span, ref position, out var h))
                    {
                        return false;
                    }

                    ehk = h;
                    break;
                case KplFormat.FieldData when wireType == Protobuf.WireLengthDelimited:
                    if (!Protobuf.TryReadLengthDelimited(span, ref position, out var start, out var length))
                    {
                        return false;
                    }

                    data = message.Slice(start, length);
                    break;
                case KplFormat.FieldPartitionKeyIndex or KplFormat.FieldExplicitHashKeyIndex or KplFormat.FieldData:
                    return false;
                default:
                    if (!Protobuf.TrySkip(span, ref position, wireType))
                    {
                        return false;
                    }

                    break;
            }
        }

        // partition_key_index and data are required fields.
        if (pk is null || data is null)
        {
            return false;
        }

        entry = (pk.Value, ehk, data.Value);
        return true;
    }
}
