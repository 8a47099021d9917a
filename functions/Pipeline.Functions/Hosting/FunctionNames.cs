namespace Pipeline.Functions.Hosting;

/// <summary>The <c>_HANDLER</c> values the SAM template gives each function.</summary>
public static class FunctionNames
{
    public const string Ingest = "ingest";

    public const string ServiceGraph = "service-graph";

    public const string CostReport = "cost-report";

    public const string XRayReplay = "xray-replay";
}
