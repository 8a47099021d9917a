using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Relay.Logging;
using Relay.Sending;
using Relay.Telemetry;

namespace Relay.Spool;

/// <summary>
/// A spool file read back: its entries, or corrupt (then <see cref="Entries"/> is empty and
/// <see cref="Segments"/> is the count its name recorded when it was written).
/// </summary>
public sealed record SpooledBatch(string Path, IReadOnlyList<BatchEntry> Entries, bool Corrupt, int NamedSegments)
{
    public int Segments => Corrupt ? NamedSegments : Entries.Sum(e => e.Segments);
}

/// <summary>How a spool write ended.</summary>
public enum SpoolWrite
{
    Written,
    /// <summary>The spool is at its cap.</summary>
    Full,
    /// <summary>The disk refused (permissions, read-only, no space): see the log.</summary>
    Failed,
}

/// <summary>
/// A bounded directory of batches Kinesis could not take, replayed oldest first. One file per
/// batch, named by a increasing sequence number, written to a temp name and renamed so a crash
/// never leaves a half file under a spool name; each file ends with a SHA-256 of its contents so a
/// torn or damaged file is detected and counted instead of replayed. A file is named
/// <c>{sequence}-{segments}.spool</c>, so that even a corrupt file says how many segments it lost.
/// Files left by an earlier run are picked up at start. The directory must be writable at start
/// (probed), otherwise the relay does not start. Used from the single sender loop only.
/// </summary>
public sealed class SpoolDirectory
{
    private const string Extension = ".spool";
    private const string TempExtension = ".tmp";
    private static ReadOnlySpan<byte> FileMagic => "XRRSPOOL1\n"u8;
    private const int HashLength = 32;
    private const ushort NoHashKey = ushort.MaxValue;

    private readonly string _path;
    private readonly long _maxBytes;
    private readonly RelayMetrics _metrics;
    private readonly JsonLog _log;
    private const string ProbeName = ".write-probe" + TempExtension;

    private readonly Queue<(string Path, long Bytes, int Segments)> _files = new();
    private long _bytes;
    private long _nextSequence;

    public SpoolDirectory(string path, long maxBytes, RelayMetrics metrics, JsonLog log)
    {
        _path = Path.GetFullPath(path);
        _maxBytes = maxBytes;
        _metrics = metrics;
        _log = log;
        try
        {
            Directory.CreateDirectory(_path);
            foreach (var stale in Directory.EnumerateFiles(_path, "*" + TempExtension))
            {
                File.Delete(stale);
            }

            var probe = Path.Combine(_path, ProbeName);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpoolUnavailableException($"spool directory {_path} is not writable by this process (user {Environment.UserName}): {e.Message}", e);
        }

        var existing = Directory.EnumerateFiles(_path, "*" + Extension)
            .Select(f => (Path: f, Name: ParseName(System.IO.Path.GetFileNameWithoutExtension(f))))
            .Where(f => f.Name.Sequence >= 0)
            .OrderBy(f => f.Name.Sequence);
        foreach (var (file, (sequence, segments)) in existing)
        {
            var bytes = new FileInfo(file).Length;
            _files.Enqueue((file, bytes, segments));
            _bytes += bytes;
            _nextSequence = sequence + 1;
        }

        _metrics.SetSpoolBytes(_bytes);
    }

    public string DirectoryPath => _path;

    public int FileCount => _files.Count;

    public bool HasFiles => _files.Count > 0;

    public long Bytes => _bytes;

    /// <summary>True after a write the disk refused, until one succeeds (reported by /healthz).</summary>
    public bool Failing { get; private set; }

    /// <summary>Appends a batch at the tail; nothing is written when the cap would be exceeded or the disk refuses.</summary>
    public SpoolWrite TryWrite(IReadOnlyList<BatchEntry> entries)
    {
        if (entries.Count == 0)
        {
            return SpoolWrite.Written;
        }

        var content = Encode(entries);
        if (_bytes + content.Length > _maxBytes)
        {
            return SpoolWrite.Full;
        }

        var segments = entries.Sum(e => e.Segments);
        var name = FileName(_nextSequence, segments);
        if (!TryWriteAtomically(name, content))
        {
            Failing = true;
            return SpoolWrite.Failed;
        }

        Failing = false;
        _nextSequence++;
        _files.Enqueue((name, content.Length, segments));
        _bytes += content.Length;
        _metrics.SetSpoolBytes(_bytes);
        return SpoolWrite.Written;
    }

