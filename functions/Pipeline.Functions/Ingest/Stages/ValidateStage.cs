using Microsoft.Extensions.Logging;
using Pipeline.Core.Archive;
using Pipeline.Core.Redaction;
using Pipeline.Core.Segments;
using Pipeline.Lambda;

namespace Pipeline.Functions.Ingest.Stages;

/// <summary>
/// Documents → valid, redacted segments (Core <see cref="SegmentValidator"/>, <see cref="Redactor"/>).
/// A rejected document is quarantined with its reason code, JSON path and original bytes; a
/// document whose processing throws is quarantined as <c>internal_error</c>. CPU only.
/// </summary>
internal sealed class ValidateStage(Redactor redactor) : IIngestStage
{
    private readonly Redactor _redactor = redactor ?? throw new ArgumentNullException(nameof(redactor));

    public string Name => "validate";

    public Task RunAsync(IngestBatch batch, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        foreach (var document in batch.Documents)
        {
            var record = document.Record;
            try
            {
                var otel = document.OtelSpans > 0;
                var parsed = SegmentValidator.ParseAndValidate(document.Body, batch.Now, otel ? OtlpStage.ConvertedValidation : null);
                if (!parsed.IsOk)
                {
                    batch.Quarantine(QuarantineEntry.FromRejection(parsed.Rejection, record.SequenceNumber, record.ApproximateArrivalTimestamp, document.Original), otel);
                    continue;
                }

                var redacted = _redactor.Redact(parsed.Segment);
                if (redacted.Rewritten)
                {
                    batch.Metrics.SegmentsRedacted++;
                }

                batch.Valid.Add(new ValidSegment(parsed.Segment, redacted.Document, parsed.Segment.TraceIdKey(), document.OtelSpans));
            }
#pragma warning disable CA1031 // A poison record must never block the shard: it is quarantined with its bytes.
            catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
            {
                context.Logger.LogError(ex, "Quarantined record {Sequence} of {Shard}: processing threw", record.SequenceNumber, batch.Shard);
                batch.Quarantine(new QuarantineEntry(IngestRejectReason.InternalError.ToCode(), (int)IngestRejectReason.InternalError, "$", record.SequenceNumber, record.ApproximateArrivalTimestamp, document.Original), document.OtelSpans > 0);
            }
        }

        batch.Metrics.SegmentsValid = batch.Valid.Count;
        batch.Metrics.SegmentsInvalid = batch.QuarantinedCount;
        batch.Metrics.SegmentsIn = batch.Valid.Count + batch.QuarantinedCount;
        return Task.CompletedTask;
    }
}
