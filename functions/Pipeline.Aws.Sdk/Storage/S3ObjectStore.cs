using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Pipeline.Aws.Storage;

/// <summary><see cref="IObjectStore"/> on AWSSDK.S3.</summary>
internal sealed class S3ObjectStore(IAmazonS3 s3) : IObjectStore
{
    /// <summary>ListObjectsV2 returns at most 1,000 keys a page (S3 API reference).</summary>
    private const int MaxKeysPerPage = 1000;

    public async Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(contentType);
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        await s3.PutObjectAsync(
            new PutObjectRequest { BucketName = bucket, Key = key, InputStream = stream, ContentType = contentType, AutoCloseStream = false },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentException.ThrowIfNullOrEmpty(key);
        try
        {
            using var response = await s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream(response.ContentLength > 0 ? (int)Math.Min(response.ContentLength, int.MaxValue) : 0);
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode == "NoSuchKey")
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10_000, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeys, 1);
        var objects = new List<StoredObject>();
        string? token = null;
        do
        {
            var response = await s3.ListObjectsV2Async(
                new ListObjectsV2Request
                {
                    BucketName = bucket,
                    Prefix = prefix,
                    ContinuationToken = token,
                    MaxKeys = Math.Min(MaxKeysPerPage, maxKeys - objects.Count),
                },
                cancellationToken).ConfigureAwait(false);
            foreach (var o in response.S3Objects ?? [])
            {
                objects.Add(new StoredObject(o.Key, o.Size ?? 0, o.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue));
            }

            token = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (token is not null && objects.Count < maxKeys);

        return objects;
    }
}
