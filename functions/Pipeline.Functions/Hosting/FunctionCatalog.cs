namespace Pipeline.Functions.Hosting;

/// <summary>
/// Every function this bootstrap can run. Each handler adds its one line to <see cref="Create"/>,
/// e.g. <c>.Add(FunctionContract.IngestHandler, init =&gt; IngestHandler.Create(init))</c>;
/// the names are those of <see cref="Configuration.FunctionContract"/>, which template.yaml uses.
/// Test-only handlers never go here: tests build their own registry.
/// </summary>
internal static class FunctionCatalog
{
    public static HandlerRegistry Create() => new HandlerRegistry();
}
