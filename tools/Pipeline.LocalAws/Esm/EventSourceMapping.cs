using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Aws.Kinesis;
using Pipeline.Lambda;
using Pipeline.LocalAws.Moto;
using Pipeline.Runtime.Resilience;

namespace Pipeline.LocalAws.Esm;

/// <summary>Why records were delivered again or not at all. Each has a counter.</summary>
public enum DeliveryOutcome
{
    /// <summary>The function reported batchItemFailures: re-delivered from the first failed record.</summary>
    PartialFailure,
    /// <summary>The function threw: the batch (bisected) is delivered again.</summary>
    FunctionError,
    /// <summary>A batchItemFailures identifier that is no sequence number of the batch: the whole batch is retried (as Lambda does).</summary>
    BadItemIdentifier,
    /// <summary>Retries ran out: the records were skipped (Lambda would send them to the on-failure destination).</summary>
    Discarded,
    /// <summary>GetRecords or GetShardIterator failed; polled again.</summary>
    ReadError,
}

/// <summary>The mapping's counters, updated by every shard poller.</summary>
public sealed class DeliveryCounters
{
    private readonly long[] _outcomes = new long[Enum.GetValues<DeliveryOutcome>().Length];
    private long _invocations;
    private long _delivered;
    private long _acknowledged;
    private long _discardedRecords;

    public long Invocations => Interlocked.Read(ref _invocations);

    /// <summary>Records handed to the function (counted again when re-delivered).</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Records checkpointed: processed by a successful invocation.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long DiscardedRecords => Interlocked.Read(ref _discardedRecords);

    public long Count(DeliveryOutcome outcome) => Interlocked.Read(ref _outcomes[(int)outcome]);

    public void OnInvoked(int records)
    {
        Interlocked.Increment(ref _invocations);
        Interlocked.Add(ref _delivered, records);
    }

    public void OnAcknowledged(int records) => Interlocked.Add(ref _acknowledged, records);

    public void On(DeliveryOutcome outcome) => Interlocked.Increment(ref _outcomes[(int)outcome]);

    public void OnDiscarded(int records)
    {
        On(DeliveryOutcome.Discarded);
        Interlocked.Add(ref _discardedRecords, records);
    }
}

/// <summary>
/// The local stand-in for Lambda's Kinesis event-source mapping: one poller per shard reads with
/// GetRecords and invokes the function in-process with the real event JSON, one batch at a time
/// per shard (ParallelizationFactor 1), honouring ReportBatchItemFailures: it checkpoints only
/// the records before the first failed one and re-delivers from there; a function error retries
/// the batch bisected; after MaxRetryAttempts the records are discarded and counted. It polls as
/// Lambda does: each GetRecords takes a slot of the shard's read limit (<see cref="ShardReadLimiter"/>,
/// 5 per second per shard, shared with every other consumer given the same limiter), an idle shard
/// is polled about once a second, and every wait after a failure (a read error, a failed batch)
/// is the one <see cref="Backoff"/> policy's.
/// </summary>
public sealed class EventSourceMapping : IAsyncDisposable
{
    private readonly IKinesisClient _kinesis;
    private readonly string _stream;
    private readonly string _streamArn;
    private readonly string _region;
    private readonly Func<CancellationToken, ValueTask<ILambdaHandler>> _handlerFactory;
    private readonly EventSourceMappingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly Backoff _backoff;
    private readonly List<Task> _pollers = [];
    private readonly List<ShardPoller> _shardPollers = [];

    public EventSourceMapping(
        IKinesisClient kinesis, string stream, string streamArn, string region,
        Func<CancellationToken, ValueTask<ILambdaHandler>> handlerFactory,
        EventSourceMappingOptions options, TimeProvider time, ILogger logger)
    {
        _kinesis = kinesis;
        _stream = stream;
        _streamArn = streamArn;
        _region = region;
        _handlerFactory = handlerFactory;
        _options = options;
        _time = time;
        _logger = logger;
        _backoff = new Backoff(new BackoffOptions { BaseDelay = options.RetryDelay, MaxDelay = options.MaxRetryDelay, MaxAttempts = options.MaxRetryAttempts + 1 });
    }

    /// <summary>
    /// The read limit this mapping's GetRecords calls take their slots from. Give every consumer
    /// of one stream the same instance (they share the shards' 5 reads per second); default: one
    /// of its own, on the mapping's clock.
    /// </summary>
    public ShardReadLimiter? ReadLimiter { get; init; }

