using System.CommandLine;
using System.Globalization;
using Pipeline.Aws.Athena;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Deployed;
using Pipeline.Core.Query;

namespace Pipeline.Cli.Query;

/// <summary>
/// <c>pipeline query "&lt;SQL&gt;"</c> and <c>pipeline query --named &lt;name&gt; [--param k=v]</c>:
/// Athena SQL (athena/queries/*.sql or ad hoc) run locally by DuckDB over the archive, copied
/// from S3 (moto or AWS) or read from a local directory, or with <c>--target athena</c> sent to
/// Athena itself. Program.cs adds <see cref="Create"/>'s command to the root command.
/// </summary>
internal static class QueryCommand
{
    public const int DefaultMaxRows = 10_000;

    public static Command Create(QueryCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var sql = new Argument<string?>("sql") { Description = "Athena SQL to run (omit with --named or --list)", Arity = ArgumentArity.ZeroOrOne };
        var named = new Option<string?>("--named", "-n") { Description = "Run athena/queries/<name>.sql" };
        var parameters = new Option<string[]>("--param", "-p") { Description = "Query parameter name=value (repeatable)", AllowMultipleArgumentsPerToken = false };
        var list = new Option<bool>("--list") { Description = "List the named queries and their parameters" };
        var format = new Option<OutputFormat?>("--format", "-f") { Description = "table (default on a terminal), csv (default when redirected) or json" };
        var maxRows = new Option<int>("--max-rows") { Description = "Stop after this many rows", DefaultValueFactory = _ => DefaultMaxRows };
        var target = new Option<QueryTarget>("--target") { Description = "local (DuckDB) or athena", DefaultValueFactory = _ => QueryTarget.Local };
        var dataDir = new Option<string?>("--data-dir") { Description = "Local archive directory (bucket key layout) to query instead of S3" };
        var bucket = new Option<string?>("--bucket") { Description = "Archive bucket to copy the window from (default: .pipeline/stack.json)" };
        var endpoint = new Option<string?>("--endpoint-url") { Description = "AWS endpoint (moto); default AWS_ENDPOINT_URL or .pipeline/stack.json" };
        var region = new Option<string?>("--region") { Description = "AWS region (default AWS_REGION or us-east-1)" };
        var from = new Option<string?>("--from") { Description = "First day (yyyy-MM-dd) to copy from S3; default dt_from or yesterday" };
        var to = new Option<string?>("--to") { Description = "Last day (yyyy-MM-dd) to copy from S3; default dt_to or today" };
        var stack = CommandOptions.Stack();
        var workGroup = new Option<string?>("--workgroup") { Description = "Athena workgroup (--target athena; default: the stack's AthenaWorkGroupName output)" };
        var database = new Option<string?>("--database") { Description = "Glue database (--target athena; default: the stack's AthenaDatabaseName output)" };
        var outputLocation = new Option<string?>("--output-location") { Description = "s3:// prefix for Athena results (--target athena; default: the stack's AthenaResultsLocation output)" };
        var athenaDir = new Option<string?>("--athena-dir") { Description = "The athena/ directory (default: found above the working directory)" };
        var parquet = new Option<bool>("--parquet") { Description = "Locally, read segments from its Parquet compaction (segments_parquet)" };
        var stateDir = CommandOptions.StateDir();

        var command = new Command("query", "Run Athena SQL over the trace archive: locally with DuckDB, or on Athena");
        foreach (var option in new Option[] { named, parameters, list, format, maxRows, target, dataDir, bucket, endpoint, region, from, to, stack, workGroup, database, outputLocation, athenaDir, parquet, stateDir })
        {
            command.Add(option);
        }

        command.Add(sql);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var invocation = new QueryInvocation(
                parse.GetValue(sql),
                parse.GetValue(named),
                parse.GetValue(parameters) ?? [],
                parse.GetValue(list),
                parse.GetValue(format),
                parse.GetValue(maxRows),
                parse.GetValue(target),
                parse.GetValue(dataDir),
                parse.GetValue(bucket),
                parse.GetValue(endpoint),
                parse.GetValue(region),
                parse.GetValue(from),
                parse.GetValue(to),
                parse.GetValue(workGroup),
                parse.GetValue(database),
                parse.GetValue(outputLocation),
                parse.GetValue(athenaDir),
                parse.GetValue(parquet),
                parse.GetValue(stateDir),
                parse.GetValue(stack));
            return await new QueryHandler(context, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error)
                .RunAsync(invocation, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }
}

internal enum QueryTarget
{
    Local,
    Athena,
}

internal sealed record QueryInvocation(
    string? Sql,
    string? Named,
    IReadOnlyList<string> Parameters,
    bool List,
    OutputFormat? Format,
    int MaxRows,
    QueryTarget Target,
    string? DataDir,
    string? Bucket,
    string? EndpointUrl,
    string? Region,
    string? From,
    string? To,
    string? WorkGroup,
    string? Database,
    string? OutputLocation,
    string? AthenaDir,
    bool Parquet = false,
    string? StateDir = null,
    string? Stack = null);

/// <summary>Carries out one <c>pipeline query</c> invocation; exit code 0 on success, 1 on a user error.</summary>
internal sealed class QueryHandler
{
    private readonly QueryCommandContext _context;
    private readonly TextWriter _output;
    private readonly TextWriter _error;

