using System.Diagnostics;
using Pipeline.Aws.Http;
using Pipeline.Aws.Kinesis;
using Relay.Logging;
using Relay.Telemetry;

namespace Relay.Sending;

/// <summary>Retry and pacing knobs of the sender; the defaults are what the relay runs with.</summary>
public sealed record SenderPolicy
{
    /// <summary>Whole-call failures (network, 5xx) in a row before Kinesis counts as down.</summary>
    public int CallAttempts { get; init; } = 3;

    /// <summary>Rounds of retrying only the failed records of a partial failure.</summary>
    public int PartialRetries { get; init; } = 8;

    public TimeSpan CallBackoffBase { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan PartialBackoffBase { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan BackoffCap { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// One PutRecords call may take this long; a call that does not answer in time marks Kinesis
    /// down at once (a hang diverts to the spool as fast as an error does). 5 s is ten times a
    /// 5 MiB call's usual latency (--send-timeout).
    /// </summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Pause added before every call while Kinesis throttles; doubles on throttling, halves on a clean call.</summary>
    public TimeSpan ThrottlePaceStart { get; init; } = TimeSpan.FromMilliseconds(20);

    public TimeSpan ThrottlePaceCap { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>How a send ended.</summary>
public enum SendStatus
{
    Sent,
    /// <summary>Kinesis failed whole calls <see cref="SenderPolicy.CallAttempts"/> times, or kept refusing records.</summary>
    Unavailable,
    /// <summary>The drain deadline passed.</summary>
    Cancelled,
}

/// <summary>The outcome of a send: what is still unsent (empty when <see cref="SendStatus.Sent"/>).</summary>
public sealed record SendOutcome(SendStatus Status, IReadOnlyList<BatchEntry> Unsent);

/// <summary>
/// Puts a batch with PutRecords, retrying only the records that failed (jittered exponential
/// backoff), slowing down while Kinesis throttles, and giving the rest back to the caller (to
/// spool) when Kinesis is unavailable. Several sends may run at once (one per in-flight slot of
/// the caller's <see cref="InFlightWindow"/>): every throttled answer halves that window before a
/// batch is given up, a failed call drops it to one, clean calls widen it again; the pace added
/// before each call is shared by them all.
/// </summary>
public sealed class KinesisSender
{
    private const string ThrottledCode = "ProvisionedThroughputExceededException";

    private readonly IKinesisClient _client;
    private readonly string _stream;
    private readonly RelayMetrics _metrics;
    private readonly JsonLog _log;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly SenderPolicy _policy;
    private readonly InFlightWindow? _window;
    private readonly Lock _paceLock = new();
    private TimeSpan _pace;

    public KinesisSender(IKinesisClient client, string stream, RelayMetrics metrics, JsonLog log, TimeProvider time, Random random, SenderPolicy policy, InFlightWindow? window = null)
    {
        _window = window;
        _client = client;
        _stream = stream;
        _metrics = metrics;
        _log = log;
        _time = time;
        _random = random;
        _policy = policy;
    }

    /// <summary>The current throttle pace (zero when Kinesis is not throttling).</summary>
    public TimeSpan Pace
    {
        get
        {
            lock (_paceLock)
            {
                return _pace;
            }
        }
    }

    /// <param name="callAttempts">Whole-call failures tolerated before giving up (1 for a probe).</param>
    public async Task<SendOutcome> SendAsync(IReadOnlyList<BatchEntry> entries, int callAttempts, CancellationToken cancellationToken)
    {
        var pending = entries;
        var callFailures = 0;
        var partialRounds = 0;
        while (pending.Count > 0)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return new SendOutcome(SendStatus.Cancelled, pending);
            }

            PutRecordsResult result;
            var started = Stopwatch.GetTimestamp();
            try
            {
                var pace = Pace;
                if (pace > TimeSpan.Zero)
                {
                    await Task.Delay(pace, _time, cancellationToken).ConfigureAwait(false);
                }

                var request = new PutRecordsEntry[pending.Count];
                for (var i = 0; i < request.Length; i++)
                {
                    request[i] = pending[i].ToPutRecordsEntry();
                }

                using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                call.CancelAfter(_policy.CallTimeout);
                result = await _client.PutRecordsAsync(_stream, request, call.Token).ConfigureAwait(false);
                if (result.Records.Count != pending.Count)
                {
                    throw new InvalidDataException($"PutRecords answered {result.Records.Count} results for {pending.Count} records");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return new SendOutcome(SendStatus.Cancelled, pending);
            }
            catch (OperationCanceledException)
            {
                _metrics.OnPutFailure();
                _metrics.OnPutTimeout();
                _window?.OnFailed();
                _log.Warn("PutRecords timed out; Kinesis counts as down", ("stream", _stream), ("records", pending.Count), ("timeout_s", _policy.CallTimeout.TotalSeconds));
                return new SendOutcome(SendStatus.Unavailable, pending);
            }
            catch (AwsThrottlingException)
            {
                // The whole call was throttled: slow down and retry it like a partial failure of every record.
                _metrics.OnThrottled(pending.Count);
                _window?.OnThrottled();
                AdjustPace(throttled: true);
                partialRounds++;
                if (partialRounds > _policy.PartialRetries)
                {
                    return new SendOutcome(SendStatus.Unavailable, pending);
                }

                _metrics.OnRetried(pending.Count);
                if (!await BackoffAsync(_policy.PartialBackoffBase, partialRounds, cancellationToken).ConfigureAwait(false))
                {
                    return new SendOutcome(SendStatus.Cancelled, pending);
                }

                continue;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _metrics.OnPutFailure();
                _window?.OnFailed();
                callFailures++;
                _log.Warn("PutRecords failed", ("stream", _stream), ("attempt", callFailures), ("records", pending.Count), ("error", e.GetType().Name), ("detail", e.Message));
                if (callFailures >= callAttempts)
                {
                    return new SendOutcome(SendStatus.Unavailable, pending);
                }

                if (!await BackoffAsync(_policy.CallBackoffBase, callFailures, cancellationToken).ConfigureAwait(false))
                {
                    return new SendOutcome(SendStatus.Cancelled, pending);
                }

                continue;
            }

            _metrics.OnBatch(pending.Count, Stopwatch.GetElapsedTime(started));
            callFailures = 0;
            var failed = new List<BatchEntry>();
            long sentSegments = 0;
            long throttled = 0;
            for (var i = 0; i < pending.Count; i++)
            {
                var entry = result.Records[i];
                if (entry.Succeeded)
                {
                    sentSegments += pending[i].Segments;
                    continue;
                }

                failed.Add(pending[i]);
                if (entry.ErrorCode == ThrottledCode)
                {
                    throttled++;
                }
            }

            _metrics.OnForwarded(sentSegments, pending.Count - failed.Count);
            if (throttled > 0)
            {
                _window?.OnThrottled();
            }
            else
            {
                _window?.OnClean();
            }

            AdjustPace(throttled > 0);
            if (failed.Count == 0)
            {
                return new SendOutcome(SendStatus.Sent, []);
            }

            _metrics.OnThrottled(throttled);
            partialRounds++;
            if (partialRounds > _policy.PartialRetries)
            {
                _log.Warn("records still failing after retries", ("stream", _stream), ("records", failed.Count));
                return new SendOutcome(SendStatus.Unavailable, failed);
            }

            _metrics.OnRetried(failed.Count);
            _log.Debug("retrying failed records", ("records", failed.Count), ("throttled", throttled), ("round", partialRounds));
            if (!await BackoffAsync(_policy.PartialBackoffBase, partialRounds, cancellationToken).ConfigureAwait(false))
            {
                return new SendOutcome(SendStatus.Cancelled, failed);
            }

            pending = failed;
        }

        return new SendOutcome(SendStatus.Sent, []);
    }

    private void AdjustPace(bool throttled)
    {
        lock (_paceLock)
        {
            AdjustPaceLocked(throttled);
        }
    }

    private void AdjustPaceLocked(bool throttled)
    {
        if (throttled)
        {
            var doubled = _pace == TimeSpan.Zero ? _policy.ThrottlePaceStart : _pace * 2;
            _pace = doubled > _policy.ThrottlePaceCap ? _policy.ThrottlePaceCap : doubled;
        }
        else if (_pace > TimeSpan.Zero)
        {
            var halved = _pace / 2;
            _pace = halved < _policy.ThrottlePaceStart ? TimeSpan.Zero : halved;
        }
    }

    /// <summary>Full jitter: a uniform delay up to base·2^(attempt-1), capped. False when cancelled.</summary>
    private async Task<bool> BackoffAsync(TimeSpan baseDelay, int attempt, CancellationToken cancellationToken)
    {
        var ceiling = baseDelay * Math.Pow(2, Math.Min(attempt - 1, 16));
        if (ceiling > _policy.BackoffCap)
        {
            ceiling = _policy.BackoffCap;
        }

        double jitter;
        lock (_paceLock)
        {
            // The caller's Random need not be thread-safe; concurrent sends share it.
            jitter = _random.NextDouble();
        }

        var delay = ceiling * jitter;
        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
