using System.Globalization;
using System.Text;
using System.Text.Json;
using Pipeline.Aws;
using Pipeline.Aws.Athena;
using Pipeline.Aws.CloudFormation;
using Pipeline.Aws.CloudWatch;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Kinesis;
using Pipeline.Aws.Lambda;
using Pipeline.Cli.Deployed;
using Pipeline.Cli.Query;
using Pipeline.Core.Archive;
using Pipeline.Functions.Events;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Cli.Verify;

/// <param name="Segments">Marked segments to send (1..<see cref="VerifyRun.MaxSegments"/>).</param>
/// <param name="ArchiveTimeout">How long to wait for them in the archive.</param>
/// <param name="SendReport">Let the cost report email its recipients (default: a dry run).</param>
internal sealed record VerifyOptions(string? Stack, string? EndpointUrl, string? Region, int Segments, TimeSpan ArchiveTimeout, bool SendReport);

/// <summary>
/// One <c>pipeline verify</c> run against a deployed stack, with the caller's credentials: find
/// the stack and its resources, check the event-source mapping and the alarms, put marked segments
/// on the stream, wait for them in the archive, find one through Athena in the stack's work group,
/// and invoke the service-graph and cost-report functions once. Every check becomes a row of the
/// <see cref="VerifyReport"/>; a check that needs a failed one is skipped, never passed.
/// </summary>
internal sealed class VerifyRun
{
    public const int MaxSegments = 100;

    /// <summary>template.yaml's logical ids of the functions verify invokes.</summary>
    public const string ServiceGraphFunctionId = "ServiceGraphFunction";
    public const string CostReportFunctionId = "CostReportFunction";

    public const string EventSourceMappingType = "AWS::Lambda::EventSourceMapping";
    public const string FunctionType = "AWS::Lambda::Function";
    public const string AlarmType = "AWS::CloudWatch::Alarm";

    /// <summary>The named query that finds the marked trace (athena/queries/trace-segments.sql).</summary>
    public const string TraceQuery = "trace-segments";

    /// <summary>Covers template.yaml's longest function timeout (900 s) with room for the cold start.</summary>
    public static readonly TimeSpan InvokeTimeout = TimeSpan.FromMinutes(16);

    /// <summary>At most this many archive objects are read while waiting (a busy hour has one per batch per shard).</summary>
    public const int MaxArchiveObjectsRead = 5_000;

    /// <summary>PutRecords rounds for records the stream refused (throttling), each after a Backoff wait.</summary>
    private const int MaxPutRounds = 4;

    /// <summary>A batch's first record (whose arrival hour names the archive partition) may precede ours by the batching window and retries.</summary>
    private static readonly TimeSpan ArrivalSlack = TimeSpan.FromMinutes(10);

    private readonly VerifyContext _context;
    private readonly VerifyOptions _options;
    private readonly TextWriter _progress;
    private readonly VerifyReport _report = new();

    public VerifyRun(VerifyContext context, VerifyOptions options, TextWriter progress)
    {
        _context = context;
        _options = options;
        _progress = progress;
    }

    public async Task<VerifyReport> RunAsync(CancellationToken cancellationToken)
    {
        var settings = _context.Settings(_options.EndpointUrl, _options.Region);
        var stack = await StackAsync(settings, cancellationToken).ConfigureAwait(false);
        if (stack is null)
        {
            Skip("resources", "event-source mapping", "alarms", "put segments", "archive", "athena query", "service-graph", "cost-report");
            return _report;
        }

        var resources = await ResourcesAsync(settings, stack.Name, cancellationToken).ConfigureAwait(false);
        var random = _context.Random();
        var started = _context.Time.GetUtcNow();
        var runId = VerifySegments.RunId(started, random);
        await _progress.WriteLineAsync($"pipeline verify: stack {stack.Name} in {settings.Region}, run {runId}").ConfigureAwait(false);

        using var invokeHttp = AwsHttp.CreateClient(maxConnectionsPerServer: 2, attemptTimeout: InvokeTimeout);
        var lambda = _context.LambdaFactory(settings, invokeHttp);
        await MappingAsync(lambda, resources, cancellationToken).ConfigureAwait(false);
        await AlarmsAsync(settings, resources, cancellationToken).ConfigureAwait(false);

        using var aws = _context.AwsFactory(settings);
        var segments = VerifySegments.Create(runId, _options.Segments, started, random);
        var put = await PutAsync(aws.Kinesis, stack, runId, segments, cancellationToken).ConfigureAwait(false);
        if (put is null)
        {
            Skip("archive");
        }
        else
        {
            await ArchiveAsync(aws, stack, segments, put, started, cancellationToken).ConfigureAwait(false);
        }

        await AthenaAsync(settings, stack, segments[0], put is not null, cancellationToken).ConfigureAwait(false);
        await ServiceGraphAsync(lambda, resources, started, cancellationToken).ConfigureAwait(false);
        await CostReportAsync(lambda, resources, cancellationToken).ConfigureAwait(false);
        return _report;
    }

