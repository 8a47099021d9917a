using Pipeline.Cli.Query;
using Pipeline.Core.Query;
using Pipeline.Functions.ServiceGraph;

namespace Pipeline.Cli.Graph;

/// <summary>athena/service_graph.sql on DuckDB over a local archive directory (the translator and views of <c>pipeline query</c>).</summary>
public sealed class DuckDbGraphSqlEngine : IGraphSqlEngine
{
    public const int MaxRows = 100_000;

    private readonly string _archiveRoot;
    private readonly IReadOnlyList<AthenaTableDefinition> _tables;

    public DuckDbGraphSqlEngine(string archiveRoot, IReadOnlyList<AthenaTableDefinition> tables)
    {
        _archiveRoot = archiveRoot;
        _tables = tables;
    }

    public Task<(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows)> RunAsync(string athenaSql, CancellationToken cancellationToken)
    {
        var result = DuckDbQueryRunner.Run(athenaSql, _archiveRoot, _tables, MaxRows);
        if (result.Truncated)
        {
            throw new InvalidOperationException($"the service graph query returned more than {MaxRows} rows");
        }

        return Task.FromResult((result.Columns, result.Rows));
    }
}
