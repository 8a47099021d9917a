using System.Text;
using Amazon.DynamoDBv2.Model;
using Pipeline.Aws;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>S3 (through IObjectStore and the SDK client) and DynamoDB against moto with our endpoint rules.</summary>
public sealed class StorageMotoTests(MotoFixture moto) : IDisposable
{
    private readonly AwsClients _aws = MotoAws.Clients(moto);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task ObjectStore_PutThenGet_ReturnsTheSameBytes()
    {
        var bucket = await NewBucketAsync();
        var body = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31)).ToArray();

        await _aws.ObjectStore.PutAsync(bucket, "segments/dt=2026-11-25/hour=14/shard-1.ndjson.gz", body, "application/gzip", _ct);
        var read = await _aws.ObjectStore.GetAsync(bucket, "segments/dt=2026-11-25/hour=14/shard-1.ndjson.gz", _ct);

        read.Should().Equal(body);
    }

    [Fact]
    public async Task ObjectStore_Get_MissingKey_ReturnsNull()
    {
        var bucket = await NewBucketAsync();

        var read = await _aws.ObjectStore.GetAsync(bucket, "no/such/key", _ct);

        read.Should().BeNull();
    }

    [Fact]
    public async Task ObjectStore_List_ReturnsOnlyThePrefixInKeyOrderWithSizes()
    {
        var bucket = await NewBucketAsync();
        foreach (var key in new[] { "reports/b.html", "segments/dt=1/x", "reports/a.html", "reportsx/c" })
        {
            await _aws.ObjectStore.PutAsync(bucket, key, Encoding.UTF8.GetBytes(key), "text/plain", _ct);
        }

        var listed = await _aws.ObjectStore.ListAsync(bucket, "reports/", cancellationToken: _ct);

        listed.Select(o => o.Key).Should().Equal("reports/a.html", "reports/b.html");
        listed.Should().AllSatisfy(o => o.Size.Should().Be(o.Key.Length));
    }

    [Fact]
    public async Task ObjectStore_List_HonoursMaxKeys()
    {
        var bucket = await NewBucketAsync();
        for (var i = 0; i < 5; i++)
        {
            await _aws.ObjectStore.PutAsync(bucket, $"p/{i}", new byte[] { 1 }, "application/octet-stream", _ct);
        }

        var listed = await _aws.ObjectStore.ListAsync(bucket, "p/", maxKeys: 3, cancellationToken: _ct);

        listed.Should().HaveCount(3);
    }

    [Fact]
    public async Task DynamoDb_PutThenGetItem_RoundTrips()
    {
        var table = MotoFixture.UniqueName("decisions");
        await _aws.DynamoDb.CreateTableAsync(
            new CreateTableRequest
            {
                TableName = table,
                KeySchema = [new KeySchemaElement("trace_id", Amazon.DynamoDBv2.KeyType.HASH)],
                AttributeDefinitions = [new AttributeDefinition("trace_id", Amazon.DynamoDBv2.ScalarAttributeType.S)],
                BillingMode = Amazon.DynamoDBv2.BillingMode.PAY_PER_REQUEST,
            },
            _ct);

        await _aws.DynamoDb.PutItemAsync(
            table,
            new Dictionary<string, AttributeValue>
            {
                ["trace_id"] = new() { S = "1-5f84c7a1-0123456789abcdef01234567" },
                ["keep"] = new() { BOOL = true },
                ["expires_at"] = new() { N = "1764000000" },
            },
            _ct);
        var item = await _aws.DynamoDb.GetItemAsync(table, new Dictionary<string, AttributeValue> { ["trace_id"] = new() { S = "1-5f84c7a1-0123456789abcdef01234567" } }, _ct);

        item.Item["keep"].BOOL.Should().BeTrue();
        item.Item["expires_at"].N.Should().Be("1764000000");
    }

    public void Dispose() => _aws.Dispose();

    private async Task<string> NewBucketAsync()
    {
        var bucket = MotoFixture.UniqueName("archive");
        await _aws.S3.PutBucketAsync(bucket, _ct);
        return bucket;
    }
}
