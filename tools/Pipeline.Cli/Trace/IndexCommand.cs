using System.CommandLine;
using System.Globalization;
using Pipeline.Aws.Storage;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Graph;
using Pipeline.Cli.Query;
using Pipeline.Core.Archive;
using Pipeline.Core.Query;
using Pipeline.Core.Traces;

namespace Pipeline.Cli.Trace;

/// <summary>
/// <c>pipeline index [--dt YYYY-MM-DD] [--hour HH] [--force]</c>: (re)builds the per-hour
/// trace-id index (<see cref="TraceIndex"/>) that lets <c>pipeline trace</c> and the UI open one
/// or two objects of an hour instead of all of them, from the hour's archive objects alone, in a
/// local archive directory or in the bucket. An hour whose index already covers exactly its
/// objects is skipped unless <c>--force</c>. Safe to run at any time and as often as wanted (a
/// schedule after each hour closes, or now): the index is never the only copy of anything.
/// </summary>
internal static class IndexCommand
{
    /// <summary>Archive objects listed at most in one run (every hour named in one listing).</summary>
    public const int MaxObjects = 1_000_000;

    public static Command Create(QueryCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var dt = new Option<string?>("--dt") { Description = "Day to index (yyyy-MM-dd); default every day of the archive" };
        var hour = new Option<string?>("--hour") { Description = "Hour to index (00-23, with --dt); default every hour" };
        var force = new Option<bool>("--force") { Description = "Rebuild hours whose index is already current" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Local archive directory (bucket key layout)" };
        var bucket = new Option<string?>("--bucket") { Description = "Archive bucket (default: .pipeline/stack.json)" };
        var endpoint = new Option<string?>("--endpoint-url") { Description = "AWS endpoint (moto)" };
        var region = new Option<string?>("--region") { Description = "AWS region" };
        var stateDir = CommandOptions.StateDir();
        var command = new Command("index", "Build the per-hour trace-id index that makes trace lookups open only the objects they need");
        foreach (var option in new Option[] { dt, hour, force, dataDir, bucket, endpoint, region, stateDir })
        {
            command.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var prefix = Prefix(parse.GetValue(dt), parse.GetValue(hour));
                var paths = context.Paths(parse.GetValue(stateDir));
                var (settings, stackBucket) = context.ResolveAws(paths, parse.GetValue(endpoint), parse.GetValue(region));
                var bucketName = parse.GetValue(bucket) ?? (parse.GetValue(dataDir) is null ? stackBucket : null);
                if (bucketName is null)
                {
                    var root = parse.GetValue(dataDir) ?? paths.DefaultDataDir;
                    if (!Directory.Exists(root))
                    {
                        throw new ArgumentException($"no archive: {root} does not exist");
                    }

                    // A local copy also gets the search summaries the UI's search reads (DuckDB is here).
                    var tables = AthenaSqlFiles.Locate(context.WorkingDirectory).Tables();
                    return await RunAsync(new DirectoryObjectStore(root), "archive", prefix, parse.GetValue(force), output, cancellationToken, (root, tables)).ConfigureAwait(false);
                }

                using var aws = context.CreateAwsClients(settings);
                return await RunAsync(aws.ObjectStore, bucketName, prefix, parse.GetValue(force), output, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidDataException
                or Amazon.Runtime.AmazonServiceException or Pipeline.Aws.Http.AwsServiceException or HttpRequestException or DuckDB.NET.Data.DuckDBException)
            {
                await error.WriteLineAsync($"pipeline index: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// Indexes every hour under <paramref name="prefix"/>; prints one line per hour. With
    /// <paramref name="summaries"/> (a local archive directory and its tables) it also builds each
    /// hour's search summary (<see cref="SearchSummary"/>) unless it is current. Returns the exit code.
    /// </summary>
    internal static async Task<int> RunAsync(
        IObjectStore store, string bucket, string prefix, bool force, TextWriter output, CancellationToken cancellationToken,
        (string Root, IReadOnlyList<AthenaTableDefinition> Tables)? summaries = null)
    {
        var listed = await store.ListAsync(bucket, prefix, MaxObjects + 1, cancellationToken).ConfigureAwait(false);
        if (listed.Count > MaxObjects)
        {
            throw new InvalidOperationException($"more than {MaxObjects} objects under {prefix}: index a day at a time (--dt)");
        }

        var hours = listed.GroupBy(o => HourPrefix(o.Key)).Where(g => g.Key is not null).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (hours.Count == 0)
        {
            throw new InvalidOperationException($"no segments under {prefix}");
        }

        using var connection = summaries is null ? null : new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection?.Open();
        foreach (var group in hours)
        {
            var hour = HourOf(group.Key!);
            if (summaries is { } local)
            {
                if (!force && SearchSummaryFiles.IsCurrent(connection!, local.Root, hour))
                {
                    await output.WriteLineAsync($"{SearchSummary.Key(hour)}: current").ConfigureAwait(false);
                }
                else
                {
                    var summary = SearchSummaryFiles.Build(local.Root, local.Tables, hour);
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{summary.Key}: {summary.Objects} objects, {summary.SourceBytes} bytes summarised as {summary.Rows} rows in {summary.SummaryBytes} bytes")).ConfigureAwait(false);
                }
            }

            var key = TraceIndex.Key(hour);
            var objects = group.ToList();
            if (!force && await store.GetAsync(bucket, key, cancellationToken).ConfigureAwait(false) is { } existing
                && TraceIndex.TryParse(existing) is { } index && Covers(index, objects))
            {
                await output.WriteLineAsync($"{key}: current ({objects.Count.ToString(CultureInfo.InvariantCulture)} objects)").ConfigureAwait(false);
                continue;
            }

            var contents = new List<(string, long, byte[])>(objects.Count);
            foreach (var o in objects)
            {
                if (await store.GetAsync(bucket, o.Key, cancellationToken).ConfigureAwait(false) is { } bytes)
                {
                    // The size of the bytes read, not of the listing: a rewrite in between is then not covered.
                    contents.Add((o.Key, bytes.Length, bytes));
                }
            }

            var built = TraceIndex.Build(contents);
            await store.PutAsync(bucket, key, built, ArchiveObjects.GzipNdjsonContentType, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{key}: {contents.Count} objects, {contents.Sum(c => c.Item2)} bytes indexed in {built.Length} bytes")).ConfigureAwait(false);
        }

        return 0;
    }

    private static bool Covers(TraceIndex index, List<StoredObject> objects) =>
        index.Objects.Count == objects.Count
        && objects.All(o => index.Objects.Contains(new IndexedObject(o.Key, o.Size)));

    private static string Prefix(string? dt, string? hour)
    {
        if (dt is null)
        {
            return hour is null ? ArchiveKeys.SegmentsPrefix : throw new ArgumentException("--hour needs --dt");
        }

        if (!DateOnly.TryParseExact(dt, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            throw new ArgumentException($"--dt '{dt}' is not yyyy-MM-dd");
        }

        if (hour is null)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{ArchiveKeys.SegmentsPrefix}dt={day:yyyy-MM-dd}/");
        }

        return hour.Length == 2 && int.TryParse(hour, NumberStyles.None, CultureInfo.InvariantCulture, out var h) && h <= 23
            ? ArchiveKeys.SegmentsHourPrefix(new DateTimeOffset(day.ToDateTime(new TimeOnly(h, 0)), TimeSpan.Zero))
            : throw new ArgumentException($"--hour '{hour}' is not 00-23");
    }

    /// <summary><c>segments/dt=…/hour=…/</c> of a key directly in an hour partition, else null.</summary>
    private static string? HourPrefix(string key)
    {
        var slash = key.LastIndexOf('/');
        var prefix = slash < 0 ? null : key[..(slash + 1)];
        return prefix is not null && TryHour(prefix, out _) ? prefix : null;
    }

    private static ArchiveHour HourOf(string prefix) => TryHour(prefix, out var hour) ? hour : throw new ArgumentException(prefix);

    private static bool TryHour(string prefix, out ArchiveHour hour)
    {
        hour = default;
        // segments/dt=YYYY-MM-DD/hour=HH/
        var parts = prefix.Split('/');
        if (parts.Length != 4 || parts[0] + "/" != ArchiveKeys.SegmentsPrefix || !parts[1].StartsWith("dt=", StringComparison.Ordinal)
            || !parts[2].StartsWith("hour=", StringComparison.Ordinal) || parts[3].Length != 0)
        {
            return false;
        }

        if (!DateOnly.TryParseExact(parts[1][3..], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            || parts[2].Length != 7 || !int.TryParse(parts[2][5..], NumberStyles.None, CultureInfo.InvariantCulture, out var h) || h > 23)
        {
            return false;
        }

        hour = new ArchiveHour(new DateTimeOffset(day.ToDateTime(new TimeOnly(h, 0)), TimeSpan.Zero));
        return ArchiveKeys.SegmentsHourPrefix(hour.Start) == prefix;
    }
}
