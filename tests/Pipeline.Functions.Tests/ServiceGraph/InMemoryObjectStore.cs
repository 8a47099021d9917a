using Pipeline.Aws.Storage;

namespace Pipeline.Functions.Tests.ServiceGraph;

/// <summary>An <see cref="IObjectStore"/> in a sorted dictionary; records every put.</summary>
internal sealed class InMemoryObjectStore : IObjectStore
{
    private readonly SortedDictionary<string, (byte[] Bytes, string ContentType)> _objects = new(StringComparer.Ordinal);

    public List<string> Puts { get; } = [];

    public IReadOnlyDictionary<string, (byte[] Bytes, string ContentType)> Objects => _objects;

    /// <summary>Puts under this prefix answer 403, like S3 for a role without write rights there.</summary>
    public string? RefusedPutPrefix { get; init; }

    public Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        if (RefusedPutPrefix is not null && key.StartsWith(RefusedPutPrefix, StringComparison.Ordinal))
        {
            throw new Pipeline.Aws.Http.AwsAccessDeniedException("s3", "AccessDenied", System.Net.HttpStatusCode.Forbidden, null, "Access Denied");
        }

        _objects[bucket + "/" + key] = (content.ToArray(), contentType);
        Puts.Add(key);
        return Task.CompletedTask;
    }

    public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(_objects.TryGetValue(bucket + "/" + key, out var o) ? o.Bytes : null);

    public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10_000, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<StoredObject>>(_objects
            .Where(o => o.Key.StartsWith(bucket + "/" + prefix, StringComparison.Ordinal))
            .Take(maxKeys)
            .Select(o => new StoredObject(o.Key[(bucket.Length + 1)..], o.Value.Bytes.Length, DateTimeOffset.UnixEpoch))
            .ToList());
}