    /// <summary>The oldest batch, or null when the spool is empty.</summary>
    public SpooledBatch? PeekOldest()
    {
        if (!_files.TryPeek(out var head))
        {
            return null;
        }

        byte[] content;
        try
        {
            content = File.ReadAllBytes(head.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error("spool file unreadable", ("file", head.Path), ("error", e.Message));
            return new SpooledBatch(head.Path, [], Corrupt: true, head.Segments);
        }

        var entries = Decode(content);
        return entries is null ? new SpooledBatch(head.Path, [], Corrupt: true, head.Segments) : new SpooledBatch(head.Path, entries, Corrupt: false, head.Segments);
    }

    /// <summary>Removes the oldest batch (replayed, or corrupt and counted).</summary>
    public void RemoveOldest()
    {
        var head = _files.Dequeue();
        try
        {
            File.Delete(head.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error("spool file could not be deleted", ("file", head.Path), ("error", e.Message));
        }

        _bytes -= head.Bytes;
        _metrics.SetSpoolBytes(_bytes);
    }

    /// <summary>Keeps only <paramref name="remaining"/> of the oldest batch (part of it was replayed).</summary>
    public void ReplaceOldest(IReadOnlyList<BatchEntry> remaining)
    {
        if (remaining.Count == 0)
        {
            RemoveOldest();
            return;
        }

        var head = _files.Peek();
        var content = Encode(remaining);
        var segments = remaining.Sum(e => e.Segments);
        var path = FileName(ParseName(Path.GetFileNameWithoutExtension(head.Path)).Sequence, segments);
        if (!TryWriteAtomically(path, content))
        {
            // The old file stays whole: its sent part is replayed again later (at least once, never lost).
            return;
        }

        if (path != head.Path)
        {
            try
            {
                File.Delete(head.Path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Error("spool file could not be deleted", ("file", head.Path), ("error", e.Message));
            }
        }

        var items = _files.ToArray();
        _files.Clear();
        _files.Enqueue((path, content.Length, segments));
        foreach (var item in items.AsSpan(1))
        {
            _files.Enqueue(item);
        }

        _bytes += content.Length - head.Bytes;
        _metrics.SetSpoolBytes(_bytes);
    }

    private string FileName(long sequence, int segments) =>
        Path.Combine(_path, sequence.ToString("D20", CultureInfo.InvariantCulture) + "-" + segments.ToString(CultureInfo.InvariantCulture) + Extension);

    /// <summary>"{sequence}-{segments}", or a bare "{sequence}" from before the count was named (segments unknown: 0).</summary>
    private static (long Sequence, int Segments) ParseName(string name)
    {
        var dash = name.IndexOf('-', StringComparison.Ordinal);
        var sequenceText = dash < 0 ? name : name[..dash];
        if (!long.TryParse(sequenceText, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            return (-1, 0);
        }

        return dash >= 0 && int.TryParse(name[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var segments) ? (sequence, segments) : (sequence, 0);
    }

    internal static byte[] Encode(IReadOnlyList<BatchEntry> entries)
    {
        var size = FileMagic.Length + 4;
        foreach (var entry in entries)
        {
            size += 2 + Encoding.UTF8.GetByteCount(entry.PartitionKey) + 2 + (entry.ExplicitHashKey is null ? 0 : Encoding.UTF8.GetByteCount(entry.ExplicitHashKey)) + 4 + 4 + entry.Data.Length;
        }

        var content = new byte[size + HashLength];
        var span = content.AsSpan();
        FileMagic.CopyTo(span);
        var position = FileMagic.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[position..], entries.Count);
        position += 4;
        foreach (var entry in entries)
        {
            position += WriteString(span[position..], entry.PartitionKey);
            if (entry.ExplicitHashKey is null)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(span[position..], NoHashKey);
                position += 2;
            }
            else
            {
                position += WriteString(span[position..], entry.ExplicitHashKey);
            }

            BinaryPrimitives.WriteInt32LittleEndian(span[position..], entry.Segments);
            BinaryPrimitives.WriteInt32LittleEndian(span[(position + 4)..], entry.Data.Length);
            position += 8;
            entry.Data.Span.CopyTo(span[position..]);
            position += entry.Data.Length;
        }

        SHA256.HashData(span[..position], span[position..]);
        return content;
    }

    internal static List<BatchEntry>? Decode(byte[] content)
    {
        var span = content.AsSpan();
        if (span.Length < FileMagic.Length + 4 + HashLength || !span.StartsWith(FileMagic))
        {
            return null;
        }

        var body = span[..^HashLength];
        Span<byte> hash = stackalloc byte[HashLength];
        SHA256.HashData(body, hash);
        if (!hash.SequenceEqual(span[^HashLength..]))
        {
            return null;
        }

        var position = FileMagic.Length;
        var count = BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
        position += 4;
        if (count is < 0 or > PutRecordsLimits.MaxRecords * 64)
        {
            return null;
        }

        var entries = new List<BatchEntry>(count);
        for (var i = 0; i < count; i++)
        {
            var key = ReadString(body, ref position);
            if (key is null || position + 2 > body.Length)
            {
                return null;
            }

            string? hashKey = null;
            if (BinaryPrimitives.ReadUInt16LittleEndian(body[position..]) == NoHashKey)
            {
                position += 2;
            }
            else if ((hashKey = ReadString(body, ref position)) is null)
            {
                return null;
            }

            if (position + 8 > body.Length)
            {
                return null;
            }

            var segments = BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
            var length = BinaryPrimitives.ReadInt32LittleEndian(body[(position + 4)..]);
            position += 8;
            if (length < 0 || position + length > body.Length)
            {
                return null;
            }

            entries.Add(new BatchEntry(key, hashKey, content.AsMemory(position, length), segments));
            position += length;
        }

        return position == body.Length ? entries : null;
    }

    private bool TryWriteAtomically(string path, byte[] content)
    {
        var temp = path + TempExtension;
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.WriteThrough))
            {
                stream.Write(content);
            }

            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error("spool write failed", ("file", path), ("error", e.Message));
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                _log.Debug("spool temp file left behind", ("file", temp));
            }

            return false;
        }
    }

    private static int WriteString(Span<byte> destination, string value)
    {
        var length = Encoding.UTF8.GetBytes(value, destination[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination, checked((ushort)length));
        return 2 + length;
    }

    private static string? ReadString(ReadOnlySpan<byte> body, ref int position)
    {
        if (position + 2 > body.Length)
        {
            return null;
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(body[position..]);
        position += 2;
        if (length == NoHashKey || position + length > body.Length)
        {
            return null;
        }

        var value = Encoding.UTF8.GetString(body.Slice(position, length));
        position += length;
        return value;
    }
}

/// <summary>The spool directory cannot be created or written: a start-up error, not a silent drop of every outage segment.</summary>
public sealed class SpoolUnavailableException(string message, Exception inner) : IOException(message, inner);
