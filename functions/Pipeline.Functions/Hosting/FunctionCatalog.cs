using Pipeline.Functions.Ingest;
using Pipeline.Functions.XRayReplay;

namespace Pipeline.Functions.Hosting;

/// <summary>
/// Every function this bootstrap can run. Each handler adds its one line to <see cref="Create"/>,
/// e.g. <c>.Add(FunctionNames.Ingest, init =&gt; IngestHandler.Create(init))</c>.
/// Test-only handlers never go here: tests build their own registry.
/// </summary>
internal static class FunctionCatalog
{
    public static HandlerRegistry Create() => new HandlerRegistry()
        .Add(FunctionNames.Ingest, IngestHandler.Create)
        .Add(FunctionNames.XRayReplay, XRayReplayHandler.Create)
        .Add(FunctionNames.ServiceGraph, init => ServiceGraph.ServiceGraphHandler.Create(init));
}
