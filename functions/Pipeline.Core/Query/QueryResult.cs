namespace Pipeline.Core.Query;

/// <summary>
/// A query's answer as text cells, whichever engine ran it (DuckDB locally, Athena remotely):
/// Athena returns every cell as a string, so DuckDB values are rendered the same way.
/// </summary>
/// <param name="Truncated">True when more rows existed than the caller's row limit.</param>
public sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows, bool Truncated);
