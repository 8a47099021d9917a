using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws.Http;
using Pipeline.Aws.Ses;
using Pipeline.Aws.Storage;
using Pipeline.Lambda;

namespace Pipeline.Functions.Tests.CostReport;

/// <summary>An S3 stand-in: objects by bucket and key, listed in key order.</summary>
internal sealed class InMemoryObjectStore : IObjectStore
{
    private readonly ConcurrentDictionary<(string Bucket, string Key), (byte[] Content, string ContentType)> _objects = new();

    public List<string> Gets { get; } = [];

    /// <summary>Keys under this prefix answer 403, like S3 without read rights there.</summary>
    public string? ForbiddenPrefix { get; init; }

    public IReadOnlyDictionary<(string Bucket, string Key), (byte[] Content, string ContentType)> Objects => _objects;

    public Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        _objects[(bucket, key)] = (content.ToArray(), contentType);
        return Task.CompletedTask;
    }

    public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        Gets.Add(key);
        if (ForbiddenPrefix is not null && key.StartsWith(ForbiddenPrefix, StringComparison.Ordinal))
        {
            throw new Pipeline.Aws.Http.AwsAccessDeniedException("s3", "AccessDenied", HttpStatusCode.Forbidden, null, "Access Denied");
        }

        return Task.FromResult(_objects.TryGetValue((bucket, key), out var o) ? o.Content : null);
    }

    public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10_000, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<StoredObject> keys = _objects
            .Where(o => o.Key.Bucket == bucket && o.Key.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(o => new StoredObject(o.Key.Key, o.Value.Content.Length, DateTimeOffset.UnixEpoch))
            .OrderBy(o => o.Key, StringComparer.Ordinal)
            .Take(maxKeys)
            .ToArray();
        return Task.FromResult(keys);
    }
}

/// <summary>Records sent messages; optionally refuses them the way SES refuses an unverified sender.</summary>
internal sealed class FakeSes : ISesClient
{
    public List<RawEmail> Sent { get; } = [];

    public bool RejectUnverified { get; init; }

    public Task<string> SendRawEmailAsync(RawEmail email, CancellationToken cancellationToken = default)
    {
        if (RejectUnverified)
        {
            throw new AwsServiceException("ses", "MessageRejected", HttpStatusCode.BadRequest, "req-1", "Email address is not verified. The following identities failed the check: reports@example.com");
        }

        Sent.Add(email);
        return Task.FromResult($"message-{Sent.Count}");
    }

    public Task<EmailIdentityResult> CreateEmailIdentityAsync(string emailIdentity, CancellationToken cancellationToken = default) =>
        Task.FromResult(new EmailIdentityResult("EMAIL_ADDRESS", true));
}

internal static class Invocations
{
    public static InvocationContext Context(TimeProvider time) =>
        new("req-1", time.GetUtcNow().AddMinutes(5), null, null, time, NullLogger.Instance, TestContext.Current.CancellationToken);
}
