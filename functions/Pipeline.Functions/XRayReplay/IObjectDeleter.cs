using Amazon.S3;
using Amazon.S3.Model;

namespace Pipeline.Functions.XRayReplay;

/// <summary>
/// Deletes one object. Only the replay deletes (and IAM lets it delete under xray-retry/ only), so
/// this is its own small seam rather than a member of the shared object store interface.
/// </summary>
public interface IObjectDeleter
{
    Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default);
}

/// <summary><see cref="IObjectDeleter"/> on AWSSDK.S3 (DeleteObject; deleting a missing key succeeds).</summary>
internal sealed class S3ObjectDeleter(IAmazonS3 s3) : IObjectDeleter
{
    public async Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentException.ThrowIfNullOrEmpty(key);
        await s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = key }, cancellationToken).ConfigureAwait(false);
    }
}
