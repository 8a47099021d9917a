using System.Globalization;
using Pipeline.Aws.Storage;
using Pipeline.Core.Graph;

namespace Pipeline.Functions.CostReport;

/// <summary>
/// Turns the latest service graph into the report's change list (<see cref="GraphDiffSource"/>
/// in production; tests pass their own).
/// </summary>
public interface IGraphDiffSource
{
    Task<ServiceGraphDiff?> GetDiffAsync(IObjectStore store, string bucket, string latestGraphKey, CancellationToken cancellationToken);
}

/// <summary>
/// Reads graph documents the service-graph function wrote (<see cref="ServiceGraphJson"/> under
/// <c>graphs/</c>) and summarizes their diff with <see cref="ServiceGraphDiff.Summarize"/>. The
/// report depends only on Core's graph contract, never on the service-graph function.
/// </summary>
public sealed class GraphDiffSource : IGraphDiffSource
{
    public static GraphDiffSource Instance { get; } = new();

    /// <summary>The summary of the graph at <paramref name="latestGraphKey"/>; null when the object is missing or not a graph document.</summary>
    public async Task<ServiceGraphDiff?> GetDiffAsync(IObjectStore store, string bucket, string latestGraphKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var bytes = await store.GetAsync(bucket, latestGraphKey, cancellationToken).ConfigureAwait(false);
        return bytes is not null && ServiceGraphJson.TryDeserialize(bytes) is { } document
            ? ServiceGraphDiff.Summarize(document, latestGraphKey)
            : null;
    }

    /// <summary>
    /// The diff of the latest graph written on <paramref name="day"/> (or the day before, when
    /// that day has none yet); null when there is no graph.
    /// </summary>
    public static async Task<ServiceGraphDiff?> LoadLatestAsync(IObjectStore store, string bucket, DateOnly day, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        foreach (var d in new[] { day, day.AddDays(-1) })
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"{ServiceGraphJson.GraphsPrefix}dt={d:yyyy-MM-dd}/");
            var latest = (await store.ListAsync(bucket, prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
                .Where(o => o.Key.EndsWith(".json", StringComparison.Ordinal))
                .Select(o => o.Key)
                .Order(StringComparer.Ordinal)
                .LastOrDefault();
            if (latest is not null
                && await store.GetAsync(bucket, latest, cancellationToken).ConfigureAwait(false) is { } bytes
                && ServiceGraphJson.TryDeserialize(bytes) is { } document)
            {
                return ServiceGraphDiff.Summarize(document, latest);
            }
        }

        return null;
    }
}
