using Amazon.DynamoDBv2.Model;
using Amazon.S3;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Cli.Local;
using Pipeline.Testing;
using Pipeline.LocalAws.Moto;

namespace Pipeline.Cli.Tests.Local;

/// <summary>What `pipeline up` creates in moto, checked against template.yaml's settings.</summary>
public sealed class StackProvisionerTests(MotoFixture moto) : IClassFixture<MotoFixture>
{
    [Fact]
    public async Task Create_MakesTheStreamBucketsTableAndIdentity_AsTheTemplateDoes()
    {
        await moto.ResetAsync(TestContext.Current.CancellationToken);
        using var aws = AwsClients.Create(new AwsSettings
        {
            Region = moto.Region,
            EndpointUrl = moto.Endpoint,
            AccessKeyId = MotoServer.AccessKeyId,
            SecretAccessKey = MotoServer.SecretAccessKey,
        });
        var ct = TestContext.Current.CancellationToken;

        var streamArn = await new StackProvisioner(aws).CreateAsync(demo: true, ct);

        streamArn.Should().EndWith(":stream/" + StackNames.Stream);
        (await aws.Kinesis.ListShardsAsync(StackNames.Stream, ct)).Should().HaveCount(StackNames.ShardCount);
        foreach (var bucket in new[] { StackNames.ArchiveBucket, StackNames.DemoBucket })
        {
            var encryption = await aws.S3.GetBucketEncryptionAsync(new() { BucketName = bucket }, ct);
            encryption.ServerSideEncryptionConfiguration.ServerSideEncryptionRules.Should().ContainSingle()
                .Which.ServerSideEncryptionByDefault.ServerSideEncryptionAlgorithm.Should().Be(ServerSideEncryptionMethod.AES256);
            var block = (await aws.S3.GetPublicAccessBlockAsync(new() { BucketName = bucket }, ct)).PublicAccessBlockConfiguration;
            new[] { block.BlockPublicAcls, block.BlockPublicPolicy, block.IgnorePublicAcls, block.RestrictPublicBuckets }.Should().AllBeEquivalentTo(true);
        }

        var table = (await aws.DynamoDb.DescribeTableAsync(new DescribeTableRequest { TableName = StackNames.DecisionTable }, ct)).Table;
        table.KeySchema.Should().ContainSingle().Which.AttributeName.Should().Be(StackNames.DecisionKey);
        var ttl = await aws.DynamoDb.DescribeTimeToLiveAsync(new DescribeTimeToLiveRequest { TableName = StackNames.DecisionTable }, ct);
        ttl.TimeToLiveDescription.AttributeName.Should().Be(StackNames.DecisionTtlAttribute);
        // The cost report sends from this identity to this recipient.
        var mime = System.Text.Encoding.ASCII.GetBytes($"From: {StackNames.ReportSender}\r\nTo: {StackNames.ReportRecipient}\r\nSubject: t\r\n\r\nbody\r\n");
        (await aws.Ses.SendRawEmailAsync(new Pipeline.Aws.Ses.RawEmail(mime, StackNames.ReportSender, [StackNames.ReportRecipient]), ct)).Should().NotBeNullOrEmpty();
    }
}
