using System.Text;
using Pipeline.Aws.Storage;
using Pipeline.Cli.Local;

namespace Pipeline.Cli.Tests.Local;

/// <summary>The on-disk archive mirror that keeps `pipeline query` working after `down`.</summary>
public sealed class ArchiveDirectoryMirrorTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("mirror-");
    private readonly MemoryStore _store = new();

    [Fact]
    public async Task Sync_CopiesNewAndChangedObjects_WithTheKeyLayout_AndSkipsUnchanged()
    {
        var mirror = new ArchiveDirectoryMirror(_store, "bucket", _dir.FullName);
        _store.Put("segments/dt=2026-11-25/hour=12/shardId-000000000000-1.ndjson.gz", "v1", 1);
        _store.Put("usage/dt=2026-11-25/u.json", "u", 1);

        (await mirror.SyncAsync(TestContext.Current.CancellationToken)).Should().Be(2);
        (await mirror.SyncAsync(TestContext.Current.CancellationToken)).Should().Be(0, "nothing changed");

        // A longer retry of a batch overwrites its object: the mirror follows.
        _store.Put("segments/dt=2026-11-25/hour=12/shardId-000000000000-1.ndjson.gz", "v2-longer", 2);
        (await mirror.SyncAsync(TestContext.Current.CancellationToken)).Should().Be(1);

        File.ReadAllText(Path.Combine(_dir.FullName, "segments", "dt=2026-11-25", "hour=12", "shardId-000000000000-1.ndjson.gz")).Should().Be("v2-longer");
        File.Exists(Path.Combine(_dir.FullName, "usage", "dt=2026-11-25", "u.json")).Should().BeTrue();
        mirror.ObjectsCopied.Should().Be(3);
    }

    [Fact]
    public async Task Sync_KeyEscapingTheDirectory_IsNeverWritten()
    {
        var mirror = new ArchiveDirectoryMirror(_store, "bucket", Path.Combine(_dir.FullName, "archive"));
        _store.Put("../outside.txt", "x", 1);

        (await mirror.SyncAsync(TestContext.Current.CancellationToken)).Should().Be(0);

        mirror.UnsafeKeys.Should().Be(1);
        File.Exists(Path.Combine(_dir.FullName, "outside.txt")).Should().BeFalse();
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private sealed class MemoryStore : IObjectStore
    {
        private readonly SortedDictionary<string, (byte[] Bytes, DateTimeOffset Modified)> _objects = new(StringComparer.Ordinal);

        public void Put(string key, string text, int version) =>
            _objects[key] = (Encoding.UTF8.GetBytes(text), new DateTimeOffset(2026, 11, 25, 12, version, 0, TimeSpan.Zero));

        public Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default) =>
            Task.FromResult(_objects.TryGetValue(key, out var o) ? o.Bytes : null);

        public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10000, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<StoredObject>>([.. _objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)).Take(maxKeys).Select(o => new StoredObject(o.Key, o.Value.Bytes.Length, o.Value.Modified))]);
    }
}
