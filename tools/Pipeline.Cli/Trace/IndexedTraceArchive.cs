using Pipeline.Aws.Storage;
using Pipeline.Core.Archive;
using Pipeline.Core.Traces;

namespace Pipeline.Cli.Trace;

/// <summary>
/// A trace lookup that uses the per-hour trace-id index (<see cref="TraceIndex"/>) where an hour
/// has one: it opens the index and only the objects the index names for the trace, plus every
/// object of the hour the index does not cover (arrived or rewritten since it was built), and
/// keeps the lines that mention the trace id (the same test as <see cref="TraceLookupSql"/>:
/// the lowercased line contains the id). Hours without a usable index go to the archive it wraps
/// (DuckDB over the hour, or the S3 copy), so a missing or stale index costs time, never segments.
/// </summary>
internal sealed class IndexedTraceArchive : ITraceArchive
{
    private readonly IObjectStore _store;
    private readonly string _bucket;
    private readonly ITraceArchive _unindexed;
    private readonly bool _ownsUnindexed;

    /// <param name="unindexed">Reads the hours that have no usable index.</param>
    /// <param name="ownsUnindexed">Whether disposing this disposes <paramref name="unindexed"/> too.</param>
    public IndexedTraceArchive(IObjectStore store, string bucket, ITraceArchive unindexed, bool ownsUnindexed = true)
    {
        _store = store;
        _bucket = bucket;
        _unindexed = unindexed;
        _ownsUnindexed = ownsUnindexed;
    }

    public string Source => _unindexed.Source;

    public bool BytesAreScanned => false;

    /// <summary>Hours read through their index so far.</summary>
    public List<ArchiveHour> IndexedHours { get; } = [];

    /// <summary>Hours that had objects but no usable index (read whole).</summary>
    public List<ArchiveHour> UnindexedHours { get; } = [];

    public async Task<TraceArchiveRead> ReadAsync(string traceId, IReadOnlyList<ArchiveHour> hours, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hours);
        var needle = System.Text.Encoding.ASCII.GetBytes(traceId);
        var lines = new List<byte[]>();
        long objects = 0;
        long bytes = 0;
        var whole = new List<ArchiveHour>();
        foreach (var hour in hours)
        {
            var stored = await _store.ListAsync(_bucket, hour.Prefix, TraceIndex.MaxObjects + 1, cancellationToken).ConfigureAwait(false);
            if (stored.Count == 0)
            {
                continue;
            }

            var indexBytes = stored.Count > TraceIndex.MaxObjects ? null : await _store.GetAsync(_bucket, TraceIndex.Key(hour), cancellationToken).ConfigureAwait(false);
            var index = indexBytes is null ? null : TraceIndex.TryParse(indexBytes);
            if (index is null)
            {
                whole.Add(hour);
                continue;
            }

            IndexedHours.Add(hour);
            objects++;
            bytes += indexBytes!.Length;
            var covered = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < index.Objects.Count; i++)
            {
                covered[index.Objects[i].Key] = i;
            }

            var wanted = index.ObjectsOf(traceId).ToHashSet();
            foreach (var o in stored)
            {
                if (covered.TryGetValue(o.Key, out var n) && index.Objects[n].Size == o.Size && !wanted.Contains(n))
                {
                    continue;
                }

                var content = await _store.GetAsync(_bucket, o.Key, cancellationToken).ConfigureAwait(false);
                if (content is null)
                {
                    continue;
                }

                objects++;
                bytes += content.Length;
                foreach (var line in ArchiveObjects.Lines(ArchiveObjects.Content(content)))
                {
                    if (Mentions(line.Span, needle))
                    {
                        lines.Add(line.ToArray());
                    }
                }
            }
        }

        UnindexedHours.AddRange(whole);
        if (whole.Count > 0)
        {
            var rest = await _unindexed.ReadAsync(traceId, whole, cancellationToken).ConfigureAwait(false);
            lines.AddRange(rest.Lines);
            objects += rest.Objects;
            bytes += rest.Bytes;
        }

        return new TraceArchiveRead(lines, objects, bytes);
    }

    public void Dispose()
    {
        if (_ownsUnindexed)
        {
            _unindexed.Dispose();
        }
    }

    /// <summary>Whether the ASCII-lowercased line contains the (lowercase) id.</summary>
    internal static bool Mentions(ReadOnlySpan<byte> line, ReadOnlySpan<byte> id)
    {
        if (line.IndexOf(id) >= 0)
        {
            return true;
        }

        if (!line.ContainsAnyInRange((byte)'A', (byte)'Z'))
        {
            return false;
        }

        var lower = line.ToArray();
        for (var i = 0; i < lower.Length; i++)
        {
            if (lower[i] is >= (byte)'A' and <= (byte)'Z')
            {
                lower[i] += 32;
            }
        }

        return lower.AsSpan().IndexOf(id) >= 0;
    }
}
