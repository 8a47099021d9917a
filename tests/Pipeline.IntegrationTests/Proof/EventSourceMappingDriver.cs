using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws.Kinesis;
using Pipeline.Functions.Events;
using Pipeline.Lambda;

namespace Pipeline.IntegrationTests.Proof;

/// <summary>
/// A test-side Kinesis event-source mapping (the local-mode emulator in tools/Pipeline.Cli was not
/// merged when this was written): per shard it reads from its checkpoint with GetRecords, builds
/// the event JSON as Lambda does, invokes the handler through <see cref="ILambdaHandler.HandleAsync"/>
/// and then, like Lambda with ReportBatchItemFailures: a success moves the checkpoint past the batch;
/// a reported failure moves it to just before the lowest failed sequence number; a function error
/// (exception, or a simulated kill) retries from the same checkpoint — the retry re-reads, so it may
/// be longer — or, with <see cref="BisectOnFunctionError"/>, with half the batch.
/// Retries are bounded: a batch that fails <see cref="MaxAttempts"/> times fails the test instead
/// of being discarded, because the property under test is that nothing is lost.
/// </summary>
internal sealed class EventSourceMappingDriver(IKinesisClient kinesis, string stream, ILambdaHandler handler)
{
    private readonly Dictionary<string, ShardState> _shards = new(StringComparer.Ordinal);
    private long _recordsDelivered;
    private readonly string _streamArn = $"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}";

    public int BatchSize { get; init; } = 100;

    public bool BisectOnFunctionError { get; init; }

    public int MaxAttempts { get; init; } = 20;

    /// <summary>Records a retry after a function error may read (more than <see cref="BatchSize"/>: the retry comes back longer).</summary>
    public int? RetryBatchSize { get; init; }

    /// <summary>Set by a fault that "kills the process" during an invocation: its answer is then never seen.</summary>
    public KillSwitch? Kill { get; init; }

    public int Invocations { get; private set; }

    public int FunctionErrors { get; private set; }

    public int ReportedFailures { get; private set; }

    /// <summary>Records the handler has acknowledged (the checkpoint moved past them).</summary>
    public long RecordsDelivered => Interlocked.Read(ref _recordsDelivered);

    /// <summary>Polls every shard until <paramref name="done"/> holds or the time runs out (then throws).</summary>
    public async Task RunUntilAsync(Func<Task<bool>> done, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var progressed = await PollOnceAsync(cancellationToken);
            if (!progressed && await done())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the mapping did not reach its goal in {timeout} ({Invocations} invocations, {FunctionErrors} function errors, {ReportedFailures} reported failures)");
            }

            if (!progressed)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>One GetRecords + invoke per shard. True when any shard had records.</summary>
    public async Task<bool> PollOnceAsync(CancellationToken cancellationToken)
    {
        if (_shards.Count == 0)
        {
            foreach (var shard in await kinesis.ListShardsAsync(stream, cancellationToken))
            {
                _shards[shard.ShardId] = new ShardState();
            }
        }

        var any = false;
        foreach (var (shardId, state) in _shards)
        {
            var iterator = state.Checkpoint is null
                ? await kinesis.GetShardIteratorAsync(stream, shardId, ShardIteratorType.TrimHorizon, cancellationToken: cancellationToken)
                : await kinesis.GetShardIteratorAsync(stream, shardId, ShardIteratorType.AfterSequenceNumber, state.Checkpoint, cancellationToken);
            var result = await kinesis.GetRecordsAsync(iterator, state.NextLimit ?? BatchSize, cancellationToken);
            if (result.Records.Count == 0)
            {
                continue;
            }

            any = true;
            await InvokeAsync(shardId, state, result.Records, cancellationToken);
        }

        return any;
    }

