using System.CommandLine;
using System.Globalization;
using System.Text;
using Pipeline.Aws.Athena;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Deployed;
using Pipeline.Cli.Query;
using Pipeline.Core.Traces;

namespace Pipeline.Cli.Trace;

/// <summary>
/// What <c>pipeline trace</c> needs besides the archive tools' context: how to show a file
/// (xdg-open in Program.cs; tests record it) and the terminal's width (null when redirected).
/// </summary>
internal sealed record TraceCommandContext(QueryCommandContext Query, Action<string>? Open = null, Func<int?>? TerminalWidth = null);

internal enum TraceFormat
{
    Text,
    Json,
    Html,
}

internal sealed record TraceInvocation(
    string TraceId,
    TraceFormat Format,
    bool Open,
    string? From,
    string? To,
    int? Width,
    QueryTarget Target,
    string? DataDir,
    string? Bucket,
    string? EndpointUrl,
    string? Region,
    string? WorkGroup,
    string? Database,
    string? OutputLocation,
    string? AthenaDir,
    string? StateDir = null,
    string? Stack = null);

/// <summary>
/// <c>pipeline trace &lt;trace-id&gt;</c>: every segment and subsegment of one trace from the
/// archive, found by reading the hour partitions around the trace id's epoch (widened only when
/// they miss), printed as a waterfall, JSON or an HTML page. Exit codes: 0 found, 1 a user
/// error, 2 not found. Program.cs adds <see cref="Create"/>'s command to the root command.
/// </summary>
internal static class TraceCommand
{
    public const int NotFoundExitCode = 2;

    /// <summary>Where <c>--open</c> writes the page, under the state directory.</summary>
    public const string PagesDir = "traces";

