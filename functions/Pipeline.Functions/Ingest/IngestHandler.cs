using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.DynamoDb;
using Pipeline.Aws.Storage;
using Pipeline.Aws.XRay;
using Pipeline.Core.Archive;
using Pipeline.Core.Kpl;
using Pipeline.Core.Redaction;
using Pipeline.Core.Sampling;
using Pipeline.Core.Segments;
using Pipeline.Core.Usage;
using Pipeline.Core.Wire;
using Pipeline.Functions.Configuration;
using Pipeline.Functions.Events;
using Pipeline.Functions.Hosting;
using Pipeline.Lambda;

namespace Pipeline.Functions.Ingest;

/// <summary>
/// The <c>ingest</c> function: Kinesis batch → de-aggregate → parse + validate → redact → sample →
/// archive every valid segment (and quarantine every invalid one) → forward kept segments to X-Ray
/// (parking what X-Ray refuses in xray-retry/) → usage record + one EMF line.
/// <para><b>Archive: every valid segment exactly once, whatever Lambda retries.</b> Scheme: one
/// object per invocation, keyed by shard + the batch's first sequence number
/// (<see cref="ArchiveKeys.Segments"/>), written in full (even when it holds no segment) before
/// anything is acknowledged; it is the only write that can fail the batch, and then the batch's
/// first record is reported (nothing of it is acknowledged, so nothing of it may be assumed archived).
/// Why that is exactly once: Lambda retries a failed batch from the record we report (always the
/// first) or, on a function error, the whole batch again — possibly longer — or its bisected halves,
/// the first of which starts at the same record. So every failed attempt's key is the key of a later
/// attempt, and by induction of the attempt that finally succeeds, which overwrites it with exactly
/// its own records; successful batches of a shard are disjoint (the checkpoint moves past each), and
/// no later attempt starts inside one. Hence the final objects partition the shard's records.</para>
/// <para>Precisely: exactly once per shard provided every record is eventually processed by a
/// successful invocation and the mapping's ParallelizationFactor is 1 (template.yaml). If Lambda
/// discards a range after MaximumRetryAttempts (it goes to the on-failure queue) after an attempt
/// that had already written its object, that stale object stays and can overlap the next batches:
/// at least once, never lost; the usage records then overlap too, which UsageAggregator reports as
/// PartialOverlap.</para>
/// </summary>
public sealed class IngestHandler : ILambdaHandler
{
    private readonly IngestOptions _options;
    private readonly IObjectStore _store;
    private readonly ITraceDecisionStore _decisions;
    private readonly TimeProvider _timeProvider;
    private readonly IMetricsSink _metrics;
    private readonly Redactor _redactor;
    private readonly TraceSampler _sampler;
    private readonly XRayForwarder _forwarder;

    /// <summary>The test (and local-mode) constructor: every dependency behind the project's interfaces.</summary>
    public IngestHandler(
        IngestOptions options,
        IObjectStore store,
        IXRayClient xray,
        ITraceDecisionStore decisions,
        TimeProvider timeProvider,
        IMetricsSink metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(xray);
        ArgumentNullException.ThrowIfNull(decisions);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(metrics);
        _options = options;
        _store = store;
        _decisions = decisions;
        _timeProvider = timeProvider;
        _metrics = metrics;
        _redactor = new Redactor(options.Redaction);
        _sampler = new TraceSampler(options.Sampling);
        _forwarder = new XRayForwarder(xray, timeProvider, options.XRayRetryRounds, options.XRayRetryDelay);
    }

    /// <summary>The production factory: options and AWS clients from the environment; a bad value fails init.</summary>
    public static ILambdaHandler Create(HandlerInitContext init)
    {
        ArgumentNullException.ThrowIfNull(init);
        var options = IngestOptions.FromEnvironment(init.Environment);
        var clients = init.CreateAwsClients();
        var decisions = new DynamoDbTraceDecisionStore(new DynamoDbDecisionTable(clients.DynamoDb, options.DecisionTable!, init.TimeProvider), init.TimeProvider);
        return new IngestHandler(options, clients.ObjectStore, clients.XRay, decisions, init.TimeProvider, new StreamMetricsSink(Console.OpenStandardOutput()));
    }

