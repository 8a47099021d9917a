using System.Text;
using Pipeline.Aws.Athena;
using Pipeline.Aws.Storage;
using Pipeline.Cli.Deployed;
using Pipeline.Cli.Query;
using Pipeline.Core.Query;
using Pipeline.Core.Traces;

namespace Pipeline.Cli.Trace;

/// <summary>The lines one read returned, and what reading them cost.</summary>
/// <param name="Objects">Archive objects opened (0 when the engine does not say, as on Athena).</param>
/// <param name="Bytes">Bytes of those objects; on Athena the bytes it scanned.</param>
internal sealed record TraceArchiveRead(IReadOnlyList<byte[]> Lines, long Objects, long Bytes);

/// <summary>Where a trace lookup reads hour partitions from: the local archive (DuckDB), S3 (copied, then DuckDB) or Athena.</summary>
internal interface ITraceArchive : IDisposable
{
    /// <summary>For messages: "local archive /path", "s3://bucket", "Athena (workgroup wg)".</summary>
    string Source { get; }

    /// <summary>True when <see cref="TraceArchiveRead.Bytes"/> is Athena's DataScannedInBytes.</summary>
    bool BytesAreScanned { get; }

    Task<TraceArchiveRead> ReadAsync(string traceId, IReadOnlyList<ArchiveHour> hours, CancellationToken cancellationToken);
}

/// <summary>
/// The archive in a local directory (bucket key layout), read by DuckDB with the same SQL as
/// Athena (<see cref="TraceLookupSql"/> over the <c>segments_raw</c> view, translated by
/// <see cref="AthenaToDuckDb"/>); hive partition pruning keeps it to the hours asked for.
/// </summary>
internal sealed class DuckDbTraceArchive : ITraceArchive
{
    private readonly string _root;
    private readonly AthenaTableDefinition _table;

    public DuckDbTraceArchive(string root, IReadOnlyList<AthenaTableDefinition> tables, string? source = null)
    {
        _root = Path.GetFullPath(root);
        _table = tables.SingleOrDefault(t => t.Name == TraceLookupSql.Table)
            ?? throw new InvalidOperationException($"athena/tables has no {TraceLookupSql.Table} table");
        Source = source ?? "local archive " + _root;
    }

    public string Source { get; }

    public bool BytesAreScanned => false;

    public Task<TraceArchiveRead> ReadAsync(string traceId, IReadOnlyList<ArchiveHour> hours, CancellationToken cancellationToken)
    {
        long objects = 0;
        long bytes = 0;
        foreach (var hour in hours)
        {
            var dir = Path.Combine(_root, hour.Prefix);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var file in new DirectoryInfo(dir).EnumerateFiles())
            {
                objects++;
                bytes += file.Length;
            }
        }

        if (objects == 0)
        {
            return Task.FromResult(new TraceArchiveRead([], 0, 0));
        }

        cancellationToken.ThrowIfCancellationRequested();
        using var connection = DuckDbQueryRunner.OpenWithViews(_root, [_table]);
        using var command = connection.CreateCommand();
        command.CommandText = AthenaToDuckDb.Translate(TraceLookupSql.Build(traceId, hours));
        using var reader = command.ExecuteReader();
        var lines = new List<byte[]>();
        while (reader.Read())
        {
            if (!reader.IsDBNull(0))
            {
                lines.Add(Encoding.UTF8.GetBytes(reader.GetString(0)));
            }
        }

        return Task.FromResult(new TraceArchiveRead(lines, objects, bytes));
    }

    public void Dispose()
    {
        // Nothing held between reads: each read opens and closes its own in-memory DuckDB.
    }
}

/// <summary>
/// The archive bucket (moto or AWS) read hour by hour: the objects of the asked hours are copied
/// to a temporary directory and read by <see cref="DuckDbTraceArchive"/>. Bounded per hour; the
/// copy is deleted on dispose.
/// </summary>
internal sealed class S3TraceArchive : ITraceArchive
{
    /// <summary>Objects per hour at most: a local copy of more is a job for --target athena.</summary>
    public const int MaxObjectsPerHour = 10_000;

    private readonly IObjectStore _store;
    private readonly string _bucket;
    private readonly DirectoryInfo _copy;
    private readonly DuckDbTraceArchive _local;

    public S3TraceArchive(IObjectStore store, string bucket, IReadOnlyList<AthenaTableDefinition> tables)
    {
        _store = store;
        _bucket = bucket;
        _copy = Directory.CreateTempSubdirectory("pipeline-trace-");
        _local = new DuckDbTraceArchive(_copy.FullName, tables, "s3://" + bucket);
    }

    public string Source => _local.Source;

    public bool BytesAreScanned => false;

    public async Task<TraceArchiveRead> ReadAsync(string traceId, IReadOnlyList<ArchiveHour> hours, CancellationToken cancellationToken)
    {
        var local = new Graph.DirectoryObjectStore(_copy.FullName);
        foreach (var hour in hours)
        {
            var objects = await _store.ListAsync(_bucket, hour.Prefix, MaxObjectsPerHour + 1, cancellationToken).ConfigureAwait(false);
            if (objects.Count > MaxObjectsPerHour)
            {
                throw new InvalidOperationException($"{hour.Prefix} holds more than {MaxObjectsPerHour} objects: use --target athena");
            }

            foreach (var o in objects)
            {
                var bytes = await _store.GetAsync(_bucket, o.Key, cancellationToken).ConfigureAwait(false);
                if (bytes is not null)
                {
                    await local.PutAsync(_bucket, o.Key, bytes, "application/gzip", cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return await _local.ReadAsync(traceId, hours, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _local.Dispose();
        try
        {
            _copy.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A temp copy left behind is harmless.
        }
    }
}

/// <summary>A deployed stack's archive through Athena: the same SQL on <c>segments_raw</c>, partition projection doing the pruning.</summary>
internal sealed class AthenaTraceArchive : ITraceArchive
{
    /// <summary>Lines per trace at most (a trace is capped far below this by X-Ray's own limits).</summary>
    public const int MaxLines = 50_000;

    private readonly AthenaQueryRunner _runner;
    private readonly AthenaTarget _target;

    public AthenaTraceArchive(AthenaQueryRunner runner, AthenaTarget target)
    {
        _runner = runner;
        _target = target;
    }

    public string Source => $"Athena (workgroup {_target.WorkGroup}, database {_target.Database})";

    public bool BytesAreScanned => true;

    /// <summary>Query execution ids, in order, for the user to find the queries in the console.</summary>
    public List<string> Executions { get; } = [];

    public async Task<TraceArchiveRead> ReadAsync(string traceId, IReadOnlyList<ArchiveHour> hours, CancellationToken cancellationToken)
    {
        var outcome = await _runner.RunAsync(
            new AthenaQueryRequest(TraceLookupSql.Build(traceId, hours), _target.Database, _target.WorkGroup, _target.OutputLocation), MaxLines, cancellationToken).ConfigureAwait(false);
        Executions.Add(outcome.QueryExecutionId);
        var lines = outcome.Rows.Where(r => r.Count > 0 && r[0] is not null).Select(r => Encoding.UTF8.GetBytes(r[0]!)).ToList();
        return new TraceArchiveRead(lines, 0, outcome.DataScannedInBytes ?? 0);
    }

    public void Dispose()
    {
        // The runner's client belongs to the command's composition.
    }
}
