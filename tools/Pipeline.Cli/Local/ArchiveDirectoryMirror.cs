using Pipeline.Aws.Storage;

namespace Pipeline.Cli.Local;

/// <summary>
/// Keeps a local directory in step with the archive bucket (same key layout), so that
/// <c>pipeline query</c> still has the data after <c>pipeline down</c> (moto keeps its state in
/// memory only). Copies objects that are new or changed since the last pass; never deletes.
/// </summary>
internal sealed class ArchiveDirectoryMirror(IObjectStore store, string bucket, string directory)
{
    /// <summary>Objects listed per pass at most; a bigger archive is mirrored in part and says so.</summary>
    public const int MaxObjectsPerPass = 100_000;

    private readonly Dictionary<string, (long Size, DateTimeOffset Modified)> _copied = new(StringComparer.Ordinal);
    private readonly string _root = Path.GetFullPath(directory);

    public string Directory => _root;

    public long ObjectsCopied { get; private set; }

    /// <summary>Objects whose key would land outside the directory (never written).</summary>
    public long UnsafeKeys { get; private set; }

    /// <summary>One pass; returns the objects copied. Not thread-safe: one caller at a time.</summary>
    public async Task<int> SyncAsync(CancellationToken cancellationToken)
    {
        var objects = await store.ListAsync(bucket, string.Empty, MaxObjectsPerPass, cancellationToken).ConfigureAwait(false);
        var copied = 0;
        foreach (var o in objects)
        {
            if (_copied.TryGetValue(o.Key, out var seen) && seen.Size == o.Size && seen.Modified == o.LastModified)
            {
                continue;
            }

            var path = Path.GetFullPath(Path.Combine(_root, o.Key));
            if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                UnsafeKeys++;
                _copied[o.Key] = (o.Size, o.LastModified);
                continue;
            }

            var bytes = await store.GetAsync(bucket, o.Key, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                continue;
            }

            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = path + ".part";
            await File.WriteAllBytesAsync(temp, bytes, cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
            _copied[o.Key] = (o.Size, o.LastModified);
            copied++;
        }

        ObjectsCopied += copied;
        return copied;
    }
}
