using Pipeline.Core.Archive;
using Pipeline.Core.Otlp;
using Pipeline.Core.Segments;
using Pipeline.Lambda;

namespace Pipeline.Functions.Ingest.Stages;

/// <summary>
/// OTLP records (docs/kinesis-records.md) → segment documents, between decode and validate: each
/// OTLP entry of <see cref="IngestBatch.Documents"/> is replaced by the documents converted from its
/// spans (Core <see cref="OtlpRecordReader"/>, docs/otlp.md), which validate, archive, decide and
/// forward then treat like any document. A span that cannot be converted, and a record that cannot
/// be read (undecodable, a newer record version), is quarantined with its reason and original bytes.
/// With <c>keepSpans</c> (XRAY_FORWARD=otlp) the decoded spans are also kept on
/// <see cref="IngestBatch.OtelSpans"/> for the forward stage. CPU only.
/// </summary>
internal sealed class OtlpStage(OtlpConversionOptions conversion, bool keepSpans = false) : IIngestStage
{
    /// <summary>
    /// Converted documents keep their W3C trace id, random unless the service used the AWS X-Ray ID
    /// generator: the archive takes them all, so validation skips the epoch check (forwarding does not).
    /// </summary>
    public static readonly ValidationOptions ConvertedValidation = new() { RequirePlausibleTraceEpoch = false };

    private readonly OtlpConversionOptions _conversion = conversion ?? throw new ArgumentNullException(nameof(conversion));

    public string Name => "otlp";

    public Task RunAsync(IngestBatch batch, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        if (!batch.Documents.Exists(d => OtlpRecord.IsOtlpRecord(d.Body.Span)))
        {
            return Task.CompletedTask;
        }

        var documents = new List<DecodedDocument>(batch.Documents.Count);
        foreach (var document in batch.Documents)
        {
            if (!OtlpRecord.IsOtlpRecord(document.Body.Span))
            {
                documents.Add(document);
                continue;
            }

            var record = document.Record;
            var content = OtlpRecordReader.Read(document.Body, _conversion);
            batch.Usage.AddOtelSpans(content.Spans);
            batch.Metrics.OtlpRecords++;
            batch.Metrics.OtlpSpansIn += content.Spans;
            batch.Metrics.OtlpSpansQuarantined += content.SpansQuarantined;
            foreach (var entry in content.Quarantined)
            {
                batch.Quarantine(new QuarantineEntry(entry.Reason, entry.ReasonCode, "$", record.SequenceNumber, record.ApproximateArrivalTimestamp, entry.Original), otel: true);
            }

            if (keepSpans && content.Request is { } request)
            {
                KeepSpans(batch, request);
            }

            foreach (var converted in content.Documents)
            {
                documents.Add(new DecodedDocument(converted.Document, converted.Document, record, converted.Spans));
            }
        }

        batch.Documents.Clear();
        batch.Documents.AddRange(documents);
        return Task.CompletedTask;
    }

    /// <summary>The spans the converter took (those passing <see cref="OtlpIds.Check"/>), for forwarding as received.</summary>
    private static void KeepSpans(IngestBatch batch, OtlpTraceRequest request)
    {
        foreach (var resource in request.ResourceSpans)
        {
            foreach (var scope in resource.ScopeSpans)
            {
                foreach (var span in scope.Spans)
                {
                    if (OtlpIds.Check(span) != OtlpSpanProblem.None)
                    {
                        continue;
                    }

                    var trace = OtlpIds.ToXRayTraceId(span.TraceId);
                    if (!batch.OtelSpanIds.Add((trace, OtlpIds.ToEntityId(span.SpanId))))
                    {
                        // The same span twice in one batch (a record delivered twice): sent once.
                        continue;
                    }

                    if (!batch.OtelSpans.TryGetValue(trace, out var spans))
                    {
                        spans = [];
                        batch.OtelSpans.Add(trace, spans);
                    }

                    spans.Add(new OtlpForwardSpan(resource, scope, span));
                }
            }
        }
    }
}
