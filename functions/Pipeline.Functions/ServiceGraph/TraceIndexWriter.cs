using Pipeline.Aws.Storage;
using Pipeline.Core.Archive;
using Pipeline.Core.Traces;

namespace Pipeline.Functions.ServiceGraph;

/// <summary>What indexing one hour did.</summary>
public enum TraceIndexOutcome
{
    /// <summary>The index was written (there was none, or it did not cover exactly the hour's objects).</summary>
    Built,

    /// <summary>The stored index already covers exactly the hour's objects.</summary>
    Current,

    /// <summary>The hour has no archive objects.</summary>
    Empty,
}

/// <summary>One hour's indexing: the index key, the outcome, and the objects and bytes read for it.</summary>
public sealed record TraceIndexedHour(ArchiveHour Hour, string Key, TraceIndexOutcome Outcome, int Objects, long Bytes, long IndexBytes);

/// <summary>
/// Writes the per-hour trace-id index (<see cref="TraceIndex"/>) of the archive bucket from the
/// hour's objects alone, unless the stored one already covers exactly those objects (key and
/// size). Used by the service-graph function after each window (the hours that closed) and by
/// <c>pipeline index</c>. Safe to run any time and repeatedly: the index is derived data.
/// </summary>
public sealed class TraceIndexWriter(IObjectStore store, string bucket)
{
    /// <summary>Indexes <paramref name="hour"/>; <paramref name="force"/> rebuilds a current index too.</summary>
    public async Task<TraceIndexedHour> IndexAsync(ArchiveHour hour, bool force, CancellationToken cancellationToken)
    {
        var listed = await store.ListAsync(bucket, hour.Prefix, TraceIndex.MaxObjects + 1, cancellationToken).ConfigureAwait(false);
        if (listed.Count > TraceIndex.MaxObjects)
        {
            throw new InvalidOperationException($"{hour.Prefix} holds more than {TraceIndex.MaxObjects} objects: not indexed");
        }

        var key = TraceIndex.Key(hour);
        if (listed.Count == 0)
        {
            return new TraceIndexedHour(hour, key, TraceIndexOutcome.Empty, 0, 0, 0);
        }

        if (!force && await store.GetAsync(bucket, key, cancellationToken).ConfigureAwait(false) is { } existing
            && TraceIndex.TryParse(existing) is { } index && Covers(index, listed))
        {
            return new TraceIndexedHour(hour, key, TraceIndexOutcome.Current, listed.Count, 0, existing.Length);
        }

        var contents = new List<(string, long, byte[])>(listed.Count);
        foreach (var o in listed)
        {
            if (await store.GetAsync(bucket, o.Key, cancellationToken).ConfigureAwait(false) is { } bytes)
            {
                // The size of the bytes read, not of the listing: a rewrite in between is then not covered.
                contents.Add((o.Key, bytes.Length, bytes));
            }
        }

        var built = TraceIndex.Build(contents);
        await store.PutAsync(bucket, key, built, ArchiveObjects.GzipNdjsonContentType, cancellationToken).ConfigureAwait(false);
        return new TraceIndexedHour(hour, key, TraceIndexOutcome.Built, contents.Count, contents.Sum(c => c.Item2), built.Length);
    }

    /// <summary>Whether <paramref name="index"/> names exactly <paramref name="objects"/> (keys and sizes).</summary>
    public static bool Covers(TraceIndex index, IReadOnlyList<StoredObject> objects)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(objects);
        return index.Objects.Count == objects.Count && objects.All(o => index.Objects.Contains(new IndexedObject(o.Key, o.Size)));
    }

    /// <summary>
    /// The arrival hours a scheduled run indexes: those of the window and of the window before it
    /// (a retried batch may still have rewritten an object there) that have closed by
    /// <paramref name="now"/>, oldest first. The hour still open is left for a later run.
    /// </summary>
    public static IReadOnlyList<ArchiveHour> ClosedHours(DateTimeOffset windowStart, DateTimeOffset windowEnd, DateTimeOffset now)
    {
        var hours = new List<ArchiveHour>();
        var from = windowStart - (windowEnd - windowStart);
        for (var at = new DateTimeOffset(from.UtcDateTime.Date.AddHours(from.UtcDateTime.Hour), TimeSpan.Zero); at < windowEnd && at.AddHours(1) <= now; at = at.AddHours(1))
        {
            hours.Add(new ArchiveHour(at));
        }

        return hours;
    }
}
