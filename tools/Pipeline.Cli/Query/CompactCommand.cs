using System.CommandLine;
using System.Globalization;
using Amazon.S3.Model;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Local;
using Pipeline.Core.Query;

namespace Pipeline.Cli.Query;

/// <summary>
/// <c>pipeline compact --dt YYYY-MM-DD [--hour HH] [--report]</c>: rewrites hours of the gzip
/// NDJSON archive as Parquet under <c>segments_parquet/</c> (table athena/tables/segments_parquet.sql),
/// in a local archive directory or in the bucket, and with <c>--report</c> prints the bytes
/// Athena would scan for each named query on both formats. Program.cs adds the command.
/// </summary>
internal static class CompactCommand
{
    public static Command Create(QueryCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var dt = new Option<string>("--dt") { Description = "Day to compact (yyyy-MM-dd)", Required = true };
        var hour = new Option<string?>("--hour") { Description = "Hour to compact (00-23); default every hour of the day" };
        var report = new Option<bool>("--report") { Description = "Print the bytes each named query scans on NDJSON and on Parquet" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Local archive directory (bucket key layout)" };
        var bucket = new Option<string?>("--bucket") { Description = "Archive bucket (default: .pipeline/stack.json)" };
        var endpoint = new Option<string?>("--endpoint-url") { Description = "AWS endpoint (moto)" };
        var region = new Option<string?>("--region") { Description = "AWS region" };
        var athenaDir = new Option<string?>("--athena-dir") { Description = "The athena/ directory" };
        var stateDir = CommandOptions.StateDir();
        var command = new Command("compact", "Compact an hour of the NDJSON archive into Parquet (segments_parquet)");
        foreach (var option in new Option[] { dt, hour, report, dataDir, bucket, endpoint, region, athenaDir, stateDir })
        {
            command.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var files = parse.GetValue(athenaDir) is { } d ? new AthenaSqlFiles(d) : AthenaSqlFiles.Locate(context.WorkingDirectory);
                await RunAsync(context, context.Paths(parse.GetValue(stateDir)), files, parse.GetValue(dt)!, parse.GetValue(hour), parse.GetValue(report),
                    parse.GetValue(dataDir), parse.GetValue(bucket), parse.GetValue(endpoint), parse.GetValue(region), output, cancellationToken).ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or SqlSyntaxException or IOException
                or DuckDB.NET.Data.DuckDBException or Amazon.Runtime.AmazonServiceException)
            {
                await error.WriteLineAsync($"pipeline compact: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    private static async Task RunAsync(
        QueryCommandContext context, StatePaths paths, AthenaSqlFiles files, string dt, string? hour, bool report,
        string? dataDir, string? bucketFlag, string? endpoint, string? region, TextWriter output, CancellationToken cancellationToken)
    {
        if (!DateOnly.TryParseExact(dt, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            throw new ArgumentException($"--dt '{dt}' is not yyyy-MM-dd");
        }

        var tables = files.Tables();
        var (settings, stackBucket) = context.ResolveAws(paths, endpoint, region);
        var bucket = bucketFlag ?? (dataDir is null ? stackBucket : null);
        if (bucket is null)
        {
            var root = dataDir ?? paths.DefaultDataDir;
            CompactLocal(root, tables, files, dt, hour, report, output);
            return;
        }

        var copy = Directory.CreateTempSubdirectory("pipeline-compact-");
        try
        {
            using var aws = context.CreateAwsClients(settings);
            var source = tables.Single(t => t.Name == ParquetCompactor.SourceTable);
            await new S3ArchiveMirror(aws.S3).CopyAsync(bucket, [source.KeyPrefix], day, day, copy.FullName, cancellationToken).ConfigureAwait(false);
            foreach (var compacted in CompactLocal(copy.FullName, tables, files, dt, hour, report, output))
            {
                await aws.S3.PutObjectAsync(
                    new PutObjectRequest { BucketName = bucket, Key = compacted.ParquetKey, FilePath = Path.Combine(copy.FullName, compacted.ParquetKey) },
                    cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"uploaded s3://{bucket}/{compacted.ParquetKey}").ConfigureAwait(false);
            }
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    private static List<CompactedHour> CompactLocal(
        string root, IReadOnlyList<AthenaTableDefinition> tables, AthenaSqlFiles files, string dt, string? hour, bool report, TextWriter output)
    {
        if (!Directory.Exists(root))
        {
            throw new ArgumentException($"no archive: {root} does not exist");
        }

        var hours = hour is null ? ParquetCompactor.Hours(root, tables, dt) : [hour];
        if (hours.Count == 0)
        {
            throw new InvalidOperationException($"no segments for dt={dt}");
        }

        var done = new List<CompactedHour>();
        foreach (var h in hours)
        {
            var compacted = ParquetCompactor.Compact(root, tables, dt, h);
            done.Add(compacted);
            output.WriteLine($"{compacted.ParquetKey}: {compacted.Rows} rows, {compacted.ParquetBytes} bytes (NDJSON gz {compacted.NdjsonBytes} bytes)");
            if (report)
            {
                var queries = files.QueryNames().Select(files.Query);
                ResultWriter.Write(ParquetCompactor.EstimateScans(root, tables, queries, compacted), OutputFormat.Csv, output);
            }
        }

        return done;
    }
}