    private ShardReadLimiter Limiter { get; set; } = null!;

    public DeliveryCounters Counters { get; } = new();

    public string FunctionArn { get; init; } = $"arn:aws:lambda:us-east-1:{MotoServer.AccountId}:function:ingest";

    /// <summary>
    /// Lists the shards, builds one handler per shard (one sandbox each, as Lambda runs one per
    /// concurrent batch) and starts polling from TRIM_HORIZON. Returns once every shard has an iterator.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Limiter = ReadLimiter ?? new ShardReadLimiter(_time);
        var shards = await _kinesis.ListShardsAsync(_stream, cancellationToken).ConfigureAwait(false);
        foreach (var shard in shards)
        {
            var handler = await _handlerFactory(cancellationToken).ConfigureAwait(false);
            var iterator = await _kinesis.GetShardIteratorAsync(_stream, shard.ShardId, ShardIteratorType.TrimHorizon, null, cancellationToken).ConfigureAwait(false);
            var poller = new ShardPoller(this, shard.ShardId, handler, iterator);
            _shardPollers.Add(poller);
            _pollers.Add(Task.Run(poller.RunAsync, CancellationToken.None));
        }
    }

    /// <summary>
    /// Completes once every shard has been read to its end by a GetRecords call that started after
    /// this call, with nothing left to deliver (Lambda's IteratorAge at zero): whatever was in the
    /// stream when it was called has been delivered and acknowledged, or discarded and counted.
    /// </summary>
    public async Task WaitUntilCaughtUpAsync(CancellationToken cancellationToken)
    {
        var after = _shardPollers.Select(p => p.ReadsStarted).ToList();
        while (true)
        {
            var caughtUp = true;
            for (var i = 0; i < _shardPollers.Count; i++)
            {
                caughtUp &= _pollers[i].IsCompleted || _shardPollers[i].LastIdleRead > after[i];
            }

            if (caughtUp)
            {
                return;
            }

            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops polling once what is in the stream now has been delivered (bounded by DrainTimeout);
    /// an invocation in flight always finishes.
    /// </summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        var all = Task.WhenAll(_pollers);
        using var limit = new CancellationTokenSource();
        if (await Task.WhenAny(all, Task.Delay(_options.DrainTimeout + _options.InvocationTimeout, _time, limit.Token)).ConfigureAwait(false) != all)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
        }

        await limit.CancelAsync().ConfigureAwait(false);
        await all.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
        _abort.Dispose();
    }

    private sealed class ShardPoller(EventSourceMapping owner, string shardId, ILambdaHandler handler, string firstIterator)
    {
        private readonly List<KinesisRecord> _buffer = [];
        private string? _iterator = firstIterator;
        private string? _checkpoint;
        private DateTimeOffset _bufferSince;
        private int _limit = owner._options.BatchSize;
        private string? _failingFrom;
        private int _attempts;
        private long _readsStarted;
        private long _lastIdleRead;
        private int _readFailures;

        /// <summary>GetRecords calls started (numbered from 1).</summary>
        public long ReadsStarted => Interlocked.Read(ref _readsStarted);

        /// <summary>The number of the last GetRecords call that found the shard's end with nothing buffered or failing.</summary>
        public long LastIdleRead => Interlocked.Read(ref _lastIdleRead);

        private EventSourceMappingOptions Options => owner._options;

        private TimeProvider Time => owner._time;

        public async Task RunAsync()
        {
            DateTimeOffset? drainUntil = null;
            var abort = owner._abort.Token;
            while (!abort.IsCancellationRequested)
            {
                if (owner._stop.IsCancellationRequested && drainUntil is null)
                {
                    drainUntil = Time.GetUtcNow() + Options.DrainTimeout;
                }

                if (drainUntil is { } until && Time.GetUtcNow() > until)
                {
                    owner._logger.LogWarning("{Shard}: drain timeout with {Buffered} record(s) not delivered", shardId, _buffer.Count);
                    return;
                }

                GetRecordsResult? read;
                try
                {
                    read = await ReadAsync(abort).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    owner.Counters.On(DeliveryOutcome.ReadError);
                    _readFailures++;
                    owner._logger.LogWarning(e, "{Shard}: reading the shard failed ({Failures} in a row); polling again", shardId, _readFailures);
                    _iterator = null;
                    await PauseAsync(owner._backoff.DelayFor(Math.Min(_readFailures, 30)), drainUntil is null).ConfigureAwait(false);
                    continue;
                }

                _readFailures = 0;

                var draining = drainUntil is not null;
                if (_buffer.Count > 0 && (_buffer.Count >= _limit || draining || Time.GetUtcNow() - _bufferSince >= Options.BatchingWindow))
                {
                    await DeliverAsync().ConfigureAwait(false);
                    continue;
                }

                var idle = read is null || read.Records.Count == 0;
                if (draining && idle && _buffer.Count == 0)
                {
                    return;
                }

                if (read is { NextShardIterator: null } && _buffer.Count == 0)
                {
                    return; // A closed shard, fully read.
                }

                if (idle)
                {
                    // Lambda polls an idle shard about once a second; records already buffered
                    // wait only for the rest of their batching window.
                    var pause = Options.PollInterval;
                    if (_buffer.Count > 0 && Options.BatchingWindow - (Time.GetUtcNow() - _bufferSince) is var rest && rest < pause)
                    {
                        pause = rest > TimeSpan.Zero ? rest : TimeSpan.Zero;
                    }

                    await PauseAsync(pause, !draining).ConfigureAwait(false);
                }
            }
        }

        private async Task<GetRecordsResult?> ReadAsync(CancellationToken cancellationToken)
        {
            if (_buffer.Count >= _limit)
            {
                return null;
            }

            _iterator ??= _checkpoint is null
                ? await owner._kinesis.GetShardIteratorAsync(owner._stream, shardId, ShardIteratorType.TrimHorizon, null, cancellationToken).ConfigureAwait(false)
                : await owner._kinesis.GetShardIteratorAsync(owner._stream, shardId, ShardIteratorType.AfterSequenceNumber, _checkpoint, cancellationToken).ConfigureAwait(false);
            await owner.Limiter.AcquireAsync(shardId, cancellationToken).ConfigureAwait(false);
            var number = Interlocked.Increment(ref _readsStarted);
            var read = await owner._kinesis.GetRecordsAsync(_iterator, _limit - _buffer.Count, cancellationToken).ConfigureAwait(false);
            _iterator = read.NextShardIterator;
            if (read.Records.Count == 0 && _buffer.Count == 0 && _failingFrom is null)
            {
                Interlocked.Exchange(ref _lastIdleRead, number);
            }

            if (read.Records.Count > 0)
            {
                if (_buffer.Count == 0)
                {
                    _bufferSince = Time.GetUtcNow();
                }

                _buffer.AddRange(read.Records);
            }

            return read;
        }

        private async Task DeliverAsync()
        {
            var batch = TakeBatch();
            owner.Counters.OnInvoked(batch.Count);
            var payload = KinesisEventWriter.Write(owner._streamArn, shardId, owner._region, batch);
            var outcome = await InvokeAsync(payload).ConfigureAwait(false);
            int? retryFrom;
            switch (outcome)
            {
                case { Error: not null }:
                    owner.Counters.On(DeliveryOutcome.FunctionError);
                    owner._logger.LogWarning(outcome.Error, "{Shard}: the function failed on {Count} record(s) from {Sequence}; retrying", shardId, batch.Count, batch[0].SequenceNumber);
                    retryFrom = 0;
                    break;
                case { Failures.Count: 0 }:
                    retryFrom = null;
                    break;
                default:
                    retryFrom = FirstFailed(batch, outcome.Failures!);
                    owner.Counters.On(retryFrom is null ? DeliveryOutcome.BadItemIdentifier : DeliveryOutcome.PartialFailure);
                    retryFrom ??= 0;
                    break;
            }

            if (retryFrom is null)
            {
                Acknowledge(batch, batch.Count);
                _buffer.RemoveRange(0, batch.Count);
                _bufferSince = Time.GetUtcNow();
                _failingFrom = null;
                _attempts = 0;
                _limit = Options.BatchSize;
                return;
            }

            await RetryAsync(batch, retryFrom.Value, bisect: outcome.Error is not null).ConfigureAwait(false);
        }

        private List<KinesisRecord> TakeBatch()
        {
            var count = 0;
            long bytes = 1024;
            while (count < _buffer.Count && count < _limit)
            {
                bytes += KinesisEventWriter.EstimatedSize(_buffer[count]);
                if (count > 0 && bytes > EventSourceMappingOptions.MaxPayloadBytes)
                {
                    break;
                }

                count++;
            }

            return _buffer.GetRange(0, count);
        }

        private async Task<(IReadOnlyList<string?>? Failures, Exception? Error)> InvokeAsync(byte[] payload)
        {
            var now = Time.GetUtcNow();
            using var deadline = new CancellationTokenSource(Options.InvocationTimeout, Time);
            var requestId = Guid.NewGuid().ToString();
            var context = new InvocationContext(requestId, now + Options.InvocationTimeout, owner.FunctionArn, null, Time, owner._logger, deadline.Token);
            try
            {
                using var input = new MemoryStream(payload, writable: false);
                var output = await handler.HandleAsync(input, context).ConfigureAwait(false);
                await using (output.ConfigureAwait(false))
                {
                    return (await BatchResponse.ReadFailuresAsync(output, deadline.Token).ConfigureAwait(false), null);
                }
            }
            catch (Exception e)
            {
                return (null, e);
            }
        }

        /// <summary>Index of the lowest failed record, or null when an identifier names no record of the batch.</summary>
        private static int? FirstFailed(List<KinesisRecord> batch, IReadOnlyList<string?> failures)
        {
            var first = int.MaxValue;
            foreach (var failure in failures)
            {
                var index = string.IsNullOrEmpty(failure)
                    ? -1
                    : batch.FindIndex(r => string.Equals(r.SequenceNumber, failure, StringComparison.Ordinal));
                if (index < 0)
                {
                    return null;
                }

                first = Math.Min(first, index);
            }

            return first;
        }

        private async Task RetryAsync(List<KinesisRecord> batch, int failedIndex, bool bisect)
        {
            Acknowledge(batch, failedIndex);
            var from = batch[failedIndex].SequenceNumber;
            _attempts = string.Equals(from, _failingFrom, StringComparison.Ordinal) ? _attempts + 1 : 1;
            _failingFrom = from;
            if (_attempts > Options.MaxRetryAttempts)
            {
                var skipped = batch.Count - failedIndex;
                owner.Counters.OnDiscarded(skipped);
                owner._logger.LogError("{Shard}: discarding {Count} record(s) {First}..{Last} after {Attempts} retries", shardId, skipped, from, batch[^1].SequenceNumber, Options.MaxRetryAttempts);
                _checkpoint = batch[^1].SequenceNumber;
                _failingFrom = null;
                _attempts = 0;
                _limit = Options.BatchSize;
            }
            else if (bisect && Options.BisectOnFunctionError && batch.Count - failedIndex > 1)
            {
                _limit = (batch.Count - failedIndex + 1) / 2;
            }
            else if (bisect && Options.RetryBatchSize is { } retryLimit)
            {
                _limit = retryLimit;
            }

            // Re-read from the checkpoint: the retry starts at the failed record and may be longer.
            _buffer.Clear();
            _iterator = null;
            await PauseAsync(owner._backoff.DelayFor(Math.Clamp(_attempts, 1, 30)), interruptible: false).ConfigureAwait(false);
        }

        private void Acknowledge(List<KinesisRecord> batch, int count)
        {
            if (count > 0)
            {
                _checkpoint = batch[count - 1].SequenceNumber;
                owner.Counters.OnAcknowledged(count);
            }
        }

        private async Task PauseAsync(TimeSpan delay, bool interruptible)
        {
            var token = interruptible ? owner._stop.Token : owner._abort.Token;
            try
            {
                await Task.Delay(delay, Time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stop requested: go on draining (or abort) at once.
            }
        }
    }
}

/// <summary>
/// Reads the function's ReportBatchItemFailures answer as the Lambda service does, independently
/// of the functions' own response model (so local mode checks that model against the wire shape):
/// <c>{"batchItemFailures":[{"itemIdentifier":"&lt;seq&gt;"}]}</c>; null, <c>{}</c> or an empty list is success.
/// </summary>
internal static class BatchResponse
{
    public static async Task<IReadOnlyList<string?>> ReadFailuresAsync(Stream output, CancellationToken cancellationToken)
    {
        using var json = await JsonDocument.ParseAsync(output, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (json.RootElement.ValueKind != JsonValueKind.Object
            || !json.RootElement.TryGetProperty("batchItemFailures"u8, out var failures)
            || failures.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var identifiers = new List<string?>(failures.GetArrayLength());
        foreach (var failure in failures.EnumerateArray())
        {
            identifiers.Add(failure.ValueKind == JsonValueKind.Object && failure.TryGetProperty("itemIdentifier"u8, out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null);
        }

        return identifiers;
    }
}
