using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Storage;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Local;
using Pipeline.Cli.Query;
using Pipeline.Core.Archive;
using Pipeline.Core.Graph;
using Pipeline.Functions.ServiceGraph;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Cli.Graph;

/// <summary>
/// What <c>pipeline graph</c> needs from its composition root. <paramref name="Environment"/>
/// is the CLI's environment seam (AWS_ENDPOINT_URL, AWS_REGION, keys, PIPELINE_STATE_DIR) and
/// <paramref name="Http"/> its one pooled AWS HttpClient;
/// <paramref name="Open"/> shows a file to the user (xdg-open in Program.cs; tests record the path).
/// </summary>
internal sealed record GraphCommandContext(
    TimeProvider Time,
    IEnvironment Environment,
    HttpClient Http,
    string WorkingDirectory,
    Action<string>? Open = null)
{
    /// <summary>The state directory for <c>--state-dir</c> (<see cref="StatePaths.Resolve"/>, as every command).</summary>
    public StatePaths Paths(string? stateDirFlag) => StatePaths.Resolve(stateDirFlag, Environment, WorkingDirectory, WorkingDirectory);
}

/// <summary>
/// <c>pipeline graph [--window 1h] [--engine stream|sql] [--open]</c>: builds the service graph
/// of the window ending now (or at <c>--end</c>) like the scheduled function does, from the
/// local stack's archive bucket (moto, endpoint from .pipeline/stack.json) or a local
/// <c>--data-dir</c>, writes graphs/… there (and a local copy under .pipeline/graphs/ when the
/// archive is in S3), and prints the output paths and an ASCII summary of the edges.
/// Program.cs adds <see cref="Create"/>'s command to the root command.
/// </summary>
internal static class GraphCommand
{
    public static Command Create(GraphCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var window = new Option<string>("--window", "-w") { Description = "Window length: 15m, 1h, 6h, 1d", DefaultValueFactory = _ => "1h" };
        var end = new Option<string?>("--end") { Description = "Window end (ISO 8601 UTC); default now, rounded up to the minute" };
        var engine = new Option<string>("--engine", "-e") { Description = "stream (the builder) or sql (athena/service_graph.sql on DuckDB)", DefaultValueFactory = _ => "stream" };
        var open = new Option<bool>("--open") { Description = "Open the SVG when done" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Local archive directory (bucket key layout) instead of S3" };
        var bucket = new Option<string?>("--bucket") { Description = "Archive bucket (default: .pipeline/stack.json)" };
        var endpoint = new Option<string?>("--endpoint-url") { Description = "AWS endpoint (default AWS_ENDPOINT_URL or .pipeline/stack.json)" };
        var region = new Option<string?>("--region") { Description = "AWS region (default AWS_REGION or us-east-1)" };
        var athenaDir = new Option<string?>("--athena-dir") { Description = "The athena/ directory (default: found above the working directory)" };
        var stateDir = CommandOptions.StateDir();

        var command = new Command("graph", "Build the service graph of a window now and print where it is");
        foreach (var option in new Option[] { window, end, engine, open, dataDir, bucket, endpoint, region, athenaDir, stateDir })
        {
            command.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var invocation = new GraphInvocation(
                    ParseWindow(parse.GetValue(window)!),
                    parse.GetValue(end) is { } e ? DateTimeOffset.Parse(e, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal) : null,
                    parse.GetValue(engine) switch
                    {
                        "stream" => GraphEngine.Stream,
                        "sql" => GraphEngine.Sql,
                        var other => throw new ArgumentException($"--engine '{other}' is not stream or sql"),
                    },
                    parse.GetValue(open),
                    parse.GetValue(dataDir),
                    parse.GetValue(bucket),
                    parse.GetValue(endpoint),
                    parse.GetValue(region),
                    parse.GetValue(athenaDir),
                    parse.GetValue(stateDir));
                return await RunAsync(context, invocation, output, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or IOException
                or DuckDB.NET.Data.DuckDBException or Amazon.Runtime.AmazonServiceException or HttpRequestException or InvalidDataException)
            {
                await error.WriteLineAsync($"pipeline graph: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    /// <summary>A window in the one duration grammar (15m, 1h, 1d; a bare number is an error), from one minute to a day.</summary>
    public static TimeSpan ParseWindow(string text) =>
        ConfigValue.TryDuration(text.Trim(), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(ServiceGraphOptions.MaxWindowMinutes), out var window, out var error)
            ? window
            : throw new ArgumentException($"--window: {error}");

    internal static async Task<int> RunAsync(GraphCommandContext context, GraphInvocation invocation, TextWriter output, CancellationToken cancellationToken)
    {
        var end = invocation.End ?? CeilingToMinute(context.Time.GetUtcNow());
        var start = end - invocation.Window;
        using var source = OpenSource(context, invocation);
        var options = new ServiceGraphOptions { ArchiveBucket = source.Bucket, Window = invocation.Window, Engine = invocation.Engine };
        string? copy = null;
        try
        {
            IGraphSqlEngine? sql = null;
            if (invocation.Engine == GraphEngine.Sql)
            {
                var files = invocation.AthenaDir is { } dir ? new AthenaSqlFiles(dir) : AthenaSqlFiles.Locate(context.WorkingDirectory);
                var root = source.LocalRoot;
                if (root is null)
                {
                    copy = Directory.CreateTempSubdirectory("pipeline-graph-").FullName;
                    await MirrorAsync(source.Store, source.Bucket, start, end, copy, cancellationToken).ConfigureAwait(false);
                    root = copy;
                }

                sql = new DuckDbGraphSqlEngine(root, files.Tables());
            }

            var job = new ServiceGraphJob(source.Store, options, sql, NullLogger.Instance);
            var outputs = await job.RunAsync(start, end, invocation.Engine, cancellationToken).ConfigureAwait(false);
            var svgPath = await ReportPathsAsync(context, invocation, source, outputs, output, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync().ConfigureAwait(false);
            await output.WriteAsync(GraphText.Summary(outputs.Document)).ConfigureAwait(false);
            if (invocation.Open)
            {
                (context.Open ?? OpenWithDesktop)(svgPath);
            }

            return 0;
        }
        finally
        {
            if (copy is not null)
            {
                Directory.Delete(copy, recursive: true);
            }
        }
    }

    private static async Task<string> ReportPathsAsync(GraphCommandContext context, GraphInvocation invocation, ArchiveSource source, ServiceGraphOutputs outputs, TextWriter output, CancellationToken cancellationToken)
    {
        await output.WriteLineAsync($"graph {outputs.Document.StartTime} .. {outputs.Document.EndTime} ({outputs.EngineUsed}, {outputs.ObjectsRead} archive object(s), {outputs.Document.Documents} segment(s))").ConfigureAwait(false);
        string svgPath = string.Empty;
        foreach (var key in new[] { outputs.JsonKey, outputs.SvgKey, outputs.DotKey })
        {
            string local;
            if (source.LocalRoot is { } root)
            {
                local = ((DirectoryObjectStore)source.Store).PathOf(key);
                await output.WriteLineAsync(local).ConfigureAwait(false);
            }
            else
            {
                // A local copy so that --open and the user's viewer have a file.
                local = Path.Combine(context.Paths(invocation.StateDir).Root, key);
                Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                var bytes = await source.Store.GetAsync(source.Bucket, key, cancellationToken).ConfigureAwait(false) ?? [];
                await File.WriteAllBytesAsync(local, bytes, cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"s3://{source.Bucket}/{key}  (copy: {local})").ConfigureAwait(false);
            }

            if (key == outputs.SvgKey)
            {
                svgPath = local;
            }
        }

        return svgPath;
    }

    private static async Task MirrorAsync(IObjectStore store, string bucket, DateTimeOffset start, DateTimeOffset end, string target, CancellationToken cancellationToken)
    {
        var local = new DirectoryObjectStore(target);
        foreach (var prefix in ServiceGraphJob.HourPrefixes(start, end))
        {
            foreach (var o in await store.ListAsync(bucket, prefix, ServiceGraphJob.MaxObjectsPerHour, cancellationToken).ConfigureAwait(false))
            {
                var bytes = await store.GetAsync(bucket, o.Key, cancellationToken).ConfigureAwait(false);
                if (bytes is not null)
                {
                    await local.PutAsync(bucket, o.Key, bytes, ArchiveObjects.GzipNdjsonContentType, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static ArchiveSource OpenSource(GraphCommandContext context, GraphInvocation invocation)
    {
        var paths = context.Paths(invocation.StateDir);
        var stack = StackFile.TryRead(paths.StackFile);
        var bucket = invocation.Bucket ?? (invocation.DataDir is null ? stack?.Buckets.Archive : null);
        if (invocation.DataDir is not null || bucket is null)
        {
            var dir = invocation.DataDir ?? paths.DefaultDataDir;
            if (!Directory.Exists(dir))
            {
                throw new ArgumentException($"no archive: {dir} does not exist (run `pipeline up`, or pass --data-dir or --bucket)");
            }

            return new ArchiveSource(new DirectoryObjectStore(dir), "local", Path.GetFullPath(dir), null);
        }

        var env = context.Environment;
        var endpoint = invocation.EndpointUrl ?? env.GetVariable(AwsSettings.EndpointUrlVariable) ?? stack?.Endpoint;
        var region = invocation.Region ?? env.GetVariable(AwsSettings.RegionVariable) ?? env.GetVariable(AwsSettings.DefaultRegionVariable) ?? stack?.Region ?? AwsSettings.FallbackRegion;
        var key = env.GetVariable(AwsSettings.AccessKeyIdVariable);
        var secret = env.GetVariable(AwsSettings.SecretAccessKeyVariable);
        // moto ignores signatures but needs a well-formed one: placeholder keys for a local endpoint.
        const string LocalCredential = "testing";
        var settings = new AwsSettings
        {
            Region = region,
            EndpointUrl = endpoint is null ? null : new Uri(endpoint),
            AccessKeyId = key ?? (endpoint is null ? null : LocalCredential),
            SecretAccessKey = secret ?? (endpoint is null ? null : LocalCredential),
            SessionToken = env.GetVariable(AwsSettings.SessionTokenVariable),
        };
        var clients = AwsClients.Create(settings, context.Http, context.Time);
        return new ArchiveSource(clients.ObjectStore, bucket, null, clients);
    }

    private static DateTimeOffset CeilingToMinute(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        var rem = ticks % TimeSpan.TicksPerMinute;
        return new DateTimeOffset(rem == 0 ? ticks : ticks - rem + TimeSpan.TicksPerMinute, TimeSpan.Zero);
    }

    private static void OpenWithDesktop(string path)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("xdg-open", [path]) { UseShellExecute = false });
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No desktop opener (a server): the path was printed above.
        }
    }

    internal sealed record GraphInvocation(
        TimeSpan Window,
        DateTimeOffset? End,
        GraphEngine Engine,
        bool Open,
        string? DataDir,
        string? Bucket,
        string? EndpointUrl,
        string? Region,
        string? AthenaDir,
        string? StateDir = null);

    private sealed record ArchiveSource(IObjectStore Store, string Bucket, string? LocalRoot, IDisposable? Owner) : IDisposable
    {
        public void Dispose() => Owner?.Dispose();
    }
}
