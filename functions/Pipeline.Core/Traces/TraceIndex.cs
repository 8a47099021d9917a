using System.Globalization;
using System.Text;
using Pipeline.Core.Archive;
using Pipeline.Core.Wire;

namespace Pipeline.Core.Traces;

/// <summary>One archive object an index covers: its key and size when the index was built.</summary>
public readonly record struct IndexedObject(string Key, long Size);

/// <summary>
/// A per-hour trace-id index of the segments archive: which objects of an hour partition hold
/// lines of which trace. It is derived data, never the only copy: <see cref="Build"/> makes it
/// from the hour's objects alone, any time, and it names the objects (key and size) it covers, so
/// a reader trusts it only for those and reads any other object of the hour itself (one that
/// arrived after the build, or was rewritten longer by a retried batch). A stale, missing or
/// unreadable index makes a lookup slower, never wrong.
/// <para>Key: <c>trace-index/dt=YYYY-MM-DD/hour=HH/index.tsv.gz</c>, outside <c>segments/</c>
/// so that no Athena table reads it. Content (gzip text): the <see cref="Header"/> line, one
/// <c>o &lt;size&gt; &lt;key&gt;</c> line per covered object (ordinal = order), then one
/// <c>t &lt;trace-id&gt; &lt;ordinal&gt;[,&lt;ordinal&gt;…]</c> line per trace, sorted by id.
/// Trace ids are the lowercase X-Ray form taken from each line's top-level <c>trace_id</c>
/// (<see cref="TraceIdSniffer"/>), the same key <see cref="TraceIds.TryNormalize"/> gives a lookup.</para>
/// </summary>
public sealed class TraceIndex
{
    public const string Prefix = "trace-index/";

    public const string ObjectName = "index.tsv.gz";

    public const string Header = "# pipeline trace-index v1";

    /// <summary>Objects one hour's index may name: past this the hour is read without an index.</summary>
    public const int MaxObjects = 100_000;

    private readonly byte[] _text;
    private readonly int _tracesStart;

    private TraceIndex(IReadOnlyList<IndexedObject> objects, byte[] text, int tracesStart)
    {
        Objects = objects;
        _text = text;
        _tracesStart = tracesStart;
    }

    /// <summary>The objects this index covers, by ordinal.</summary>
    public IReadOnlyList<IndexedObject> Objects { get; }

    /// <summary><c>trace-index/dt=…/hour=…/index.tsv.gz</c> for <paramref name="hour"/>.</summary>
    public static string Key(ArchiveHour hour) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}dt={hour.Day}/hour={hour.Hour}/{ObjectName}");

    /// <summary>
    /// The gzip index of one hour from its objects (key, size and stored bytes, gzip or not).
    /// Lines without a well-formed top-level trace id are not indexed (no lookup can assemble them).
    /// </summary>
    public static byte[] Build(IEnumerable<(string Key, long Size, byte[] Stored)> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var list = new List<IndexedObject>();
        var traces = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var (key, size, stored) in objects.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            if (list.Count == MaxObjects)
            {
                throw new InvalidOperationException($"an hour of more than {MaxObjects} objects is not indexed");
            }

            if (key.Contains(' ', StringComparison.Ordinal) || key.Contains('\n', StringComparison.Ordinal))
            {
                throw new ArgumentException($"archive key with a space or line break: {key}", nameof(objects));
            }

            var ordinal = list.Count;
            list.Add(new IndexedObject(key, size));
            var content = ArchiveObjects.Content(stored);
            foreach (var line in ArchiveObjects.Lines(content))
            {
                var id = TraceIdSniffer.Find(line.Span);
                if (id.IsEmpty)
                {
                    continue;
                }

                var traceId = Encoding.ASCII.GetString(id).ToLowerInvariant();
                if (!traces.TryGetValue(traceId, out var ordinals))
                {
                    traces[traceId] = ordinals = [];
                }

                if (ordinals.Count == 0 || ordinals[^1] != ordinal)
                {
                    ordinals.Add(ordinal);
                }
            }
        }

        var text = new StringBuilder(Header).Append('\n');
        foreach (var o in list)
        {
            text.Append("o ").Append(o.Size.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(o.Key).Append('\n');
        }

        foreach (var (traceId, ordinals) in traces.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            text.Append("t ").Append(traceId).Append(' ').AppendJoin(',', ordinals.Select(n => n.ToString(CultureInfo.InvariantCulture))).Append('\n');
        }

        using var gz = ArchiveObjects.Gzip(Encoding.UTF8.GetBytes(text.ToString()));
        return gz.WrittenSpan.ToArray();
    }

    /// <summary>Reads a stored index; null when it is not one (wrong header, malformed line): the caller reads the hour without it.</summary>
    public static TraceIndex? TryParse(byte[] stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        byte[] text;
        try
        {
            text = ArchiveObjects.Content(stored);
        }
        catch (InvalidDataException)
        {
            return null;
        }

        var header = Encoding.ASCII.GetBytes(Header + "\n");
        if (!text.AsSpan().StartsWith(header))
        {
            return null;
        }

        var objects = new List<IndexedObject>();
        var at = header.Length;
        while (at < text.Length && text[at] == (byte)'o')
        {
            var end = Array.IndexOf(text, (byte)'\n', at);
            if (end < 0 || objects.Count == MaxObjects)
            {
                return null;
            }

            var line = Encoding.UTF8.GetString(text, at, end - at);
            var parts = line.Split(' ', 3);
            if (parts.Length != 3 || parts[0] != "o" || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                return null;
            }

            objects.Add(new IndexedObject(parts[2], size));
            at = end + 1;
        }

        return new TraceIndex(objects, text, at);
    }

    /// <summary>Ordinals of the covered objects that hold lines of <paramref name="traceId"/> (normalised); empty when none.</summary>
    public IReadOnlyList<int> ObjectsOf(string traceId)
    {
        ArgumentNullException.ThrowIfNull(traceId);
        // Trace lines are "t <id> <ordinals>\n": a search for "\nt <id> " finds exactly that trace's line
        // (an id is fixed-length hex, so no other line can contain it followed by a space).
        var needle = Encoding.ASCII.GetBytes("\nt " + traceId + " ");
        var from = Math.Max(0, _tracesStart - 1);
        var hit = _text.AsSpan(from).IndexOf(needle);
        if (hit < 0)
        {
            return [];
        }

        var start = from + hit + needle.Length;
        var end = Array.IndexOf(_text, (byte)'\n', start);
        var list = Encoding.ASCII.GetString(_text, start, (end < 0 ? _text.Length : end) - start);
        var ordinals = new List<int>();
        foreach (var part in list.Split(','))
        {
            if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < Objects.Count)
            {
                ordinals.Add(n);
            }
        }

        return ordinals;
    }
}
