using Microsoft.Extensions.Logging;
using Pipeline.Aws.Storage;
using Pipeline.Aws.XRay;
using Pipeline.Core.Otlp;
using Pipeline.Core.Redaction;
using Pipeline.Core.Sampling;
using Pipeline.Functions.Events;
using Pipeline.Functions.Ingest.Stages;
using Pipeline.Lambda;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Functions.Ingest;

/// <summary>
/// The ingest as named stages, in data-path order:
/// <c>decode → otlp → validate → archive ‖ decide → forward ‖ remember → account</c>
/// (‖: the two run at the same time). Each stage is a type in <c>Stages/</c> with its own tests;
/// README.md next to this file says what each does and how to add one.
/// </summary>
internal sealed class IngestPipeline
{
    private readonly TimeProvider _timeProvider;
    private readonly DecodeStage _decode = new();
    private readonly OtlpStage _otlp;
    private readonly ValidateStage _validate;
    private readonly ArchiveStage _archive;
    private readonly DecideStage _decide;
    private readonly ForwardStage _forward;
    private readonly AccountStage _account;

    public IngestPipeline(IngestOptions options, IObjectStore store, IXRayClient xray, ITraceDecisionStore decisions, TimeProvider timeProvider, IMetricsSink metrics, IXRayOtlpClient? xrayOtlp = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _otlp = new OtlpStage(new OtlpConversionOptions { AnnotationKeys = options.OtlpAnnotationKeys }, keepSpans: options.XRayForward == XRayForwardMode.Otlp);
        _validate = new ValidateStage(new Redactor(options.Redaction));
        _archive = new ArchiveStage(store, options.ArchiveBucket);
        _decide = new DecideStage(new TraceSampler(options.Sampling), decisions);
        _forward = new ForwardStage(new XRayForwarder(xray, timeProvider, options.XRayResend), store, options, xrayOtlp is null ? null : new XRayOtlpForwarder(xrayOtlp));
        _account = new AccountStage(store, options, metrics, timeProvider);
    }

    /// <summary>One shard's records, in order. Returns the invocation's counters (also written as EMF and usage).</summary>
    public async Task<IngestMetrics> RunAsync(IReadOnlyList<KinesisEventRecord> records, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var batch = new IngestBatch(records, _timeProvider.GetUtcNow(), _timeProvider.GetTimestamp());

        // CPU only: records to documents to valid, redacted segments; bad input is quarantined.
        await RunAsync(_decode, batch, context).ConfigureAwait(false);
        await RunAsync(_otlp, batch, context).ConfigureAwait(false);
        await RunAsync(_validate, batch, context).ConfigureAwait(false);

        // The archive's content does not depend on sampling, so its writes run while the
        // decisions are looked up. Decide never fails the batch; the archive may.
        var archiving = RunAsync(_archive, batch, context);
        await RunAsync(_decide, batch, context).ConfigureAwait(false);
        await archiving.ConfigureAwait(false);

        if (!batch.Failed)
        {
            // Remember the decisions later segments cannot recompute (tail, reservoir) while forwarding.
            var remembering = _decide.RememberAsync(batch, context);
            await RunAsync(_forward, batch, context).ConfigureAwait(false);
            await remembering.ConfigureAwait(false);
        }

        await RunAsync(_account, batch, context).ConfigureAwait(false);
        return batch.Metrics;
    }

    /// <summary>Runs one stage; a stage that throws (a bug: stages quarantine, count or fail the batch instead) is named in the log before the invocation fails.</summary>
    private static async Task RunAsync(IIngestStage stage, IngestBatch batch, InvocationContext context)
    {
        try
        {
            await stage.RunAsync(batch, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested)
        {
            context.Logger.LogError(ex, "Ingest stage {Stage} threw on batch {Shard}/{Sequence}", stage.Name, batch.Shard, batch.First.SequenceNumber);
            throw;
        }
    }
}
