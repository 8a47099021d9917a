using Amazon.S3;
using Amazon.S3.Model;

namespace Pipeline.Cli.Query;

/// <summary>
/// Copies the archive objects of a date window from S3 (moto locally, or AWS) into a local
/// directory with the same key layout, so DuckDB reads them exactly as Athena would read the
/// bucket. Bounded in object count and bytes: a window too large to copy is an error that asks
/// for a narrower window (or --target athena), never a silent partial copy.
/// </summary>
internal sealed class S3ArchiveMirror
{
    public const int DefaultMaxObjects = 20_000;
    public const long DefaultMaxBytes = 2L * 1024 * 1024 * 1024;

    /// <summary>A window longer than this is almost surely a mistake for a local copy.</summary>
    public const int MaxWindowDays = 93;

    private readonly IAmazonS3 _s3;
    private readonly int _maxObjects;
    private readonly long _maxBytes;

    public S3ArchiveMirror(IAmazonS3 s3, int maxObjects = DefaultMaxObjects, long maxBytes = DefaultMaxBytes)
    {
        _s3 = s3;
        _maxObjects = maxObjects;
        _maxBytes = maxBytes;
    }

    /// <summary>
    /// Downloads every object under <c>{prefix}dt={day}/</c> for each prefix and each day from
    /// <paramref name="from"/> to <paramref name="to"/>; returns the number of objects copied.
    /// </summary>
    public async Task<int> CopyAsync(string bucket, IEnumerable<string> prefixes, DateOnly from, DateOnly to, string targetDirectory, CancellationToken cancellationToken)
    {
        if (to < from)
        {
            throw new ArgumentException($"window ends ({to:yyyy-MM-dd}) before it starts ({from:yyyy-MM-dd})");
        }

        if (to.DayNumber - from.DayNumber + 1 > MaxWindowDays)
        {
            throw new ArgumentException($"window of more than {MaxWindowDays} days: narrow --from/--to or use --target athena");
        }

        var keys = new List<S3Object>();
        long bytes = 0;
        foreach (var prefix in prefixes.Distinct(StringComparer.Ordinal))
        {
            for (var day = from; day <= to; day = day.AddDays(1))
            {
                var request = new ListObjectsV2Request { BucketName = bucket, Prefix = $"{prefix}dt={day:yyyy-MM-dd}/" };
                ListObjectsV2Response response;
                do
                {
                    response = await _s3.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
                    foreach (var o in response.S3Objects ?? [])
                    {
                        keys.Add(o);
                        bytes += o.Size ?? 0;
                        if (keys.Count > _maxObjects || bytes > _maxBytes)
                        {
                            throw new InvalidOperationException(
                                $"the window holds more than {_maxObjects} objects or {_maxBytes} bytes: narrow --from/--to or use --target athena");
                        }
                    }

                    request.ContinuationToken = response.NextContinuationToken;
                }
                while (response.IsTruncated == true);
            }
        }

        var root = Path.GetFullPath(targetDirectory);
        foreach (var o in keys)
        {
            var path = Path.GetFullPath(Path.Combine(root, o.Key));
            if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                // A key like "../x" must not write outside the copy.
                throw new InvalidOperationException($"object key escapes the local copy: {o.Key}");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var response = await _s3.GetObjectAsync(bucket, o.Key, cancellationToken).ConfigureAwait(false);
            await using var file = File.Create(path);
            await response.ResponseStream.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }

        return keys.Count;
    }
}
