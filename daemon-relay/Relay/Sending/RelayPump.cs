using Pipeline.Aws.Kinesis;
using Relay.Buffering;
using Relay.Logging;
using Relay.Spool;
using Relay.Telemetry;

namespace Relay.Sending;

/// <summary>
/// The single send loop of a stream: buffer → batch → PutRecords, one call in flight. While
/// Kinesis is down, or while older batches wait in the spool, new batches go to the spool tail
/// so that everything reaches Kinesis in the order it was accepted; the spool head is replayed
/// whenever Kinesis answers (probed every <see cref="ProbeInterval"/> while it does not).
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
    private bool _healthy = true;
    private long _nextProbe;

    public RelayPump(RecordBuffer buffer, BatchCollector collector, IBatchEncoder encoder, KinesisSender sender, SpoolDirectory? spool, RelayMetrics metrics, JsonLog log, TimeProvider time, SenderPolicy policy)
    {
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
            if (!draining && _spool is { HasFiles: true } && (_healthy || _time.GetTimestamp() >= _nextProbe))
            {
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
                return;
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                foreach (var chunk in _encoder.Encode(batch))
                {
                    await SendOrSpoolAsync(chunk, drainDeadline).ConfigureAwait(false);
                }
            }
            finally
            {
                foreach (var record in batch)
                {
                    _buffer.Release(record);
                }
            }
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
            return _healthy ? TimeSpan.Zero : _time.GetElapsedTime(_time.GetTimestamp(), _nextProbe) is var untilProbe && untilProbe > TimeSpan.Zero ? untilProbe : TimeSpan.Zero;
        }

        return TimeSpan.FromSeconds(1);
    }

    private async Task SendOrSpoolAsync(IReadOnlyList<BatchEntry> chunk, CancellationToken drainDeadline)
    {
        if (drainDeadline.IsCancellationRequested || !_healthy || _spool is { HasFiles: true })
        {
            if (_spool is not null || drainDeadline.IsCancellationRequested)
            {
                Park(chunk, drainDeadline.IsCancellationRequested);
                return;
            }
        }

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
        if (!_healthy)
        {
            _log.Info("kinesis reachable again");
        }

        _healthy = true;
    }

    private void MarkDown()
    {
        if (_healthy)
        {
            _log.Warn("kinesis unavailable; spooling", ("spool", _spool?.DirectoryPath));
        }

        _healthy = false;
        _nextProbe = _time.GetTimestamp() + (long)(ProbeInterval.TotalSeconds * _time.TimestampFrequency);
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
