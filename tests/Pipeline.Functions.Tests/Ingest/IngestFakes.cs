using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Storage;
using Pipeline.Aws.XRay;
using Pipeline.Core.Archive;
using Pipeline.Core.Sampling;
using Pipeline.Functions.Ingest;
using Pipeline.Functions.XRayReplay;
using Pipeline.Lambda;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Functions.Tests.Ingest;

/// <summary>An in-memory bucket store that can be told to fail puts under a key prefix.</summary>
internal sealed class InMemoryObjectStore : IObjectStore, IObjectDeleter
{
    private readonly ConcurrentDictionary<(string Bucket, string Key), (byte[] Content, DateTimeOffset Modified)> _objects = new();
    private readonly TimeProvider _time;

    public InMemoryObjectStore(TimeProvider time) => _time = time;

    /// <summary>Puts whose key starts with one of these throw.</summary>
    public HashSet<string> FailingPrefixes { get; } = [];

    public List<string> PutKeys { get; } = [];

    public List<string> DeletedKeys { get; } = [];

    public IEnumerable<string> Keys => _objects.Keys.Select(k => k.Key).Order(StringComparer.Ordinal);

    public Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        lock (PutKeys)
        {
            PutKeys.Add(key);
        }

        if (FailingPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal)))
        {
            return Task.FromException(new IOException($"injected failure for {key}"));
        }

        _objects[(bucket, key)] = (content.ToArray(), _time.GetUtcNow());
        return Task.CompletedTask;
    }

    public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(_objects.TryGetValue((bucket, key), out var o) ? o.Content : null);

    public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10_000, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<StoredObject>>([.. _objects
            .Where(o => o.Key.Bucket == bucket && o.Key.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(o => o.Key.Key, StringComparer.Ordinal)
            .Take(maxKeys)
            .Select(o => new StoredObject(o.Key.Key, o.Value.Content.Length, o.Value.Modified))]);

    public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        DeletedKeys.Add(key);
        _objects.TryRemove((bucket, key), out _);
        return Task.CompletedTask;
    }

    public void Put(string bucket, string key, byte[] content, DateTimeOffset modified) => _objects[(bucket, key)] = (content, modified);

    public byte[] Get(string bucket, string key) => _objects[(bucket, key)].Content;

    /// <summary>Every line of every object under <paramref name="prefix"/> (gunzipped when the key ends in .gz).</summary>
    public List<string> Lines(string bucket, string prefix) =>
        [.. _objects
            .Where(o => o.Key.Bucket == bucket && o.Key.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(o => o.Key.Key, StringComparer.Ordinal)
            .SelectMany(o => LinesOf(o.Key.Key, o.Value.Content))];

    public static IEnumerable<string> LinesOf(string key, byte[] content)
    {
        var text = Encoding.UTF8.GetString(ArchiveObjects.Content(content));
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}

/// <summary>Records every PutTraceSegments call; refuses ids, answers unprocessed for a number of calls, or throws.</summary>
internal sealed class FakeXRay : IXRayClient
{
    public List<IReadOnlyList<string>> Calls { get; } = [];

    /// <summary>Documents whose text contains one of these are always refused.</summary>
    public HashSet<string> AlwaysRefuse { get; } = [];

    /// <summary>Every document of the first this-many calls is answered as unprocessed.</summary>
    public int RefuseAllCalls { get; set; }

    /// <summary>Every call throws (an outage).</summary>
    public bool Down { get; set; }

    public IEnumerable<string> Accepted => _accepted;

    private readonly List<string> _accepted = [];

    public Task<IReadOnlyList<UnprocessedTraceSegment>> PutTraceSegmentsAsync(IReadOnlyList<string> segmentDocuments, CancellationToken cancellationToken = default)
    {
        segmentDocuments.Count.Should().BeInRange(1, XRayLimits.MaxSegmentsPerPut);
        Calls.Add(segmentDocuments);
        if (Down)
        {
            throw new HttpRequestException("X-Ray is down (injected)");
        }

        var refuseAll = Calls.Count <= RefuseAllCalls;
        var unprocessed = new List<UnprocessedTraceSegment>();
        foreach (var document in segmentDocuments)
        {
            if (refuseAll || AlwaysRefuse.Any(r => document.Contains(r, StringComparison.Ordinal)))
            {
                using var json = System.Text.Json.JsonDocument.Parse(document);
                unprocessed.Add(new UnprocessedTraceSegment(json.RootElement.GetProperty("id").GetString(), "Throttled", "injected"));
            }
            else
            {
                _accepted.Add(document);
            }
        }

        return Task.FromResult<IReadOnlyList<UnprocessedTraceSegment>>(unprocessed);
    }

    public Task<SamplingRulesPage> GetSamplingRulesAsync(string? nextToken = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<SamplingTargetsResult> GetSamplingTargetsAsync(IReadOnlyList<SamplingStatistics> statistics, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();
}

/// <summary>A decision store that is unreachable.</summary>
internal sealed class BrokenDecisionStore : ITraceDecisionStore
{
    public ValueTask<TraceDecision?> GetAsync(string traceId, CancellationToken cancellationToken = default) => throw new IOException("down");

    public ValueTask<IReadOnlyDictionary<string, TraceDecision>> GetManyAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default) => throw new IOException("down");

    public ValueTask PutAsync(string traceId, TraceDecision decision, TimeSpan timeToLive, CancellationToken cancellationToken = default) => throw new IOException("down");

    public ValueTask PutManyAsync(IReadOnlyCollection<KeyValuePair<string, TraceDecision>> decisions, TimeSpan timeToLive, CancellationToken cancellationToken = default) => throw new IOException("down");
}

internal static class TestInvocation
{
    public static InvocationContext Context(TimeProvider time, TimeSpan? remaining = null) =>
        new("req-1", time.GetUtcNow() + (remaining ?? TimeSpan.FromMinutes(2)), null, null, time, NullLogger.Instance, TestContext.Current.CancellationToken);

    public static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 11, 25, 14, 30, 0, TimeSpan.Zero));
}
