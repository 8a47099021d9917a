using Microsoft.Extensions.Logging;
using Pipeline.Core.Kpl;
using Pipeline.Core.Wire;
using Pipeline.Lambda;

namespace Pipeline.Functions.Ingest.Stages;

/// <summary>
/// Kinesis records → documents: a KPL aggregate is de-aggregated into its user records (a corrupt
/// one is quarantined whole as <c>kpl_bad_checksum</c>/<c>kpl_malformed</c>); a plain record is the
/// document the relay put; a record that still carries the daemon header line
/// (<c>{"format":"json","version":1}\n</c>) loses the header. CPU only.
/// </summary>
internal sealed class DecodeStage : IIngestStage
{
    public string Name => "decode";

    public Task RunAsync(IngestBatch batch, InvocationContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        foreach (var record in batch.Records)
        {
            var data = record.Kinesis.Data;
            batch.Usage.AddKinesisRecord(data.Length);
            try
            {
                Decode(batch, record.Kinesis);
            }
#pragma warning disable CA1031 // A poison record must never block the shard: it is quarantined with its bytes.
            catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
            {
                context.Logger.LogError(ex, "Quarantined record {Sequence} of {Shard}: decoding threw", record.Kinesis.SequenceNumber, batch.Shard);
                batch.Quarantine(IngestRejectReason.InternalError, record.Kinesis, data);
            }
        }

        return Task.CompletedTask;
    }

    private static void Decode(IngestBatch batch, Events.KinesisRecordData record)
    {
        var data = record.Data;
        // Plain records (the relay's default) skip the de-aggregator's per-record allocations.
        if (!KplDeaggregator.IsAggregated(data.Span))
        {
            batch.Documents.Add(new DecodedDocument(WithoutHeader(data), data, record));
            return;
        }

        var deaggregated = KplDeaggregator.Deaggregate(data, record.PartitionKey);
        if (deaggregated.IsCorrupt)
        {
            var reason = deaggregated.Status == KplStatus.BadChecksum ? IngestRejectReason.KplBadChecksum : IngestRejectReason.KplMalformed;
            batch.Quarantine(reason, record, data);
            return;
        }

        foreach (var user in deaggregated.Records)
        {
            batch.Documents.Add(new DecodedDocument(WithoutHeader(user.Data), user.Data, record));
        }
    }

    /// <summary>The relay puts the bare document; a record that still carries the daemon header is accepted too.</summary>
    private static ReadOnlyMemory<byte> WithoutHeader(ReadOnlyMemory<byte> body) =>
        Datagram.TrySplit(body.Span, out var range) == DatagramReject.None ? body[range] : body;
}