    public async Task<Stream> HandleAsync(Stream input, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        var kinesisEvent = await JsonSerializer.DeserializeAsync(input, EventsJsonContext.Default.KinesisEvent, context.CancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException("The event is not a Kinesis event (null).");
        var response = await ProcessAsync(kinesisEvent, context).ConfigureAwait(false);
        var output = new MemoryStream();
        await JsonSerializer.SerializeAsync(output, response, EventsJsonContext.Default.KinesisBatchResponse, context.CancellationToken).ConfigureAwait(false);
        output.Position = 0;
        return output;
    }

    /// <summary>
    /// Processes an event. An event-source mapping batch comes from one shard; records of several
    /// shards (local mode) are processed per shard, each under its own key.
    /// </summary>
    public async Task<KinesisBatchResponse> ProcessAsync(KinesisEvent kinesisEvent, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(kinesisEvent);
        ArgumentNullException.ThrowIfNull(context);
        var failures = new List<BatchItemFailure>();
        foreach (var shard in kinesisEvent.Records.GroupBy(r => r.ShardId, StringComparer.Ordinal))
        {
            var metrics = await ProcessShardBatchAsync([.. shard], context).ConfigureAwait(false);
            if (metrics.RetryFrom is { } sequence)
            {
                failures.Add(new BatchItemFailure(sequence));
            }
        }

        return failures.Count == 0 ? KinesisBatchResponse.Success : new KinesisBatchResponse { BatchItemFailures = failures };
    }

    /// <summary>One shard's records, in order. Returns the invocation's counters (also written as EMF and usage).</summary>
    internal async Task<IngestMetrics> ProcessShardBatchAsync(IReadOnlyList<KinesisEventRecord> records, InvocationContext context)
    {
        var started = _timeProvider.GetTimestamp();
        var now = _timeProvider.GetUtcNow();
        var cancellationToken = context.CancellationToken;
        var first = records[0].Kinesis;
        var shard = records[0].ShardId;
        var metrics = new IngestMetrics { Shard = shard, FirstSequence = first.SequenceNumber, KinesisRecords = records.Count };
        var usage = new UsageRecorder();

        // 1. Decode, validate, redact. Nothing here may throw out: a poison record is quarantined.
        var valid = new List<ValidSegment>(records.Count);
        var quarantine = new ArrayBufferWriter<byte>();
        var quarantined = 0;
        var single = new ReadOnlyMemory<byte>[1];
        foreach (var record in records)
        {
            var data = record.Kinesis.Data;
            usage.AddKinesisRecord(data.Length);
            // Plain records (the relay's default) skip the de-aggregator's per-record allocations.
            IReadOnlyList<ReadOnlyMemory<byte>> userRecords;
            if (KplDeaggregator.IsAggregated(data.Span))
            {
                var deaggregated = KplDeaggregator.Deaggregate(data, record.Kinesis.PartitionKey);
                if (deaggregated.IsCorrupt)
                {
                    var reason = deaggregated.Status == KplStatus.BadChecksum ? IngestRejectReason.KplBadChecksum : IngestRejectReason.KplMalformed;
                    Quarantine(new QuarantineEntry(reason.ToCode(), (int)reason, "$", record.Kinesis.SequenceNumber, record.Kinesis.ApproximateArrivalTimestamp, data));
                    continue;
                }

                userRecords = [.. deaggregated.Records.Select(r => r.Data)];
            }
            else
            {
                single[0] = data;
                userRecords = single;
            }

            foreach (var userData in userRecords)
            {
                try
                {
                    var body = userData;
                    // The relay puts the bare document; a record that still carries the daemon header is accepted too.
                    if (Datagram.TrySplit(body.Span, out var range) == DatagramReject.None)
                    {
                        body = body[range];
                    }

                    var parsed = SegmentValidator.ParseAndValidate(body, now);
                    if (!parsed.IsOk)
                    {
                        Quarantine(QuarantineEntry.FromRejection(parsed.Rejection, record.Kinesis.SequenceNumber, record.Kinesis.ApproximateArrivalTimestamp, userData));
                        continue;
                    }

                    var redacted = _redactor.Redact(parsed.Segment);
                    if (redacted.Rewritten)
                    {
                        metrics.SegmentsRedacted++;
                    }

                    valid.Add(new ValidSegment(parsed.Segment, redacted.Document, parsed.Segment.TraceIdKey()));
                }
#pragma warning disable CA1031 // A poison record must never block the shard: it is quarantined with its bytes.
                catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
                {
                    context.Logger.LogError(ex, "Quarantined record {Sequence} of {Shard}: processing threw", record.Kinesis.SequenceNumber, shard);
                    var reason = IngestRejectReason.InternalError;
                    Quarantine(new QuarantineEntry(reason.ToCode(), (int)reason, "$", record.Kinesis.SequenceNumber, record.Kinesis.ApproximateArrivalTimestamp, userData));
                }
            }
        }

        metrics.SegmentsValid = valid.Count;
        metrics.SegmentsInvalid = quarantined;
        metrics.SegmentsIn = valid.Count + quarantined;

        // 2. Archive, the source of truth and the only step whose failure fails the batch. Its
        // content does not depend on sampling, so the writes run while the decisions are looked up.
        using var ndjson = new PooledBufferWriter(valid.Sum(v => v.Document.Length + 1));
        foreach (var segment in valid)
        {
            ArchiveLines.WriteSegment(ndjson, segment.Document.Span);
        }

        using var archiveBuffer = ArchiveObjects.Gzip(ndjson.WrittenSpan);
        using var quarantineBuffer = quarantined > 0 ? ArchiveObjects.Gzip(quarantine.WrittenSpan) : null;
        var archive = archiveBuffer.WrittenMemory;
        var quarantineObject = quarantineBuffer?.WrittenMemory ?? ReadOnlyMemory<byte>.Empty;
        var archiveWrite = WriteArchiveAsync(
            ArchiveKeys.Segments(shard, first.SequenceNumber, first.ApproximateArrivalTimestamp),
            archive,
            quarantineBuffer is null ? null : ArchiveKeys.Quarantine(shard, first.SequenceNumber, first.ApproximateArrivalTimestamp),
            quarantineObject,
            cancellationToken);

        // 3. Sample (trace-consistent head decision, tail policies, remembered decisions). Neither
        // step throws, so the archive write is always awaited before the buffers are returned.
        var segments = valid.Select(v => v.Segment).ToList();
        var remembered = await LookUpDecisionsAsync(valid, metrics, context).ConfigureAwait(false);
        var decisions = _sampler.DecideBatch(segments, remembered, now, out var toRemember);

        if (await archiveWrite.ConfigureAwait(false) is { } archiveError)
        {
            context.Logger.LogError(archiveError, "The archive did not take batch {Shard}/{Sequence} ({Records} records); reporting it for retry", shard, first.SequenceNumber, records.Count);
            metrics.ArchiveFailures = 1;
            metrics.RetryFrom = first.SequenceNumber;
            _metrics.WriteLine(metrics.ToEmf(FunctionContract.IngestHandler, _timeProvider.GetUtcNow()));
            return metrics;
        }

        usage.AddS3Put();
        usage.AddArchivedBytes(archive.Length);
        if (quarantined > 0)
        {
            usage.AddS3Put();
            usage.AddArchivedBytes(quarantineObject.Length);
        }

        metrics.BytesArchived = archive.Length + quarantineObject.Length;

        // 4. Remember the decisions later segments cannot recompute (tail, reservoir), while forwarding.
        var rememberWrite = RememberAsync(toRemember, metrics, context);

        // 5. Forward kept segments to X-Ray; park what it does not take.
        var forward = _options.ForwardToXRay;
        var kept = new List<ForwardDocument>();
        for (var i = 0; i < valid.Count; i++)
        {
            if (forward && decisions[i].Keep)
            {
                kept.Add(new ForwardDocument(valid[i].Segment.GetString(valid[i].Segment.Root.Id) ?? string.Empty, System.Text.Encoding.UTF8.GetString(valid[i].Document.Span)));
            }
        }

        var forwarding = kept.Count > 0
            ? _forwarder.SendAsync(kept, () => context.RemainingTime > _options.XRayDeadlineReserve, cancellationToken)
            : null;
        await rememberWrite.ConfigureAwait(false);
        if (forwarding is not null)
        {
            var result = await forwarding.ConfigureAwait(false);
            foreach (var size in result.CallSizes)
            {
                usage.AddXRayPut(size);
            }

            metrics.XRayCalls = result.Calls;
            if (result.Refused.Count > 0)
            {
                if (!await ParkAsync(result, shard, first, metrics, context).ConfigureAwait(false))
                {
                    // Archive writes are idempotent and X-Ray keys segments by id, so a full retry is safe.
                    metrics.RetryFrom = first.SequenceNumber;
                    _metrics.WriteLine(metrics.ToEmf(FunctionContract.IngestHandler, _timeProvider.GetUtcNow()));
                    return metrics;
                }

                usage.AddS3Put();
            }
        }

        // 6. Usage counters (S3 puts include the usage file itself) and the EMF line.
        CountUsage(valid, decisions, remembered, usage, metrics);
        usage.AddS3Put();
        var usageRecord = usage.ToRecord(
            shard,
            first.SequenceNumber,
            records[^1].Kinesis.SequenceNumber,
            first.ApproximateArrivalTimestamp,
            (long)Math.Ceiling(_timeProvider.GetElapsedTime(started).TotalMilliseconds),
            _options.FunctionMemoryMb);
        try
        {
            await _store.PutAsync(_options.ArchiveBucket, UsageKeys.For(usageRecord), UsageJson.Serialize(usageRecord), ArchiveObjects.JsonContentType, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The cost report undercounts one batch; the shard is not stalled for it.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            metrics.UsageWriteErrors++;
            context.Logger.LogWarning(ex, "Could not write the usage record of {Shard}/{Sequence}", shard, first.SequenceNumber);
        }

        _metrics.WriteLine(metrics.ToEmf(FunctionContract.IngestHandler, _timeProvider.GetUtcNow()));
        return metrics;

        void Quarantine(in QuarantineEntry entry)
        {
            ArchiveLines.WriteQuarantine(quarantine, entry);
            quarantined++;
            usage.AddInvalidSegment();
            metrics.Reject(entry.Reason);
        }
    }

    /// <summary>Writes the segments object (always, even empty) and the quarantine object (when any); the failure, or null.</summary>
    private async Task<Exception?> WriteArchiveAsync(string segmentsKey, ReadOnlyMemory<byte> segments, string? quarantineKey, ReadOnlyMemory<byte> quarantine, CancellationToken cancellationToken)
    {
        try
        {
            var writes = new List<Task>(2) { _store.PutAsync(_options.ArchiveBucket, segmentsKey, segments, ArchiveObjects.GzipNdjsonContentType, cancellationToken) };
            if (quarantineKey is not null)
            {
                writes.Add(_store.PutAsync(_options.ArchiveBucket, quarantineKey, quarantine, ArchiveObjects.GzipNdjsonContentType, cancellationToken));
            }

            await Task.WhenAll(writes).ConfigureAwait(false);
            return null;
        }
#pragma warning disable CA1031 // Whatever the store threw, the answer is the same: nothing of this batch is acknowledged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }
    }

    /// <summary>Stores new keep decisions; a failure is counted (late segments may then miss X-Ray), never thrown.</summary>
    private async Task RememberAsync(IReadOnlyDictionary<string, TraceDecision> toRemember, IngestMetrics metrics, InvocationContext context)
    {
        if (toRemember.Count == 0)
        {
            return;
        }

        try
        {
            await _decisions.PutManyAsync([.. toRemember], _sampler.Policy.DecisionTimeToLive, context.CancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A lost decision costs late segments their keep, not the batch.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            metrics.DecisionStoreErrors++;
            context.Logger.LogWarning(ex, "Could not remember {Count} sampling decisions", toRemember.Count);
        }
    }

    /// <summary>
    /// Reads remembered decisions, only for traces this batch would otherwise drop: a tail reason
    /// in the batch or a fixed-rate keep needs none. A failed read is counted and sampling goes on
    /// without it (late segments of a tail-kept trace may then miss X-Ray; the archive has them).
    /// </summary>
    private async Task<IReadOnlyDictionary<string, TraceDecision>> LookUpDecisionsAsync(List<ValidSegment> valid, IngestMetrics metrics, InvocationContext context)
    {
        var certain = new HashSet<string>(StringComparer.Ordinal);
        var uncertain = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (segment, _, key) in valid)
        {
            if (TraceSampler.TailReason(segment, _sampler.Policy.Tail) != SamplingReason.None
                || (_sampler.Match(segment) is { } rule && TraceHash.Unit(segment.TraceId) < rule.FixedRate))
            {
                certain.Add(key);
            }
            else
            {
                uncertain.Add(key);
            }
        }

        uncertain.ExceptWith(certain);
        if (uncertain.Count == 0)
        {
            return new Dictionary<string, TraceDecision>();
        }

        try
        {
            return await _decisions.GetManyAsync(uncertain, context.CancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Sampling degrades to head + tail; the batch goes on (and never leaves before the archive write is awaited).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            metrics.DecisionStoreErrors++;
            context.Logger.LogWarning(ex, "Could not read {Count} sampling decisions", uncertain.Count);
            return new Dictionary<string, TraceDecision>();
        }
    }

    /// <summary>Writes refused documents to xray-retry/ (one object per batch, deterministic key). False when that failed too.</summary>
    private async Task<bool> ParkAsync(ForwardResult result, string shard, KinesisRecordData first, IngestMetrics metrics, InvocationContext context)
    {
        var lines = new ArrayBufferWriter<byte>(result.Refused.Sum(d => d.Document.Length + 1));
        foreach (var document in result.Refused)
        {
            ArchiveLines.WriteSegment(lines, System.Text.Encoding.UTF8.GetBytes(document.Document));
        }

        var key = ArchiveKeys.XRayRetry(shard, first.SequenceNumber, first.ApproximateArrivalTimestamp);
        try
        {
            await _store.PutAsync(_options.ArchiveBucket, key, lines.WrittenMemory, ArchiveObjects.NdjsonContentType, context.CancellationToken).ConfigureAwait(false);
            metrics.XRayParked = result.Refused.Count;
            context.Logger.LogWarning("X-Ray did not take {Count} segments{Outage}; parked in {Key}", result.Refused.Count, result.Outage ? " (outage)" : string.Empty, key);
            return true;
        }
#pragma warning disable CA1031 // Reported as a batch failure by the caller.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            context.Logger.LogError(ex, "Could not park {Count} segments X-Ray refused; reporting the batch for retry", result.Refused.Count);
            return false;
        }
    }

    /// <summary>
    /// Usage counting rules (UsageRecord remarks): a trace is seen in the batch that has its root
    /// segment; per service, once per trace it took part in.
    /// </summary>
    private void CountUsage(List<ValidSegment> valid, SamplingDecision[] decisions, IReadOnlyDictionary<string, TraceDecision> remembered, UsageRecorder usage, IngestMetrics metrics)
    {
        var forward = _options.ForwardToXRay;
        var serviceTraces = new HashSet<(string Service, string Trace)>();
        for (var i = 0; i < valid.Count; i++)
        {
            var segment = valid[i].Segment;
            var keep = forward && decisions[i].Keep;
            var service = segment.GetString(segment.Root.Name) ?? string.Empty;
            var trace = valid[i].TraceKey;
            var reason = keep ? ToKeepReason(decisions[i].Reason, remembered.TryGetValue(trace, out var prior) ? prior.Reason : SamplingReason.None) : (KeepReason?)null;
            usage.AddValidSegment(service, keep);
            if (keep)
            {
                metrics.SegmentsKept++;
            }

            if (!segment.IsIndependentSubsegment && !segment.Root.ParentId.IsPresent)
            {
                usage.AddTrace(reason);
                metrics.TracesSeen++;
                if (reason is not null)
                {
                    metrics.TracesKept++;
                }
            }

            if (serviceTraces.Add((service, trace)))
            {
                usage.AddServiceTrace(service, reason);
            }
        }
    }

    /// <summary>
    /// The usage record's coarser reasons. HTTP 5xx/429 counts as a fault (a 429 is rarer than a
    /// 5xx and the record has no status split); a remembered keep counts under its original reason.
    /// </summary>
    internal static KeepReason ToKeepReason(SamplingReason reason, SamplingReason rememberedReason) => reason switch
    {
        SamplingReason.TailError => KeepReason.TailError,
        SamplingReason.TailFault or SamplingReason.TailHttpStatus => KeepReason.TailFault,
        SamplingReason.TailThrottle => KeepReason.TailThrottle,
        SamplingReason.TailSlow => KeepReason.TailSlow,
        SamplingReason.Remembered when rememberedReason is not (SamplingReason.Remembered or SamplingReason.None) => ToKeepReason(rememberedReason, SamplingReason.None),
        _ => KeepReason.Head,
    };

    private readonly record struct ValidSegment(ParsedSegment Segment, ReadOnlyMemory<byte> Document, string TraceKey);
}
