using Pipeline.Runtime.Buffers;
using Microsoft.Extensions.Logging;
using Pipeline.Aws.Storage;
using Pipeline.Core.Archive;
using Pipeline.Lambda;

namespace Pipeline.Functions.Ingest.Stages;

/// <summary>
/// The archive, the source of truth and the only step whose failure fails the batch: every valid
/// segment to <see cref="ArchiveKeys.Segments"/> (always written, even empty, so that it replaces a
/// stale version of the key), the quarantine, when there is any, to <see cref="ArchiveKeys.Quarantine"/>,
/// both gzip NDJSON (<see cref="ArchiveObjects"/>, <see cref="ArchiveLines"/>). If either write
/// fails the batch is reported for retry from its first record. The README's "exactly once"
/// section says why this keying survives every retry shape.
/// </summary>
internal sealed class ArchiveStage(IObjectStore store, string bucket) : IIngestStage
{
    private readonly IObjectStore _store = store ?? throw new ArgumentNullException(nameof(store));
    private readonly string _bucket = bucket ?? throw new ArgumentNullException(nameof(bucket));

    public string Name => "archive";

    /// <remarks>
    /// The objects are encoded before the first await, so a caller may run other work (the decide
    /// stage) while the writes are in flight; this stage then touches only the archive counters.
    /// </remarks>
    public async Task RunAsync(IngestBatch batch, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        var first = batch.First;
        using var ndjson = new PooledBufferWriter(batch.Valid.Sum(v => v.Document.Length + 1));
        foreach (var segment in batch.Valid)
        {
            ArchiveLines.WriteSegment(ndjson, segment.Document.Span);
        }

        using var segments = ArchiveObjects.Gzip(ndjson.WrittenSpan);
        using var quarantine = batch.QuarantinedCount > 0 ? ArchiveObjects.Gzip(batch.QuarantineLines) : null;
        try
        {
            var writes = new List<Task>(2)
            {
                _store.PutAsync(_bucket, ArchiveKeys.Segments(batch.Shard, first.SequenceNumber, first.ApproximateArrivalTimestamp), segments.WrittenMemory, ArchiveObjects.GzipNdjsonContentType, context.CancellationToken),
            };
            if (quarantine is not null)
            {
                writes.Add(_store.PutAsync(_bucket, ArchiveKeys.Quarantine(batch.Shard, first.SequenceNumber, first.ApproximateArrivalTimestamp), quarantine.WrittenMemory, ArchiveObjects.GzipNdjsonContentType, context.CancellationToken));
            }

            await Task.WhenAll(writes).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever the store threw, the answer is the same: nothing of this batch is acknowledged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            context.Logger.LogError(ex, "The archive did not take batch {Shard}/{Sequence} ({Records} records); reporting it for retry", batch.Shard, first.SequenceNumber, batch.Records.Count);
            batch.Metrics.ArchiveFailures = 1;
            batch.RetryFromFirstRecord();
            return;
        }

        batch.Usage.AddS3Put();
        batch.Usage.AddArchivedBytes(segments.WrittenCount);
        if (quarantine is not null)
        {
            batch.Usage.AddS3Put();
            batch.Usage.AddArchivedBytes(quarantine.WrittenCount);
        }

        batch.Metrics.BytesArchived = segments.WrittenCount + (quarantine?.WrittenCount ?? 0);
    }
}