    public static Command Create(TraceCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var traceId = new Argument<string>("trace-id") { Description = "X-Ray trace id (1-5f84c7a3-0123456789abcdef01234567) or a 32-hex W3C/OpenTelemetry trace id" };
        var format = new Option<TraceFormat>("--format", "-f") { Description = "text (the waterfall), json or html", DefaultValueFactory = _ => TraceFormat.Text };
        var open = new Option<bool>("--open") { Description = "Write the HTML page under the state directory and open it" };
        var from = new Option<string?>("--from") { Description = "Read exactly this window instead of the one around the trace id's epoch: start (ISO 8601 UTC)" };
        var to = new Option<string?>("--to") { Description = "End of the --from window (ISO 8601 UTC)" };
        var width = new Option<int?>("--width") { Description = "Waterfall width in columns (default: the terminal's, else 120)" };
        var target = new Option<QueryTarget>("--target") { Description = "local (DuckDB over the archive) or athena", DefaultValueFactory = _ => QueryTarget.Local };
        var dataDir = new Option<string?>("--data-dir") { Description = "Local archive directory (bucket key layout) instead of S3" };
        var bucket = new Option<string?>("--bucket") { Description = "Archive bucket to read from (default: .pipeline/stack.json)" };
        var endpoint = new Option<string?>("--endpoint-url") { Description = "AWS endpoint (moto); default AWS_ENDPOINT_URL or .pipeline/stack.json" };
        var region = new Option<string?>("--region") { Description = "AWS region (default AWS_REGION or us-east-1)" };
        var stack = CommandOptions.Stack();
        var workGroup = new Option<string?>("--workgroup") { Description = "Athena workgroup (--target athena; default: the stack's AthenaWorkGroupName output)" };
        var database = new Option<string?>("--database") { Description = "Glue database (--target athena; default: the stack's AthenaDatabaseName output)" };
        var outputLocation = new Option<string?>("--output-location") { Description = "s3:// prefix for Athena results (--target athena; default: the stack's AthenaResultsLocation output)" };
        var athenaDir = new Option<string?>("--athena-dir") { Description = "The athena/ directory (default: found above the working directory)" };
        var stateDir = CommandOptions.StateDir();

        var command = new Command("trace", "Show one trace from the archive as a waterfall (or JSON, or an HTML page)");
        foreach (var option in new Option[] { format, open, from, to, width, target, dataDir, bucket, endpoint, region, stack, workGroup, database, outputLocation, athenaDir, stateDir })
        {
            command.Add(option);
        }

        command.Add(traceId);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var invocation = new TraceInvocation(
                parse.GetValue(traceId)!, parse.GetValue(format), parse.GetValue(open), parse.GetValue(from), parse.GetValue(to), parse.GetValue(width),
                parse.GetValue(target), parse.GetValue(dataDir), parse.GetValue(bucket), parse.GetValue(endpoint), parse.GetValue(region),
                parse.GetValue(workGroup), parse.GetValue(database), parse.GetValue(outputLocation), parse.GetValue(athenaDir), parse.GetValue(stateDir),
                parse.GetValue(stack));
            return await RunAsync(context, invocation, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    internal static async Task<int> RunAsync(TraceCommandContext context, TraceInvocation invocation, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            if (!TraceIds.TryNormalize(invocation.TraceId, out var id))
            {
                throw new ArgumentException($"'{DisplayText.Escape(invocation.TraceId)}' is not a trace id: use 1-<8 hex>-<24 hex> or 32 hex digits");
            }

            var plan = Plan(context.Query, invocation, id);
            using var archive = await OpenArchiveAsync(context.Query, invocation, cancellationToken).ConfigureAwait(false);
            var (tree, read) = await TraceLookup.FindAsync(archive, id, plan, message => error.WriteLine("pipeline trace: " + message), cancellationToken).ConfigureAwait(false);
            if (archive is AthenaTraceArchive athena)
            {
                await error.WriteLineAsync($"pipeline trace: Athena {string.Join(", ", athena.Executions)}, {read.Bytes.ToString(CultureInfo.InvariantCulture)} bytes scanned").ConfigureAwait(false);
            }

            if (Unindexed(archive) is { Count: > 0 } unindexed)
            {
                await error.WriteLineAsync($"pipeline trace: no trace index for {ArchiveHour.Describe(unindexed)}: read whole (`pipeline index` builds it)").ConfigureAwait(false);
            }

            if (tree.IsEmpty)
            {
                await error.WriteLineAsync($"pipeline trace: {id} not found in {read.Describe()}").ConfigureAwait(false);
                if (invocation.Format == TraceFormat.Json)
                {
                    await output.WriteLineAsync(Encoding.UTF8.GetString(TraceJson.ToUtf8(tree, read))).ConfigureAwait(false);
                }

                return NotFoundExitCode;
            }

            await error.WriteLineAsync($"pipeline trace: read {read.Describe()}").ConfigureAwait(false);
            switch (invocation.Format)
            {
                case TraceFormat.Json:
                    await output.WriteLineAsync(Encoding.UTF8.GetString(TraceJson.ToUtf8(tree, read, includeDocuments: true, indented: context.Query.OutputIsTerminal))).ConfigureAwait(false);
                    break;
                case TraceFormat.Html when !invocation.Open:
                    await output.WriteAsync(TraceHtml.StandalonePage(tree, read)).ConfigureAwait(false);
                    break;
                case TraceFormat.Text:
                    var width = invocation.Width ?? context.TerminalWidth?.Invoke() ?? 120;
                    await output.WriteAsync(WaterfallText.Render(tree, new WaterfallTextOptions(width, Color: context.Query.OutputIsTerminal))).ConfigureAwait(false);
                    break;
            }

            if (invocation.Open)
            {
                var path = Path.Combine(context.Query.Paths(invocation.StateDir).Root, PagesDir, id + ".html");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(path, TraceHtml.StandalonePage(tree, read), cancellationToken).ConfigureAwait(false);
                await error.WriteLineAsync($"pipeline trace: wrote {path}").ConfigureAwait(false);
                context.Open?.Invoke(path);
            }

            return 0;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or AthenaQueryFailedException or TimeoutException
            or DuckDB.NET.Data.DuckDBException or Amazon.Runtime.AmazonServiceException or Pipeline.Aws.Http.AwsServiceException
            or Pipeline.Runtime.Configuration.ConfigurationException or DeployedStackException or HttpRequestException or IOException)
        {
            await error.WriteLineAsync($"pipeline trace: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static List<ArchiveHour>? Unindexed(ITraceArchive archive) => archive switch
    {
        IndexedTraceArchive indexed => indexed.UnindexedHours,
        OwningArchive { Inner: IndexedTraceArchive indexed } => indexed.UnindexedHours,
        _ => null,
    };

    private static TraceLookupPlan Plan(QueryCommandContext context, TraceInvocation invocation, string id)
    {
        var epoch = TraceIds.Epoch(id);
        if (invocation.From is not null || invocation.To is not null)
        {
            var from = Time(invocation.From ?? throw new ArgumentException("--to needs --from"), "--from");
            var to = invocation.To is null ? from.AddHours(1) : Time(invocation.To, "--to");
            return TraceLookupPlan.Between(from, to, epoch);
        }

        if (!TraceIds.IsPlausibleEpoch(epoch, context.Time.GetUtcNow()))
        {
            throw new ArgumentException($"the trace id's epoch ({TraceIds.Format(epoch)}) is not a time a trace can start (a random W3C id?): pass --from and --to");
        }

        return TraceLookupPlan.ForEpoch(epoch);
    }

    private static DateTimeOffset Time(string text, string what) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new ArgumentException($"{what} '{text}' is not a time: use ISO 8601, e.g. 2026-11-25T07:00Z");

    private static async Task<ITraceArchive> OpenArchiveAsync(QueryCommandContext context, TraceInvocation invocation, CancellationToken cancellationToken)
    {
        AthenaSqlFiles Files() => invocation.AthenaDir is { } dir ? new AthenaSqlFiles(dir) : AthenaSqlFiles.Locate(context.WorkingDirectory);
        var paths = context.Paths(invocation.StateDir);
        var (settings, stackBucket) = context.ResolveAws(paths, invocation.EndpointUrl, invocation.Region);
        if (invocation.Target == QueryTarget.Athena)
        {
            var target = await AthenaTarget.ResolveAsync(
                () => context.CloudFormationFactory(settings), invocation.Stack, invocation.WorkGroup, invocation.Database, invocation.OutputLocation,
                context.WorkingDirectory, settings.Region, cancellationToken).ConfigureAwait(false);
            var runner = new AthenaQueryRunner(context.AthenaFactory(settings), context.Time, context.AthenaPollInterval);
            return new AthenaTraceArchive(runner, target);
        }

        var bucket = invocation.Bucket ?? (invocation.DataDir is null ? stackBucket : null);
        if (invocation.DataDir is not null || bucket is null)
        {
            var dataDir = invocation.DataDir ?? paths.DefaultDataDir;
            if (!Directory.Exists(dataDir))
            {
                throw new ArgumentException($"no archive: {dataDir} does not exist (run `pipeline up`, or pass --data-dir or --bucket)");
            }

            return new IndexedTraceArchive(new Graph.DirectoryObjectStore(dataDir), "archive", new DuckDbTraceArchive(dataDir, Files().Tables()));
        }

        var aws = context.CreateAwsClients(settings);
        return new OwningArchive(new IndexedTraceArchive(aws.ObjectStore, bucket, new S3TraceArchive(aws.ObjectStore, bucket, Files().Tables())), aws);
    }

    /// <summary>An archive that also disposes the AWS clients it reads through.</summary>
    private sealed class OwningArchive(ITraceArchive inner, IDisposable owned) : ITraceArchive
    {
        public ITraceArchive Inner => inner;

        public string Source => inner.Source;

        public bool BytesAreScanned => inner.BytesAreScanned;

        public Task<TraceArchiveRead> ReadAsync(string traceId, IReadOnlyList<ArchiveHour> hours, CancellationToken cancellationToken) =>
            inner.ReadAsync(traceId, hours, cancellationToken);

        public void Dispose()
        {
            inner.Dispose();
            owned.Dispose();
        }
    }
}
