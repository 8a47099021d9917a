using Pipeline.Functions.Configuration;
using Pipeline.Functions.CostReport;
using Pipeline.Functions.Ingest;
using Pipeline.Functions.ServiceGraph;
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
        .Add(FunctionContract.CostReportHandler, CostReportHandler.CreateAsync)
        .Add(FunctionContract.ServiceGraphHandler, init => ServiceGraphHandler.Create(init));
}