    public QueryHandler(QueryCommandContext context, TextWriter output, TextWriter error)
    {
        _context = context;
        _output = output;
        _error = error;
    }

    public async Task<int> RunAsync(QueryInvocation invocation, CancellationToken cancellationToken)
    {
        try
        {
            var files = invocation.AthenaDir is { } dir ? new AthenaSqlFiles(dir) : AthenaSqlFiles.Locate(_context.WorkingDirectory);
            if (invocation.List)
            {
                ListQueries(files);
                return 0;
            }

            var query = Resolve(invocation, files);
            var values = ParseParameters(invocation.Parameters);
            var today = DateOnly.FromDateTime(_context.Time.GetUtcNow().UtcDateTime);
            var athenaSql = query.Bind(values, today);
            var resolved = query.ResolveValues(values, today);
            var result = invocation.Target == QueryTarget.Athena
                ? await RunOnAthenaAsync(invocation, athenaSql, cancellationToken).ConfigureAwait(false)
                : await RunLocallyAsync(invocation, files, athenaSql, resolved, today, cancellationToken).ConfigureAwait(false);
            var format = invocation.Format ?? (_context.OutputIsTerminal ? OutputFormat.Table : OutputFormat.Csv);
            ResultWriter.Write(result, format, _output);
            if (result.Truncated && format != OutputFormat.Table)
            {
                await _error.WriteLineAsync($"pipeline query: output truncated at {invocation.MaxRows} rows (raise --max-rows)").ConfigureAwait(false);
            }

            return 0;
        }
        catch (Exception e) when (e is QueryParameterException or SqlSyntaxException or ArgumentException
            or InvalidOperationException or AthenaQueryFailedException or TimeoutException or DuckDB.NET.Data.DuckDBException
            or Amazon.Runtime.AmazonServiceException or Pipeline.Aws.Http.AwsServiceException or Pipeline.Runtime.Configuration.ConfigurationException
            or DeployedStackException or HttpRequestException or IOException)
        {
            await _error.WriteLineAsync($"pipeline query: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static NamedQuery Resolve(QueryInvocation invocation, AthenaSqlFiles files)
    {
        return (invocation.Sql, invocation.Named) switch
        {
            (null, null) => throw new ArgumentException("give SQL, --named <name> or --list"),
            ({ }, { }) => throw new ArgumentException("give either SQL or --named, not both"),
            (null, { } name) => files.Query(name),
            ({ } text, null) => NamedQuery.AdHoc(text),
        };
    }

    private static Dictionary<string, string> ParseParameters(IReadOnlyList<string> pairs)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new QueryParameterException($"--param '{pair}' is not name=value");
            }

            if (!values.TryAdd(pair[..eq], pair[(eq + 1)..]))
            {
                throw new QueryParameterException($"--param {pair[..eq]} given twice");
            }
        }

        return values;
    }

    private void ListQueries(AthenaSqlFiles files)
    {
        foreach (var name in files.QueryNames())
        {
            var query = files.Query(name);
            var parameters = string.Join(' ', query.Parameters.Select(p => p.Default is null ? $"{p.Name}=<{p.Type.ToString().ToLowerInvariant()}>" : $"[{p.Name}={p.Default}]"));
            _output.WriteLine($"{name} {parameters}".TrimEnd());
            _output.WriteLine($"    {query.Description}");
        }
    }