    private async Task InvokeAsync(string shardId, ShardState state, IReadOnlyList<KinesisRecord> records, CancellationToken cancellationToken)
    {
        Invocations++;
        var payload = BuildEvent(shardId, records);
        using var invocation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Kill?.Arm(invocation);
        var context = new InvocationContext(
            $"proof-{Invocations.ToString(CultureInfo.InvariantCulture)}",
            DateTimeOffset.UtcNow.AddMinutes(5),
            "arn:aws:lambda:us-east-1:123456789012:function:ingest",
            null,
            TimeProvider.System,
            NullLogger.Instance,
            invocation.Token);
        KinesisBatchResponse? response = null;
        var functionError = false;
        try
        {
            using var input = new MemoryStream(payload);
            await using var output = await handler.HandleAsync(input, context);
            response = await JsonSerializer.DeserializeAsync(output, EventsJsonContext.Default.KinesisBatchResponse, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            functionError = true;
        }

        if (Kill?.Disarm() == true)
        {
            // The process died mid-invocation: Lambda saw no answer, whatever the handler did after.
            functionError = true;
        }

        if (functionError || response is null)
        {
            FunctionErrors++;
            Fail(state, records);
            state.NextLimit = BisectOnFunctionError ? Math.Max(1, records.Count / 2) : RetryBatchSize;
            return;
        }

        if (response.BatchItemFailures.Count > 0)
        {
            ReportedFailures++;
            var lowest = response.BatchItemFailures.Select(f => f.ItemIdentifier).Min(Comparer<string>.Create(KinesisSequenceNumber.Compare))!;
            var index = records.ToList().FindIndex(r => r.SequenceNumber == lowest);
            if (index < 0)
            {
                throw new InvalidOperationException($"batchItemFailures names {lowest}, which is not in the batch");
            }

            if (index == 0)
            {
                Fail(state, records);
            }
            else
            {
                state.Checkpoint = records[index - 1].SequenceNumber;
                state.Attempts = 1;
                Interlocked.Add(ref _recordsDelivered, index);
            }

            state.NextLimit = null;
            return;
        }

        state.Checkpoint = records[^1].SequenceNumber;
        state.Attempts = 0;
        Interlocked.Add(ref _recordsDelivered, records.Count);
        state.NextLimit = null;
    }

    private void Fail(ShardState state, IReadOnlyList<KinesisRecord> records)
    {
        if (++state.Attempts >= MaxAttempts)
        {
            throw new InvalidOperationException($"batch from {records[0].SequenceNumber} failed {state.Attempts} times; a mapping would now discard it");
        }
    }

    /// <summary>The event JSON exactly as the mapping delivers it (AWS Lambda developer guide, Kinesis example event).</summary>
    private byte[] BuildEvent(string shardId, IReadOnlyList<KinesisRecord> records)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("Records");
            foreach (var record in records)
            {
                writer.WriteStartObject();
                writer.WriteStartObject("kinesis");
                writer.WriteString("kinesisSchemaVersion", "1.0");
                writer.WriteString("partitionKey", record.PartitionKey);
                writer.WriteString("sequenceNumber", record.SequenceNumber);
                writer.WriteBase64String("data", record.Data.Span);
                writer.WriteNumber("approximateArrivalTimestamp", record.ApproximateArrivalTimestamp.ToUnixTimeMilliseconds() / 1000.0);
                writer.WriteEndObject();
                writer.WriteString("eventSource", "aws:kinesis");
                writer.WriteString("eventVersion", "1.0");
                writer.WriteString("eventID", $"{shardId}:{record.SequenceNumber}");
                writer.WriteString("eventName", "aws:kinesis:record");
                writer.WriteString("invokeIdentityArn", "arn:aws:iam::123456789012:role/ingest");
                writer.WriteString("awsRegion", "us-east-1");
                writer.WriteString("eventSourceARN", _streamArn);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private sealed class ShardState
    {
        public string? Checkpoint { get; set; }

        public int Attempts { get; set; }

        public int? NextLimit { get; set; }
    }
}

/// <summary>
/// Simulates the Lambda sandbox being killed at a chosen point of an invocation: the fault
/// wrappers call <see cref="Trip"/>, which cancels the invocation; from then on every wrapped call
/// refuses to act (a dead process writes nothing more) and the driver treats the invocation as a
/// function error whatever the handler returns.
/// </summary>
internal sealed class KillSwitch
{
    private CancellationTokenSource? _invocation;
    private volatile bool _tripped;

    public int Kills { get; private set; }

    public bool IsDead => _tripped;

    public void Arm(CancellationTokenSource invocation)
    {
        _invocation = invocation;
        _tripped = false;
    }

    public void Trip()
    {
        if (!_tripped)
        {
            _tripped = true;
            Kills++;
            _invocation?.Cancel();
        }
    }

    /// <summary>True when this invocation was killed.</summary>
    public bool Disarm()
    {
        var tripped = _tripped;
        _tripped = false;
        _invocation = null;
        return tripped;
    }

    public void ThrowIfDead()
    {
        if (_tripped)
        {
            throw new OperationCanceledException("the process was killed");
        }
    }
}
