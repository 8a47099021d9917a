using Pipeline.Aws.Storage;
using Pipeline.Core.Graph;
using Pipeline.Functions.CostReport;

namespace Pipeline.Functions.ServiceGraph;

/// <summary>
/// The cost report's <see cref="IGraphDiffSource"/>: reads the latest graph JSON the
/// service-graph function wrote and maps its diff with <see cref="CostReportGraphDiff.From"/>.
/// Null when the object is missing or not a graph document.
/// </summary>
public sealed class ServiceGraphDiffSource : IGraphDiffSource
{
    public static ServiceGraphDiffSource Instance { get; } = new();

    public async Task<ServiceGraphDiff?> GetDiffAsync(IObjectStore store, string bucket, string latestGraphKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var bytes = await store.GetAsync(bucket, latestGraphKey, cancellationToken).ConfigureAwait(false);
        return bytes is not null && ServiceGraphJson.TryDeserialize(bytes) is { } document
            ? CostReportGraphDiff.From(document, latestGraphKey)
            : null;
    }
}
