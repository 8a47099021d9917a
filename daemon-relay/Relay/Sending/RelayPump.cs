using Pipeline.Aws.Kinesis;
using Relay.Buffering;
using Relay.Logging;
using Relay.Spool;
using Relay.Telemetry;

namespace Relay.Sending;

/// <summary>
/// The send loop of a stream: buffer → batch → PutRecords, with up to <see cref="InFlightWindow.Limit"/>
/// calls in flight (--max-in-flight, lowered by throttling). While Kinesis is down, or while older
/// batches wait in the spool, new batches go to the spool tail; the spool head is replayed, one
/// call at a time and only once no live call is in flight, whenever Kinesis answers (probed every
/// <see cref="ProbeInterval"/> while it does not). Order: spool files replay in the order they
/// were written; live batches may complete out of order within the in-flight window (see the
/// relay's README, "Order").
/// </summary>
public sealed class RelayPump
{
    /// <summary>How often a down Kinesis is probed with the oldest spooled batch.</summary>
    public static readonly TimeSpan DefaultProbeInterval = TimeSpan.FromSeconds(5);

    /// <summary>Spooled batches replayed per live batch taken while the spool is not empty.</summary>
    public const int ReplayBatchesPerLiveBatch = 4;

    /// <summary>How often the shard map for aggregation is refreshed.</summary>
    public static readonly TimeSpan ShardMapRefresh = TimeSpan.FromMinutes(5);

    private readonly RecordBuffer _buffer;
    private readonly BatchCollector _collector;
    private readonly IBatchEncoder _encoder;
    private readonly KinesisSender _sender;
    private readonly SpoolDirectory? _spool;
    private readonly RelayMetrics _metrics;
    private readonly JsonLog _log;
    private readonly TimeProvider _time;
    private readonly SenderPolicy _policy;
    private readonly InFlightWindow _window;
    private readonly List<Task> _sends = [];
    private readonly Lock _stateLock = new();
    private volatile bool _healthy = true;
    private long _nextProbe;

    public RelayPump(RecordBuffer buffer, BatchCollector collector, IBatchEncoder encoder, KinesisSender sender, SpoolDirectory? spool, RelayMetrics metrics, JsonLog log, TimeProvider time, SenderPolicy policy, InFlightWindow? window = null)
    {
        _window = window ?? new InFlightWindow(1);
        _buffer = buffer;
        _collector = collector;
        _encoder = encoder;
        _sender = sender;
        _spool = spool;
        _metrics = metrics;
        _log = log;
        _time = time;
        _policy = policy;
    }

    public TimeSpan ProbeInterval { get; init; } = DefaultProbeInterval;

    /// <summary>False while Kinesis is considered down.</summary>
    public bool Healthy => _healthy;

