namespace Pipeline.Core;

/// <summary>
/// Lock-free counts per reason code (<see cref="Segments.SegmentRejectReason"/>,
/// <see cref="Sampling.SamplingReason"/>, <see cref="Wire.DatagramReject"/>, ...), for EMF metrics
/// and usage records. Reason values must be small non-negative integers, which every reason enum
/// here is; larger values are counted under <see cref="Overflow"/> rather than lost.
/// </summary>
public sealed class ReasonCounters<TReason>
    where TReason : struct, Enum
{
    private const int MaxReasonValue = 255;

    private readonly long[] _counts = new long[MaxReasonValue + 1];
    private long _overflow;

    /// <summary>Increments that fell outside 0..255 (a reason enum grew past the table).</summary>
    public long Overflow => Interlocked.Read(ref _overflow);

    public void Increment(TReason reason, long by = 1)
    {
        var value = Convert.ToInt64(reason, System.Globalization.CultureInfo.InvariantCulture);
        if (value is < 0 or > MaxReasonValue)
        {
            Interlocked.Add(ref _overflow, by);
            return;
        }

        Interlocked.Add(ref _counts[value], by);
    }

    public long this[TReason reason]
    {
        get
        {
            var value = Convert.ToInt64(reason, System.Globalization.CultureInfo.InvariantCulture);
            return value is < 0 or > MaxReasonValue ? 0 : Interlocked.Read(ref _counts[value]);
        }
    }

    /// <summary>The non-zero counts, by reason.</summary>
    public IReadOnlyDictionary<TReason, long> Snapshot()
    {
        var snapshot = new Dictionary<TReason, long>();
        foreach (var reason in Enum.GetValues<TReason>())
        {
            var count = this[reason];
            if (count != 0)
            {
                snapshot[reason] = count;
            }
        }

        return snapshot;
    }
}
