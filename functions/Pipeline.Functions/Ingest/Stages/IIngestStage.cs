using Pipeline.Lambda;

namespace Pipeline.Functions.Ingest.Stages;

/// <summary>
/// One named step of the ingest (<see cref="IngestPipeline"/> runs them in data-path order). A
/// stage reads what earlier stages put on the <see cref="IngestBatch"/> and adds its part. It never
/// throws for bad data or a failing dependency: bad input is quarantined with a reason, a failure
/// that must fail the batch calls <see cref="IngestBatch.RetryFromFirstRecord"/>, anything else
/// is counted. An exception out of a stage is a bug; the invocation then fails and Lambda retries.
/// </summary>
internal interface IIngestStage
{
    /// <summary>The stage's name in logs and docs (functions/Pipeline.Functions/Ingest/README.md).</summary>
    string Name { get; }

    Task RunAsync(IngestBatch batch, InvocationContext context);
}
