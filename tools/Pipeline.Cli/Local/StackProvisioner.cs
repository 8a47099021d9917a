using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.S3;
using Amazon.S3.Model;
using Pipeline.Aws;

namespace Pipeline.Cli.Local;

/// <summary>Names of the local stack's resources (one stack per moto server, so fixed names).</summary>
internal static class StackNames
{
    public const string Stream = "xray-pipeline-local";
    public const string ArchiveBucket = "xray-pipeline-archive-local";
    public const string DemoBucket = "xray-pipeline-demo-local";
    public const string DecisionTable = "xray-pipeline-decisions-local";

    /// <summary>Verified at once by moto; the cost report is sent from it.</summary>
    public const string ReportSender = "pipeline@example.com";

    public const string ReportRecipient = "operator@example.com";

    /// <summary>Shards of the local stream: two, so the emulator and partitioning by trace id are exercised.</summary>
    public const int ShardCount = 2;

    /// <summary>moto checks no signature; it only routes by the credential scope.</summary>
    public const string FakeCredential = MotoServer.AccessKeyId;

    /// <summary>The account moto reports in ARNs.</summary>
    public const string AccountId = MotoServer.AccountId;

    public const string DecisionKey = "trace_id";
    public const string DecisionTtlAttribute = "expires_at";
}

/// <summary>
/// Creates what template.yaml creates, in moto: the stream, the archive bucket (SSE-S3 and the
/// public access block as in the template; no TLS-only bucket policy: over moto's plain HTTP it
/// makes every object call 403, see MOTO.md), the decision table with TTL, the SES identity.
/// </summary>
internal sealed class StackProvisioner(AwsClients aws)
{
    private readonly AwsClients _aws = aws;

    /// <summary>Creates every resource; returns the stream ARN.</summary>
    public async Task<string> CreateAsync(bool demo, CancellationToken cancellationToken)
    {
        await _aws.Kinesis.CreateStreamAsync(StackNames.Stream, StackNames.ShardCount, cancellationToken).ConfigureAwait(false);
        var summary = await _aws.Kinesis.DescribeStreamSummaryAsync(StackNames.Stream, cancellationToken).ConfigureAwait(false);
        await CreateBucketAsync(StackNames.ArchiveBucket, cancellationToken).ConfigureAwait(false);
        if (demo)
        {
            await CreateBucketAsync(StackNames.DemoBucket, cancellationToken).ConfigureAwait(false);
        }

        await CreateDecisionTableAsync(cancellationToken).ConfigureAwait(false);
        await _aws.Ses.CreateEmailIdentityAsync(StackNames.ReportSender, cancellationToken).ConfigureAwait(false);
        return summary.StreamArn;
    }

    private async Task CreateBucketAsync(string bucket, CancellationToken cancellationToken)
    {
        var s3 = _aws.S3;
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, cancellationToken).ConfigureAwait(false);
        await s3.PutBucketEncryptionAsync(
            new PutBucketEncryptionRequest
            {
                BucketName = bucket,
                ServerSideEncryptionConfiguration = new ServerSideEncryptionConfiguration
                {
                    ServerSideEncryptionRules =
                    [
                        new ServerSideEncryptionRule
                        {
                            ServerSideEncryptionByDefault = new ServerSideEncryptionByDefault { ServerSideEncryptionAlgorithm = ServerSideEncryptionMethod.AES256 },
                        },
                    ],
                },
            },
            cancellationToken).ConfigureAwait(false);
        await s3.PutPublicAccessBlockAsync(
            new PutPublicAccessBlockRequest
            {
                BucketName = bucket,
                PublicAccessBlockConfiguration = new PublicAccessBlockConfiguration
                {
                    BlockPublicAcls = true,
                    BlockPublicPolicy = true,
                    IgnorePublicAcls = true,
                    RestrictPublicBuckets = true,
                },
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task CreateDecisionTableAsync(CancellationToken cancellationToken)
    {
        var dynamo = _aws.DynamoDb;
        await dynamo.CreateTableAsync(
            new CreateTableRequest
            {
                TableName = StackNames.DecisionTable,
                BillingMode = BillingMode.PAY_PER_REQUEST,
                AttributeDefinitions = [new AttributeDefinition(StackNames.DecisionKey, ScalarAttributeType.S)],
                KeySchema = [new KeySchemaElement(StackNames.DecisionKey, KeyType.HASH)],
            },
            cancellationToken).ConfigureAwait(false);
        await dynamo.UpdateTimeToLiveAsync(
            new UpdateTimeToLiveRequest
            {
                TableName = StackNames.DecisionTable,
                TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = StackNames.DecisionTtlAttribute, Enabled = true },
            },
            cancellationToken).ConfigureAwait(false);
    }
}