    private async Task<QueryResult> RunLocallyAsync(
        QueryInvocation invocation, AthenaSqlFiles files, string athenaSql, IReadOnlyDictionary<string, string> resolved, DateOnly today, CancellationToken cancellationToken)
    {
        var tables = invocation.Parquet ? ReadSegmentsFromParquet(files.Tables()) : files.Tables();
        var paths = _context.Paths(invocation.StateDir);
        var (settings, stackBucket) = _context.ResolveAws(paths, invocation.EndpointUrl, invocation.Region);
        var bucket = invocation.Bucket ?? (invocation.DataDir is null ? stackBucket : null);
        if (invocation.DataDir is not null || bucket is null)
        {
            var dataDir = invocation.DataDir ?? paths.DefaultDataDir;
            if (!Directory.Exists(dataDir))
            {
                throw new ArgumentException($"no archive: {dataDir} does not exist (pass --data-dir, or --bucket to copy from S3)");
            }

            return DuckDbQueryRunner.Run(athenaSql, dataDir, tables, invocation.MaxRows);
        }

        var from = Day(invocation.From ?? resolved.GetValueOrDefault("dt_from"), today.AddDays(-1), "--from");
        var to = Day(invocation.To ?? resolved.GetValueOrDefault("dt_to"), today, "--to");
        var copy = Directory.CreateTempSubdirectory("pipeline-query-");
        try
        {
            using var aws = _context.CreateAwsClients(settings);
            var mirror = new S3ArchiveMirror(aws.S3);
            var copied = await mirror.CopyAsync(bucket, tables.Select(t => t.KeyPrefix), from, to, copy.FullName, cancellationToken).ConfigureAwait(false);
            await _error.WriteLineAsync($"pipeline query: copied {copied} object(s) of s3://{bucket} for {from:yyyy-MM-dd}..{to:yyyy-MM-dd}").ConfigureAwait(false);
            return DuckDbQueryRunner.Run(athenaSql, copy.FullName, tables, invocation.MaxRows);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    private async Task<QueryResult> RunOnAthenaAsync(QueryInvocation invocation, string athenaSql, CancellationToken cancellationToken)
    {
        var (settings, _) = _context.ResolveAws(_context.Paths(invocation.StateDir), invocation.EndpointUrl, invocation.Region);
        var target = await AthenaTarget.ResolveAsync(
            () => _context.CloudFormationFactory(settings), invocation.Stack, invocation.WorkGroup, invocation.Database, invocation.OutputLocation,
            _context.WorkingDirectory, settings.Region, cancellationToken).ConfigureAwait(false);
        var runner = new AthenaQueryRunner(_context.AthenaFactory(settings), _context.Time, _context.AthenaPollInterval);
        var outcome = await runner.RunAsync(
            new AthenaQueryRequest(athenaSql, target.Database, target.WorkGroup, target.OutputLocation),
            invocation.MaxRows,
            cancellationToken).ConfigureAwait(false);
        var scanned = outcome.DataScannedInBytes is { } b ? b.ToString(CultureInfo.InvariantCulture) + " bytes scanned" : "bytes scanned unknown";
        await _error.WriteLineAsync($"pipeline query: Athena {outcome.QueryExecutionId} in workgroup {target.WorkGroup}, {scanned}").ConfigureAwait(false);
        return new QueryResult(outcome.Columns, outcome.Rows, outcome.Truncated);
    }

    /// <summary>The table list with <c>segments</c> served by <c>segments_parquet</c>'s objects.</summary>
    internal static IReadOnlyList<AthenaTableDefinition> ReadSegmentsFromParquet(IReadOnlyList<AthenaTableDefinition> tables)
    {
        var parquet = tables.Single(t => t.Name == ParquetCompactor.TargetTable);
        return tables.Where(t => t.Name != ParquetCompactor.SourceTable).Append(parquet with { Name = ParquetCompactor.SourceTable }).ToList();
    }

    private static DateOnly Day(string? text, DateOnly fallback, string what)
    {
        if (text is null)
        {
            return fallback;
        }

        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : throw new ArgumentException($"{what} '{text}' is not a yyyy-MM-dd date");
    }
}
