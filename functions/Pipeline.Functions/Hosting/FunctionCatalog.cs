using Pipeline.Functions.CostReport;

namespace Pipeline.Functions.Hosting;

/// <summary>
/// Every function this bootstrap can run. Each handler adds its one line to <see cref="Create"/>.
/// Test-only handlers never go here: tests build their own registry.
/// </summary>
internal static class FunctionCatalog
{
    public static HandlerRegistry Create() => new HandlerRegistry()
        .Add(FunctionNames.CostReport, CostReportHandler.CreateAsync);
}
