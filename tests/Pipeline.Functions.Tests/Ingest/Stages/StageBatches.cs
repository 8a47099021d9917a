using System.Text.Json;
using Pipeline.Core.Redaction;
using Pipeline.Functions.Events;
using Pipeline.Functions.Ingest;
using Pipeline.Functions.Ingest.Stages;
using Pipeline.Lambda;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest.Stages;

/// <summary>Batches for stage tests: the event bytes a mapping delivers, parsed by the product's event model, and the earlier stages run for real.</summary>
internal static class StageBatches
{
    public static readonly DateTimeOffset Now = TestInvocation.Clock().GetUtcNow();

    public static IngestBatch Of(KinesisEventBuilder events)
    {
        var parsed = JsonSerializer.Deserialize(events.BuildUtf8(), EventsJsonContext.Default.KinesisEvent)!;
        return new IngestBatch(parsed.Records, Now, started: 0);
    }

    public static IngestBatch Of(params byte[][] records) => Of(IngestHarness.Batch(records, 0, records.Length));

    /// <summary>A batch after decode and validate (with the default redaction).</summary>
    public static async Task<IngestBatch> ValidatedAsync(params byte[][] records)
    {
        var batch = Of(records);
        await new DecodeStage().RunAsync(batch, Context());
        await new ValidateStage(new Redactor(RedactionPolicy.Default)).RunAsync(batch, Context());
        return batch;
    }

    public static InvocationContext Context(TimeSpan? remaining = null) => TestInvocation.Context(TestInvocation.Clock(), remaining);
}
