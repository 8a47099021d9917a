using Pipeline.Aws.Storage;

namespace Pipeline.Cli.Graph;

/// <summary>
/// <see cref="IObjectStore"/> over a local directory laid out like the bucket (key = relative
/// path), for <c>pipeline graph --data-dir</c>. The bucket name is ignored: one directory, one bucket.
/// </summary>
public sealed class DirectoryObjectStore : IObjectStore
{
    private readonly string _root;

    public DirectoryObjectStore(string root)
    {
        _root = Path.GetFullPath(root);
    }

    public string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(_root, key));
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"key escapes the archive directory: {key}", nameof(key));
        }

        return path;
    }

    public async Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, content.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false) : null;
    }

    public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10_000, CancellationToken cancellationToken = default)
    {
        // Keys are listed from the deepest existing directory the prefix names, then filtered.
        var slash = prefix.LastIndexOf('/');
        var dir = slash < 0 ? _root : Path.Combine(_root, prefix[..slash]);
        if (!Directory.Exists(dir))
        {
            return Task.FromResult<IReadOnlyList<StoredObject>>([]);
        }

        var objects = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => (Key: Path.GetRelativePath(_root, f).Replace(Path.DirectorySeparatorChar, '/'), File: new FileInfo(f)))
            .Where(f => f.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .Take(maxKeys)
            .Select(f => new StoredObject(f.Key, f.File.Length, f.File.LastWriteTimeUtc))
            .ToList();
        return Task.FromResult<IReadOnlyList<StoredObject>>(objects);
    }
}