    /// <summary>
    /// Runs until the buffer is completed and empty. Once <paramref name="drainDeadline"/> fires,
    /// nothing more is sent: what is left is spooled (or dropped with <see cref="DropReason.DrainTimeout"/>).
    /// </summary>
    public async Task RunAsync(CancellationToken drainDeadline)
    {
        while (true)
        {
            var draining = drainDeadline.IsCancellationRequested;
            if (!draining && _spool is { HasFiles: true } && (_healthy || _time.GetTimestamp() >= Volatile.Read(ref _nextProbe)))
            {
                // Live calls still in flight finish (or park at the spool tail) before the head is
                // replayed: the spool is only touched from here while nothing else sends.
                await WaitForSendsAsync().ConfigureAwait(false);
                // Several spooled batches for each live one parked behind them, so the spool
                // drains even while new segments keep arriving at full rate.
                for (var i = 0; i < ReplayBatchesPerLiveBatch && _spool.HasFiles && !drainDeadline.IsCancellationRequested; i++)
                {
                    await ReplayOldestAsync(_spool, drainDeadline).ConfigureAwait(false);
                    if (!_healthy)
                    {
                        break;
                    }
                }
            }

            var batch = await _collector.NextAsync(FirstRecordWait(draining), drainDeadline).ConfigureAwait(false);
            if (batch is null)
            {
                await WaitForSendsAsync().ConfigureAwait(false);
                return;
            }

            ReapSends();
            if (batch.Count == 0)
            {
                continue;
            }

            BatchLease lease;
            IReadOnlyList<IReadOnlyList<BatchEntry>> chunks;
            try
            {
                chunks = _encoder.Encode(batch);
                lease = new BatchLease(_buffer, batch, Math.Max(1, chunks.Count));
                if (chunks.Count == 0)
                {
                    lease.Done();
                }
            }
            catch
            {
                foreach (var record in batch)
                {
                    _buffer.Release(record);
                }

                throw;
            }

            foreach (var chunk in chunks)
            {
                await DispatchAsync(chunk, lease, drainDeadline).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Calls in flight now (for /metrics and tests).</summary>
    public InFlightWindow Window => _window;

    /// <summary>Parks the chunk, or starts its send once the window has a slot (the send gives the slot back).</summary>
    private async Task DispatchAsync(IReadOnlyList<BatchEntry> chunk, BatchLease lease, CancellationToken drainDeadline)
    {
        if (drainDeadline.IsCancellationRequested || !_healthy || _spool is { HasFiles: true })
        {
            if (_spool is not null || drainDeadline.IsCancellationRequested)
            {
                Park(chunk, drainDeadline.IsCancellationRequested);
                lease.Done();
                return;
            }
        }

        try
        {
            await _window.AcquireAsync(drainDeadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Park(chunk, draining: true);
            lease.Done();
            return;
        }

        _sends.Add(SendAsync(chunk, lease, drainDeadline));
    }

    private async Task SendAsync(IReadOnlyList<BatchEntry> chunk, BatchLease lease, CancellationToken drainDeadline)
    {
        try
        {
            // Off the send loop's stack: the loop goes back to the buffer while this call is out.
            await Task.Yield();
            var outcome = await _sender.SendAsync(chunk, _policy.CallAttempts, drainDeadline).ConfigureAwait(false);
            if (outcome.Status == SendStatus.Sent)
            {
                MarkHealthy();
                return;
            }

            if (outcome.Status == SendStatus.Unavailable)
            {
                MarkDown();
            }

            Park(outcome.Unsent, outcome.Status == SendStatus.Cancelled);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The sender turns every call failure into an outcome; anything else is a bug, and the
            // batch still must not vanish silently.
            _log.Error("send failed unexpectedly; parking the batch", ("error", e.GetType().Name), ("detail", e.Message));
            Park(chunk, drainDeadline.IsCancellationRequested);
        }
        finally
        {
            _window.Release();
            lease.Done();
        }
    }

    private void ReapSends() => _sends.RemoveAll(t => t.IsCompleted);

    private async Task WaitForSendsAsync()
    {
        if (_sends.Count > 0)
        {
            await Task.WhenAll(_sends).ConfigureAwait(false);
            _sends.Clear();
        }
    }

    private TimeSpan FirstRecordWait(bool draining)
    {
        if (draining)
        {
            return TimeSpan.Zero;
        }

        if (_spool is { HasFiles: true })
        {
            // Replaying: take only what is already buffered, then go back to the spool head.
            return _healthy ? TimeSpan.Zero : _time.GetElapsedTime(_time.GetTimestamp(), Volatile.Read(ref _nextProbe)) is var untilProbe && untilProbe > TimeSpan.Zero ? untilProbe : TimeSpan.Zero;
        }

        return TimeSpan.FromSeconds(1);
    }

    private async Task ReplayOldestAsync(SpoolDirectory spool, CancellationToken drainDeadline)
    {
        var batch = spool.PeekOldest();
        if (batch is null)
        {
            return;
        }

        if (batch.Corrupt)
        {
            _log.Error("spool file is corrupt; dropped", ("file", batch.Path), ("segments", batch.Segments));
            _metrics.OnDropped(DropReason.SpoolCorrupt, batch.Segments);
            spool.RemoveOldest();
            return;
        }

        var outcome = await _sender.SendAsync(batch.Entries, _healthy ? _policy.CallAttempts : 1, drainDeadline).ConfigureAwait(false);
        var unsentSegments = outcome.Unsent.Sum(e => e.Segments);
        _metrics.OnReplayed(batch.Segments - unsentSegments);
        if (outcome.Status == SendStatus.Sent)
        {
            spool.RemoveOldest();
            MarkHealthy();
            if (!spool.HasFiles)
            {
                _log.Info("spool replayed", ("dir", spool.DirectoryPath));
            }

            return;
        }

        spool.ReplaceOldest(outcome.Unsent);
        if (outcome.Status == SendStatus.Unavailable)
        {
            MarkDown();
        }
    }

    /// <summary>Spools entries that cannot be sent now, or drops them with a counted reason.</summary>
    private void Park(IReadOnlyList<BatchEntry> entries, bool draining)
    {
        var segments = entries.Sum(e => e.Segments);
        if (segments == 0)
        {
            return;
        }

        lock (_stateLock)
        {
            ParkLocked(entries, segments, draining);
        }
    }

    private void ParkLocked(IReadOnlyList<BatchEntry> entries, int segments, bool draining)
    {
        if (_spool is null)
        {
            _metrics.OnDropped(draining ? DropReason.DrainTimeout : DropReason.KinesisUnavailable, segments);
            return;
        }

        switch (_spool.TryWrite(entries))
        {
            case SpoolWrite.Written:
                _metrics.OnSpooled(segments);
                break;
            case SpoolWrite.Full:
                _metrics.OnDropped(DropReason.SpoolFull, segments);
                break;
            default:
                _metrics.OnDropped(DropReason.SpoolUnwritable, segments);
                break;
        }
    }

    private void MarkHealthy()
    {
        lock (_stateLock)
        {
            if (!_healthy)
            {
                _log.Info("kinesis reachable again");
            }

            _healthy = true;
        }
    }

    private void MarkDown()
    {
        lock (_stateLock)
        {
            if (_healthy)
            {
                _log.Warn("kinesis unavailable; spooling", ("spool", _spool?.DirectoryPath));
            }

            _healthy = false;
            Volatile.Write(ref _nextProbe, _time.GetTimestamp() + (long)(ProbeInterval.TotalSeconds * _time.TimestampFrequency));
        }
    }

    /// <summary>Gives a batch's records back to the buffer once every chunk of it is sent or parked.</summary>
    private sealed class BatchLease(RecordBuffer buffer, IReadOnlyList<SegmentRecord> records, int chunks)
    {
        private int _remaining = chunks;

        public void Done()
        {
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                foreach (var record in records)
                {
                    buffer.Release(record);
                }
            }
        }
    }

    /// <summary>Loads the shard map for aggregation; failures keep the previous one.</summary>
    public static async Task<ShardMap?> LoadShardMapAsync(IKinesisClient client, string stream, JsonLog log, CancellationToken cancellationToken)
    {
        try
        {
            var shards = await client.ListShardsAsync(stream, cancellationToken).ConfigureAwait(false);
            return ShardMap.FromShards(shards);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            log.Warn("ListShards failed; aggregating by trace id", ("stream", stream), ("error", e.Message));
            return null;
        }
    }
}
