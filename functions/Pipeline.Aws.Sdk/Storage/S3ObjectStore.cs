using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Pipeline.Aws.Http;

namespace Pipeline.Aws.Storage;

/// <summary>
/// <see cref="IObjectStore"/> on AWSSDK.S3. A missing key is 404 NoSuchKey, read as null; 403
/// AccessDenied is never read as "missing": it becomes an <see cref="AwsAccessDeniedException"/>
/// that names the call, the key and the permissions S3 wants, because S3 also answers 403 for a key
/// that does not exist when the caller may not list the bucket (docs/iam.md).
/// </summary>
internal sealed class S3ObjectStore(IAmazonS3 s3) : IObjectStore
{
    /// <summary>ListObjectsV2 returns at most 1,000 keys a page (S3 API reference).</summary>
    private const int MaxKeysPerPage = 1000;

    private const string AccessDeniedCode = "AccessDenied";

    public async Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(contentType);
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        try
        {
            await s3.PutObjectAsync(
                new PutObjectRequest { BucketName = bucket, Key = key, InputStream = stream, ContentType = contentType, AutoCloseStream = false },
                cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.Forbidden)
        {
            throw Denied(ex, $"s3:PutObject on s3://{bucket}/{key} was denied: the role needs s3:PutObject on this key's prefix.");
        }
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
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.Forbidden)
        {
            throw Denied(
                ex,
                $"s3:GetObject on s3://{bucket}/{key} was denied. S3 answers 403 also when the key does not exist and the caller may not list the bucket: the role needs s3:GetObject on this key's prefix and s3:ListBucket on {bucket} without an s3:prefix condition (docs/iam.md).");
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
            ListObjectsV2Response response;
            try
            {
                response = await s3.ListObjectsV2Async(
                    new ListObjectsV2Request
                    {
                        BucketName = bucket,
                        Prefix = prefix,
                        ContinuationToken = token,
                        MaxKeys = Math.Min(MaxKeysPerPage, maxKeys - objects.Count),
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.Forbidden)
            {
                throw Denied(ex, $"s3:ListBucket on {bucket} for prefix '{prefix}' was denied: the role needs s3:ListBucket on {bucket} (a condition on s3:prefix must allow '{prefix}').");
            }

            foreach (var o in response.S3Objects ?? [])
            {
                objects.Add(new StoredObject(o.Key, o.Size ?? 0, o.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue));
            }

            token = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (token is not null && objects.Count < maxKeys);

        return objects;
    }

    private static AwsAccessDeniedException Denied(AmazonS3Exception ex, string message) =>
        new("s3", string.IsNullOrEmpty(ex.ErrorCode) ? AccessDeniedCode : ex.ErrorCode, HttpStatusCode.Forbidden, ex.RequestId, message);
}
