using Pipeline.Functions.Configuration;

namespace Pipeline.Functions.Hosting;

/// <summary>The <c>_HANDLER</c> values the SAM template gives each function (defined once, in <see cref="FunctionContract"/>).</summary>
public static class FunctionNames
{
    public const string Ingest = FunctionContract.IngestHandler;

    public const string ServiceGraph = FunctionContract.ServiceGraphHandler;

    public const string CostReport = FunctionContract.CostReportHandler;

    public const string XRayReplay = FunctionContract.XRayReplayHandler;
}