    private async Task<DeployedStack?> StackAsync(AwsSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            var stack = await DeployedStack.FindAsync(_context.CloudFormationFactory(settings), _options.Stack, _context.WorkingDirectory, settings.Region, cancellationToken).ConfigureAwait(false);
            var missing = DeployedStack.OutputsRead.Where(o => !stack.Stack.Outputs.TryGetValue(o, out var v) || v.Length == 0).ToList();
            if (missing.Count > 0)
            {
                _report.Add(VerifyCheck.Failed("stack", $"{stack.Name} is {stack.Stack.StackStatus} but has no output {string.Join(", ", missing)}",
                    $"it was deployed from an older template.yaml: redeploy from this checkout (sam build && sam deploy --stack-name {stack.Name})"));
                return null;
            }

            _report.Add(VerifyCheck.Passed("stack", $"{stack.Name} {stack.Stack.StackStatus}, stream {stack.Output(DeployedStack.StreamName)}, archive s3://{stack.Output(DeployedStack.ArchiveBucketName)}"));
            return stack;
        }
        catch (DeployedStackException e)
        {
            _report.Add(VerifyCheck.Failed("stack", e.Message, "deploy the stack (sam build && sam deploy), or pass --stack NAME and --region"));
            return null;
        }
        catch (AwsServiceException e)
        {
            _report.Add(VerifyCheck.Failed("stack", $"CloudFormation DescribeStacks: {e.Message}", Permission(e, "cloudformation:DescribeStacks")));
            return null;
        }
    }

    private async Task<IReadOnlyList<StackResource>> ResourcesAsync(AwsSettings settings, string stackName, CancellationToken cancellationToken)
    {
        try
        {
            var resources = await _context.CloudFormationFactory(settings).ListStackResourcesAsync(stackName, cancellationToken).ConfigureAwait(false) ?? [];
            var failed = resources.Where(r => r.ResourceStatus.EndsWith("_FAILED", StringComparison.Ordinal)).Select(r => r.LogicalId).ToList();
            var placeholders = resources.Count(r => r.LogicalId.Length == 0);
            _report.Add(failed.Count == 0
                ? VerifyCheck.Passed("resources", placeholders == 0 ? $"{resources.Count} resources" : $"{resources.Count} resources, {placeholders} of them placeholders without an id")
                : VerifyCheck.Failed("resources", $"{failed.Count} resources failed: {string.Join(", ", failed)}", $"aws cloudformation describe-stack-events --stack-name {stackName}"));
            return resources;
        }
        catch (AwsServiceException e)
        {
            _report.Add(VerifyCheck.Failed("resources", $"CloudFormation ListStackResources: {e.Message}", Permission(e, "cloudformation:ListStackResources")));
            return [];
        }
    }

    private async Task MappingAsync(ILambdaClient lambda, IReadOnlyList<StackResource> resources, CancellationToken cancellationToken)
    {
        const string name = "event-source mapping";
        var mappings = resources.Where(r => r.ResourceType == EventSourceMappingType).ToList();
        if (mappings.Count == 0)
        {
            _report.Add(VerifyCheck.Failed(name, "the stack lists no AWS::Lambda::EventSourceMapping: nothing reads the stream", "redeploy from this checkout (sam build && sam deploy)"));
            return;
        }

        var problems = new List<string>();
        var fixes = new List<string>();
        var states = new List<string>();
        foreach (var mapping in mappings)
        {
            try
            {
                var found = await lambda.GetEventSourceMappingAsync(mapping.PhysicalId, cancellationToken).ConfigureAwait(false);
                if (found is null)
                {
                    problems.Add($"{mapping.LogicalId} ({mapping.PhysicalId}) does not exist");
                    fixes.Add("redeploy the stack (sam deploy)");
                }
                else if (!found.IsEnabled)
                {
                    problems.Add($"{mapping.LogicalId} is {found.State}{(found.StateTransitionReason is { } why ? $" ({why})" : "")}");
                    fixes.Add($"aws lambda update-event-source-mapping --uuid {found.Uuid} --enabled");
                }
                else if (found.LastProcessingResult is { } last && last.StartsWith("PROBLEM", StringComparison.Ordinal))
                {
                    problems.Add($"{mapping.LogicalId} is Enabled but its last processing result is '{last}'");
                    fixes.Add("the mapping's role or the function failed: see the ingest function's logs");
                }
                else
                {
                    states.Add($"{found.Uuid} {found.State}{(found.LastProcessingResult is { } result ? $", last result {result}" : "")}");
                }
            }
            catch (AwsServiceException e)
            {
                problems.Add($"Lambda GetEventSourceMapping {mapping.PhysicalId}: {e.Message}");
                fixes.Add(Permission(e, "lambda:GetEventSourceMapping"));
            }
        }

        _report.Add(problems.Count == 0
            ? VerifyCheck.Passed(name, string.Join("; ", states))
            : VerifyCheck.Failed(name, string.Join("; ", problems), string.Join("; ", fixes.Distinct(StringComparer.Ordinal))));
    }

    private async Task AlarmsAsync(AwsSettings settings, IReadOnlyList<StackResource> resources, CancellationToken cancellationToken)
    {
        const string name = "alarms";
        var alarms = resources.Where(r => r.ResourceType == AlarmType).ToList();
        var named = alarms.Where(a => a.PhysicalId.Length > 0).ToList();
        var placeholders = resources.Count(r => r.LogicalId.Length == 0);
        if (named.Count == 0 && (alarms.Count > 0 || placeholders > 0))
        {
            // moto reports the resources it skips (CloudWatch::Alarm among them) CREATE_COMPLETE,
            // as placeholders without a logical or physical id (../shared/MOTO.md): nothing to look up.
            _report.Add(new VerifyCheck(name, VerifyOutcome.NotVerifiable, alarms.Count > 0
                ? $"the stack lists {alarms.Count} alarms, none with a name: this endpoint's CloudFormation did not create them"
                : $"the stack lists no alarm but {placeholders} placeholder resources without an id: this endpoint's CloudFormation did not create them"));
            return;
        }

        if (alarms.Count == 0)
        {
            _report.Add(VerifyCheck.Failed(name, "the stack lists no AWS::CloudWatch::Alarm", "redeploy from this checkout (sam build && sam deploy)"));
            return;
        }

        try
        {
            var found = await _context.CloudWatchFactory(settings).DescribeAlarmsAsync([.. named.Select(a => a.PhysicalId)], cancellationToken).ConfigureAwait(false);
            var byName = found.ToDictionary(a => a.AlarmName, StringComparer.Ordinal);
            var missing = named.Where(a => !byName.ContainsKey(a.PhysicalId)).Select(a => a.PhysicalId).ToList();
            var disabled = found.Where(a => !a.ActionsEnabled).Select(a => a.AlarmName).ToList();
            var firing = found.Where(a => a.StateValue == "ALARM").Select(a => a.AlarmName).ToList();
            var unnamed = alarms.Count - named.Count;
            if (missing.Count > 0 || disabled.Count > 0 || unnamed > 0)
            {
                var problems = new List<string>();
                if (missing.Count > 0)
                {
                    problems.Add($"missing: {string.Join(", ", missing)}");
                }

                if (unnamed > 0)
                {
                    problems.Add($"{unnamed} without a name");
                }

                if (disabled.Count > 0)
                {
                    problems.Add($"actions disabled: {string.Join(", ", disabled)}");
                }

                _report.Add(VerifyCheck.Failed(name, string.Join("; ", problems),
                    disabled.Count > 0 && missing.Count == 0 && unnamed == 0
                        ? $"aws cloudwatch enable-alarm-actions --alarm-names {string.Join(' ', disabled)}"
                        : "redeploy the stack (sam deploy); alarms deleted by hand come back with it"));
                return;
            }

            var detail = $"{found.Count} alarms, actions enabled";
            _report.Add(VerifyCheck.Passed(name, firing.Count == 0 ? detail : $"{detail}; in ALARM now: {string.Join(", ", firing)}"));
        }
        catch (AwsServiceException e)
        {
            _report.Add(VerifyCheck.Failed(name, $"CloudWatch DescribeAlarms: {e.Message}", Permission(e, "cloudwatch:DescribeAlarms")));
        }
    }

    /// <summary>PutRecords of the marked segments (each under its trace id, as the relay does); the accepted ones' shard and sequence number, or null on failure.</summary>
    private async Task<IReadOnlyList<PutRecordsResultEntry>?> PutAsync(IKinesisClient kinesis, DeployedStack stack, string runId, IReadOnlyList<VerifySegment> segments, CancellationToken cancellationToken)
    {
        const string name = "put segments";
        var stream = stack.Output(DeployedStack.StreamName);
        var accepted = new PutRecordsResultEntry?[segments.Count];
        var pending = Enumerable.Range(0, segments.Count).ToList();
        var backoff = new Backoff(BackoffOptions.Default with { MaxAttempts = MaxPutRounds });
        var lastErrors = new List<string>();
        try
        {
            for (var round = 1; pending.Count > 0; round++)
            {
                var result = await kinesis.PutRecordsAsync(
                    stream, [.. pending.Select(i => new PutRecordsEntry(segments[i].Document, segments[i].TraceId))], cancellationToken).ConfigureAwait(false);
                var still = new List<int>();
                lastErrors.Clear();
                for (var j = 0; j < pending.Count; j++)
                {
                    var entry = result.Records[j];
                    if (entry.ErrorCode is null && entry.SequenceNumber is not null && entry.ShardId is not null)
                    {
                        accepted[pending[j]] = entry;
                    }
                    else
                    {
                        still.Add(pending[j]);
                        lastErrors.Add(entry.ErrorCode ?? "no sequence number");
                    }
                }

                pending = still;
                if (pending.Count > 0 && !await backoff.TryWaitAsync("kinesis.PutRecords", round, _context.Time, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (AwsServiceException e)
        {
            _report.Add(VerifyCheck.Failed(name, $"Kinesis PutRecords to {stream}: {e.Message}",
                Permission(e, "kinesis:PutRecords") + $" (the stack's RelayPolicyArn output grants it)"));
            return null;
        }

        if (pending.Count > 0)
        {
            _report.Add(VerifyCheck.Failed(name, $"{pending.Count} of {segments.Count} records refused after {MaxPutRounds} rounds: {string.Join(", ", lastErrors.Distinct(StringComparer.Ordinal))}",
                "the stream is throttling: raise its shard count (the ShardCount parameter) or retry when traffic is lower"));
            return null;
        }

        var shards = accepted.Select(a => a!.ShardId).Distinct(StringComparer.Ordinal).Count();
        _report.Add(VerifyCheck.Passed(name, $"{segments.Count} segments on {stream} ({shards} shard(s)), annotation {VerifySegments.Annotation}={runId}"));
        return [.. accepted.Select(a => a!)];
    }

    private async Task ArchiveAsync(
        AwsClients aws, DeployedStack stack, IReadOnlyList<VerifySegment> segments, IReadOnlyList<PutRecordsResultEntry> put, DateTimeOffset started, CancellationToken cancellationToken)
    {
        const string name = "archive";
        var bucket = stack.Output(DeployedStack.ArchiveBucketName);
        var wanted = segments.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var found = new HashSet<string>(StringComparer.Ordinal);
        var read = new Dictionary<string, (long Size, DateTimeOffset Modified)>(StringComparer.Ordinal);
        var shards = put.Select(p => p.ShardId!).Distinct(StringComparer.Ordinal).ToList();
        var deadline = started + _options.ArchiveTimeout;
        var notBefore = started - ArrivalSlack;
        try
        {
            while (true)
            {
                foreach (var prefix in Prefixes(notBefore, _context.Time.GetUtcNow(), shards))
                {
                    foreach (var item in await aws.ObjectStore.ListAsync(bucket, prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
                    {
                        if (item.LastModified < notBefore || (read.TryGetValue(item.Key, out var seen) && seen == (item.Size, item.LastModified)))
                        {
                            continue;
                        }

                        if (read.Count >= MaxArchiveObjectsRead)
                        {
                            _report.Add(VerifyCheck.Failed(name, $"read {MaxArchiveObjectsRead} archive objects and found {found.Count} of {segments.Count} segments",
                                "the hour is too busy to search object by object: look for the run's annotation with `pipeline query --target athena --named traces-by-annotation`"));
                            return;
                        }

                        read[item.Key] = (item.Size, item.LastModified);
                        if (await aws.ObjectStore.GetAsync(bucket, item.Key, cancellationToken).ConfigureAwait(false) is { } stored)
                        {
                            Match(stored, wanted, found);
                        }
                    }
                }

                var now = _context.Time.GetUtcNow();
                if (found.Count == segments.Count)
                {
                    _report.Add(VerifyCheck.Passed(name, $"{found.Count} of {segments.Count} segments in s3://{bucket}/{ArchiveKeys.SegmentsPrefix} after {Seconds(now - started)}"));
                    return;
                }

                if (now >= deadline)
                {
                    _report.Add(VerifyCheck.Failed(name, $"{found.Count} of {segments.Count} segments in s3://{bucket}/{ArchiveKeys.SegmentsPrefix} after {Seconds(now - started)} ({read.Count} objects read)",
                        "check the mapping above, the ingest function's errors (aws logs tail /aws/lambda/<IngestFunction> --since 15m), the quarantine/ prefix and the IngestFailureQueueUrl output's queue; or wait longer (--timeout)"));
                    return;
                }

                await _progress.WriteLineAsync($"pipeline verify: waiting for the archive: {found.Count} of {segments.Count} segments, {Seconds(now - started)} of {Seconds(_options.ArchiveTimeout)}").ConfigureAwait(false);
                var pause = deadline - now < _context.ArchivePollInterval ? deadline - now : _context.ArchivePollInterval;
                await Task.Delay(pause, _context.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (AwsServiceException e)
        {
            _report.Add(VerifyCheck.Failed(name, $"S3 on s3://{bucket}: {e.Message}", Permission(e, "s3:ListBucket and s3:GetObject on the archive bucket")));
        }
    }

    private async Task AthenaAsync(AwsSettings settings, DeployedStack stack, VerifySegment segment, bool segmentsSent, CancellationToken cancellationToken)
    {
        const string name = "athena query";
        if (!segmentsSent)
        {
            Skip(name);
            return;
        }

        AthenaTarget? target = null;
        try
        {
            target = await AthenaTarget.ResolveAsync(() => _context.CloudFormationFactory(settings), stack.Name, null, null, null, _context.WorkingDirectory, settings.Region, cancellationToken).ConfigureAwait(false);
            var files = AthenaSqlFiles.Locate(_context.WorkingDirectory);
            var today = DateOnly.FromDateTime(_context.Time.GetUtcNow().UtcDateTime);
            var sql = files.Query(TraceQuery).Bind(new Dictionary<string, string>(StringComparer.Ordinal) { ["trace_id"] = segment.TraceId }, today);
            var outcome = await new AthenaQueryRunner(_context.AthenaFactory(settings), _context.Time, _context.AthenaPollInterval)
                .RunAsync(new AthenaQueryRequest(sql, target.Database, target.WorkGroup, target.OutputLocation), maxRows: 100, cancellationToken).ConfigureAwait(false);
            var idColumn = outcome.Columns.ToList().IndexOf("id");
            var scanned = outcome.DataScannedInBytes is { } bytes ? string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes scanned") : "bytes scanned unknown";
            if (idColumn >= 0 && outcome.Rows.Any(r => idColumn < r.Count && r[idColumn] == segment.Id))
            {
                _report.Add(VerifyCheck.Passed(name, $"{TraceQuery} in work group {target.WorkGroup} found segment {segment.Id} ({outcome.QueryExecutionId}, {scanned})"));
            }
            else
            {
                _report.Add(VerifyCheck.Failed(name, $"{TraceQuery} in work group {target.WorkGroup} ran ({outcome.QueryExecutionId}) but returned {outcome.Rows.Count} rows without segment {segment.Id} of trace {segment.TraceId}",
                    $"if the archive check passed, the table does not see the archive: check database {target.Database}'s segments table location and partition projection (athena/template-athena.yaml)"));
            }
        }
        catch (AthenaQueryFailedException e)
        {
            _report.Add(VerifyCheck.Failed(name, $"Athena in work group {target?.WorkGroup}: {e.Message}", "see the query's error in the Athena console; the work group's result bucket must be writable by you"));
        }
        catch (Exception e) when (e is AwsServiceException or DeployedStackException or TimeoutException or InvalidOperationException or IOException)
        {
            _report.Add(VerifyCheck.Failed(name, e.Message, e is AwsServiceException service
                ? Permission(service, "athena:StartQueryExecution, GetQueryExecution, GetQueryResults on the work group, glue:GetTable, s3 on the archive and results buckets")
                : "run from the repository checkout (athena/queries/) and check the stack's Athena outputs"));
        }
    }

    private async Task ServiceGraphAsync(ILambdaClient lambda, IReadOnlyList<StackResource> resources, DateTimeOffset started, CancellationToken cancellationToken)
    {
        // The window ends after the marked segments, so the graph has their service in it.
        var end = _context.Time.GetUtcNow() + TimeSpan.FromMinutes(1);
        var detail = string.Create(CultureInfo.InvariantCulture, $$"""{"windowStart":"{{(started - TimeSpan.FromMinutes(5)).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}}","windowEnd":"{{end.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}}"}""");
        await InvokeAsync(lambda, resources, "service-graph", ServiceGraphFunctionId, detail, answer =>
        {
            var nodes = answer.TryGetProperty("nodes", out var n) && n.TryGetInt32(out var count) ? count : -1;
            var key = answer.TryGetProperty("json", out var j) ? j.GetString() : null;
            return nodes > 0
                ? (true, $"wrote {key} ({nodes} nodes)")
                : (false, $"ran but its graph {key} has no nodes");
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task CostReportAsync(ILambdaClient lambda, IReadOnlyList<StackResource> resources, CancellationToken cancellationToken)
    {
        var detail = _options.SendReport ? "{}" : """{"dryRun":true}""";
        await InvokeAsync(lambda, resources, "cost-report", CostReportFunctionId, detail, answer =>
        {
            var messageId = answer.TryGetProperty("messageId", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            var html = answer.TryGetProperty("htmlKey", out var h) ? h.GetString() : null;
            if (_options.SendReport)
            {
                return messageId is null ? (false, "ran but sent no email") : (true, $"wrote {html}, emailed as {messageId}");
            }

            return messageId is null
                ? (true, $"wrote {html}, not emailed (dry run; --send-report emails it)")
                : (false, $"asked for a dry run but the function emailed the report ({messageId}): the deployed cost-report does not know detail.dryRun");
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task InvokeAsync(
        ILambdaClient lambda, IReadOnlyList<StackResource> resources, string name, string logicalId, string detail,
        Func<JsonElement, (bool Ok, string Detail)> judge, CancellationToken cancellationToken)
    {
        var function = resources.FirstOrDefault(r => r.LogicalId == logicalId && r.ResourceType == FunctionType);
        if (function is null || function.PhysicalId.Length == 0)
        {
            _report.Add(VerifyCheck.Failed(name, $"the stack lists no function {logicalId}", "redeploy from this checkout (sam build && sam deploy)"));
            return;
        }

        try
        {
            var result = await lambda.InvokeAsync(function.PhysicalId, ScheduledEventPayload(detail), cancellationToken).ConfigureAwait(false);
            var text = Encoding.UTF8.GetString(result.Payload);
            if (result.FunctionError is { } error)
            {
                _report.Add(VerifyCheck.Failed(name, $"{function.PhysicalId} failed ({error}): {Excerpt(text)}", $"aws logs tail /aws/lambda/{function.PhysicalId} --since 15m"));
                return;
            }

            using var answer = JsonDocument.Parse(text);
            var (ok, said) = judge(answer.RootElement);
            _report.Add(ok
                ? VerifyCheck.Passed(name, $"{function.PhysicalId} {said}")
                : VerifyCheck.Failed(name, $"{function.PhysicalId} {said}", name == "cost-report"
                    ? "redeploy from this checkout (sam build && sam deploy); until then run verify with --send-report"
                    : "the archive window has no segments: see the archive check above"));
        }
        catch (JsonException e)
        {
            _report.Add(VerifyCheck.Failed(name, $"{function.PhysicalId} answered something that is not its JSON result: {e.Message}", "redeploy from this checkout (sam build && sam deploy)"));
        }
        catch (Exception e) when (e is AwsServiceException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _report.Add(VerifyCheck.Failed(name, $"Lambda Invoke {function.PhysicalId}: {e.Message}", e is AwsServiceException service
                ? Permission(service, "lambda:InvokeFunction on the function")
                : $"the call did not complete within {InvokeTimeout.TotalMinutes} minutes: aws logs tail /aws/lambda/{function.PhysicalId}"));
        }
    }

    private byte[] ScheduledEventPayload(string detail)
    {
        var now = _context.Time.GetUtcNow();
        var scheduled = new ScheduledEvent
        {
            Id = Guid.NewGuid().ToString(),
            DetailType = ScheduledEvent.ScheduledDetailType,
            Source = ScheduledEvent.EventsSource,
            Time = now,
            Version = "0",
            Account = string.Empty,
            Region = string.Empty,
            Resources = [],
            Detail = JsonDocument.Parse(detail).RootElement.Clone(),
        };
        return JsonSerializer.SerializeToUtf8Bytes(scheduled, EventsJsonContext.Default.ScheduledEvent);
    }

    /// <summary>The archive prefixes the marked segments can be under: each arrival hour from <paramref name="from"/> to <paramref name="to"/>, per shard.</summary>
    internal static IEnumerable<string> Prefixes(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string> shards)
    {
        var hour = new DateTimeOffset(from.UtcDateTime.Date.AddHours(from.UtcDateTime.Hour), TimeSpan.Zero);
        for (; hour <= to; hour = hour.AddHours(1))
        {
            foreach (var shard in shards)
            {
                yield return ArchiveKeys.SegmentsHourPrefix(hour) + shard + "-";
            }
        }
    }

    private static void Match(byte[] stored, Dictionary<string, VerifySegment> wanted, HashSet<string> found)
    {
        byte[] content;
        try
        {
            content = ArchiveObjects.Content(stored);
        }
        catch (InvalidDataException)
        {
            return;
        }

        foreach (var line in ArchiveObjects.Lines(content))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                    && wanted.TryGetValue(id.GetString()!, out var segment)
                    && document.RootElement.TryGetProperty("trace_id", out var trace) && trace.ValueEquals(segment.TraceId))
                {
                    found.Add(segment.Id);
                }
            }
            catch (JsonException)
            {
                // Another writer's line that is not JSON is not ours.
            }
        }
    }

    private void Skip(params string[] names)
    {
        foreach (var name in names)
        {
            _report.Add(new VerifyCheck(name, VerifyOutcome.Skipped, "not run: a check it needs failed"));
        }
    }

    private static string Permission(AwsServiceException e, string action) =>
        e.StatusCode is System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.Unauthorized || e.ErrorCode.Contains("AccessDenied", StringComparison.Ordinal)
            ? $"your credentials need {action}"
            : $"AWS answered {e.ErrorCode}: retry, or check the service's health in the region";

    private static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{Math.Round(span.TotalSeconds)} s");

    private static string Excerpt(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
