using Pipeline.Functions.Configuration;
#if !INGEST_ONLY
using Pipeline.Functions.CostReport;
#endif
using Pipeline.Functions.Ingest;
#if !INGEST_ONLY
using Pipeline.Functions.ServiceGraph;
#endif
using Pipeline.Functions.XRayReplay;

namespace Pipeline.Functions.Hosting;

/// <summary>
/// Every function this bootstrap can run, one line each; the names are those of
/// <see cref="FunctionContract"/>, which template.yaml uses.
/// Test-only handlers never go here: tests build their own registry.
/// </summary>
internal static class FunctionCatalog
{
    public static HandlerRegistry Create() => new HandlerRegistry()
        .Add(FunctionContract.IngestHandler, IngestHandler.Create)
        .Add(FunctionContract.XRayReplayHandler, XRayReplayHandler.Create)
#if !INGEST_ONLY
        .Add(FunctionContract.CostReportHandler, CostReportHandler.CreateAsync)
        .Add(FunctionContract.ServiceGraphHandler, init => ServiceGraphHandler.Create(init))
#endif
        ;
}
