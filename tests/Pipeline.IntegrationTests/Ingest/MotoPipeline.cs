using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.S3.Model;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Kinesis;
using Pipeline.Core.Archive;
using Pipeline.Functions.Ingest;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.IntegrationTests.Ingest;

/// <summary>A stream, an archive bucket and a decision table in moto, with the real clients, for one test.</summary>
internal sealed class MotoPipeline : IDisposable
{
    private MotoPipeline(MotoFixture moto)
    {
        Moto = moto;
        Clients = AwsClients.Create(AwsSettings.FromEnvironment(new DictionaryEnvironment(moto.EnvironmentVariables)));
    }

    public MotoFixture Moto { get; }

    public AwsClients Clients { get; }

    public string Stream { get; } = MotoFixture.UniqueName("ingest-stream");

    public string Bucket { get; } = MotoFixture.UniqueName("ingest-archive");

    public string Table { get; } = MotoFixture.UniqueName("ingest-decisions");

    public static async Task<MotoPipeline> CreateAsync(MotoFixture moto, CancellationToken cancellationToken)
    {
        var pipeline = new MotoPipeline(moto);
        await pipeline.Clients.Kinesis.CreateStreamAsync(pipeline.Stream, 1, cancellationToken);
        await pipeline.Clients.S3.PutBucketAsync(new PutBucketRequest { BucketName = pipeline.Bucket }, cancellationToken);
        await pipeline.Clients.DynamoDb.CreateTableAsync(
            new CreateTableRequest
            {
                TableName = pipeline.Table,
                BillingMode = BillingMode.PAY_PER_REQUEST,
                KeySchema = [new KeySchemaElement("trace_id", KeyType.HASH)],
                AttributeDefinitions = [new AttributeDefinition("trace_id", ScalarAttributeType.S)],
            },
            cancellationToken);
        return pipeline;
    }

    /// <summary>The variables a deployed ingest function would get (moto endpoint and credentials included).</summary>
    public Dictionary<string, string?> FunctionEnvironment() =>
        new(Moto.EnvironmentVariables.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)))
        {
            ["ARCHIVE_BUCKET"] = Bucket,
            ["DECISION_TABLE"] = Table,
            ["SAMPLING_RATE"] = "0",
        };

    /// <summary>Puts records the way the relay does (one PutRecords call, partition key = trace id), in order.</summary>
    public async Task PutAsync(IReadOnlyList<PutRecordsEntry> entries, CancellationToken cancellationToken)
    {
        var result = await Clients.Kinesis.PutRecordsAsync(Stream, entries, cancellationToken);
        result.FailedRecordCount.Should().Be(0);
    }

    /// <summary>Reads the shard from TRIM_HORIZON (after <paramref name="afterSequence"/> if given) and builds the event Lambda would deliver.</summary>
    public async Task<(KinesisEventBuilder Event, IReadOnlyList<KinesisRecord> Records)> ReadEventAsync(string? afterSequence, CancellationToken cancellationToken)
    {
        var shard = (await Clients.Kinesis.ListShardsAsync(Stream, cancellationToken)).Should().ContainSingle().Subject;
        var iterator = afterSequence is null
            ? await Clients.Kinesis.GetShardIteratorAsync(Stream, shard.ShardId, ShardIteratorType.TrimHorizon, cancellationToken: cancellationToken)
            : await Clients.Kinesis.GetShardIteratorAsync(Stream, shard.ShardId, ShardIteratorType.AfterSequenceNumber, afterSequence, cancellationToken);
        var records = (await Clients.Kinesis.GetRecordsAsync(iterator, cancellationToken: cancellationToken)).Records;
        var builder = new KinesisEventBuilder().FromStream(Stream, Moto.Region).FromShard(shard.ShardId);
        foreach (var record in records)
        {
            builder.ArrivingAt(record.ApproximateArrivalTimestamp).AddRecord(record.Data.Span, record.PartitionKey, record.SequenceNumber);
        }

        return (builder, records);
    }

    /// <summary>Every line of every object under <paramref name="prefix"/>, gunzipped where the key ends in .gz.</summary>
    public async Task<List<string>> ReadLinesAsync(string prefix, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        foreach (var stored in await Clients.ObjectStore.ListAsync(Bucket, prefix, cancellationToken: cancellationToken))
        {
            var content = await Clients.ObjectStore.GetAsync(Bucket, stored.Key, cancellationToken);
            var text = Encoding.UTF8.GetString(ArchiveObjects.Content(content!));
            lines.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        return lines;
    }

    public void Dispose() => Clients.Dispose();
}
