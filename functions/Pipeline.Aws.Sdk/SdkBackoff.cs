using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.S3;
using Amazon.S3.Internal;
using Pipeline.Runtime.Resilience;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Aws;

/// <summary>
/// The AWSSDK S3 and DynamoDB clients retry on the one <see cref="Backoff"/>: the SDK still decides
/// WHICH errors are transient (its standard-mode classification, S3's own additions included, and
/// its retry quota), but HOW MANY attempts (<see cref="AwsSettings.Retry"/>.MaxAttempts, through
/// MaxErrorRetry), HOW LONG each wait is (Backoff's equal jitter, on the clients' TimeProvider) and
/// the counting (pipeline.retries / pipeline.retry_give_ups, operation "s3.PutObject",
/// "dynamodb.BatchWriteItem", …) are the same as every other client's. Installed by replacing the
/// SDK pipeline's RetryHandler in <see cref="BackoffS3Client"/> and <see cref="BackoffDynamoDbClient"/>.
/// </summary>
internal static class SdkBackoff
{
    /// <summary>"s3" + "PutObjectRequest" → "s3.PutObject".</summary>
    public static string Operation(string service, IExecutionContext context)
    {
        var name = context.RequestContext.RequestName ?? "unknown";
        return service + "." + (name.EndsWith("Request", StringComparison.Ordinal) ? name[..^"Request".Length] : name);
    }

    /// <summary>The wait before retry number RequestContext.Retries (the SDK counts it up before waiting), counted as a retry.</summary>
    public static Task WaitAsync(Backoff backoff, TimeProvider time, string service, IExecutionContext context)
    {
        PipelineMetrics.CountRetry(Operation(service, context));
        return Task.Delay(backoff.DelayFor(Math.Max(1, context.RequestContext.Retries)), time, context.RequestContext.CancellationToken);
    }

    /// <summary>A call that failed again after all its retries: counted as a give-up.</summary>
    public static bool LimitReached(bool reached, string service, IExecutionContext context)
    {
        if (reached && context.RequestContext.Retries > 0)
        {
            PipelineMetrics.CountGiveUp(Operation(service, context));
        }

        return reached;
    }
}

/// <summary>S3's standard retry classification with <see cref="SdkBackoff"/>'s waits and counters.</summary>
internal sealed class S3BackoffRetryPolicy(IClientConfig config, Backoff backoff, TimeProvider time) : AmazonS3StandardRetryPolicy(config)
{
    private const string Service = "s3";

    public override void WaitBeforeRetry(IExecutionContext executionContext) =>
        WaitBeforeRetryAsync(executionContext).GetAwaiter().GetResult();

    public override Task WaitBeforeRetryAsync(IExecutionContext executionContext) =>
        SdkBackoff.WaitAsync(backoff, time, Service, executionContext);

    public override bool RetryLimitReached(IExecutionContext executionContext) =>
        SdkBackoff.LimitReached(base.RetryLimitReached(executionContext), Service, executionContext);
}

/// <summary>The SDK's standard retry classification for DynamoDB with <see cref="SdkBackoff"/>'s waits and counters.</summary>
internal sealed class DynamoDbBackoffRetryPolicy(IClientConfig config, Backoff backoff, TimeProvider time) : StandardRetryPolicy(config)
{
    private const string Service = "dynamodb";

    public override void WaitBeforeRetry(IExecutionContext executionContext) =>
        WaitBeforeRetryAsync(executionContext).GetAwaiter().GetResult();

    public override Task WaitBeforeRetryAsync(IExecutionContext executionContext) =>
        SdkBackoff.WaitAsync(backoff, time, Service, executionContext);

    public override bool RetryLimitReached(IExecutionContext executionContext) =>
        SdkBackoff.LimitReached(base.RetryLimitReached(executionContext), Service, executionContext);
}

/// <summary>The AWSSDK S3 client with its retry handler on <see cref="S3BackoffRetryPolicy"/>.</summary>
internal sealed class BackoffS3Client(AWSCredentials credentials, AmazonS3Config config, Backoff backoff, TimeProvider time)
    : AmazonS3Client(credentials, config)
{
    // Field initialisers run before the base constructor, which builds the pipeline (calling CustomizeRuntimePipeline).
    private readonly Backoff _backoff = backoff;
    private readonly TimeProvider _time = time;

    protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
    {
        base.CustomizeRuntimePipeline(pipeline);
        pipeline.ReplaceHandler<RetryHandler>(new RetryHandler(new S3BackoffRetryPolicy(Config, _backoff, _time)));
    }
}

/// <summary>The AWSSDK DynamoDB client with its retry handler on <see cref="DynamoDbBackoffRetryPolicy"/>.</summary>
internal sealed class BackoffDynamoDbClient(AWSCredentials credentials, AmazonDynamoDBConfig config, Backoff backoff, TimeProvider time)
    : AmazonDynamoDBClient(credentials, config)
{
    private readonly Backoff _backoff = backoff;
    private readonly TimeProvider _time = time;

    protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
    {
        base.CustomizeRuntimePipeline(pipeline);
        pipeline.ReplaceHandler<RetryHandler>(new RetryHandler(new DynamoDbBackoffRetryPolicy(Config, _backoff, _time)));
    }
}
