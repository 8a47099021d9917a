namespace Pipeline.Aws.Storage;

/// <summary>
/// The object storage the archive, graphs and reports need: put, get and list by key prefix.
/// S3 behind it in AWS and moto; an in-memory fake in unit tests.
/// </summary>
public interface IObjectStore
{
    /// <summary>Writes (or overwrites) one object.</summary>
    Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default);

    /// <summary>
    /// The object's bytes, or null when there is no such key (404). Access denied (403) throws
    /// <see cref="Http.AwsAccessDeniedException"/>, never null: S3 answers 403 for a missing key
    /// too when the caller may not list the bucket, so the caller's role must be able to.
    /// </summary>
    Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default);

    /// <summary>Objects whose key starts with <paramref name="prefix"/>, in key order, at most <paramref name="maxKeys"/>.</summary>
    Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10_000, CancellationToken cancellationToken = default);
}

public sealed record StoredObject(string Key, long Size, DateTimeOffset LastModified);
