using System.Globalization;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.DynamoDb;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Resilience;
using Pipeline.Runtime.Telemetry;
using Pipeline.Testing;
using Pipeline.Testing.Faults;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>
/// The AWSSDK S3 and DynamoDB clients retry on the one Backoff (attempts from AwsSettings.Retry,
/// retries and give-ups on the shared meter), and so does the decision table's resubmission of
/// unprocessed items, through the fault proxy in front of moto. Alone in
/// its collection so that the shared counters move only for these calls.
/// </summary>
[Collection(SdkBackoffGroup.Name)]
public sealed class SdkBackoffTests(MotoFixture moto) : IAsyncLifetime
{
    private static readonly BackoffOptions FastRetries = new() { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(10) };

    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly string _bucket = MotoFixture.UniqueName("backoff");
    private readonly MetricsCollector _counters = new(MetricTemporality.Cumulative, PipelineMetrics.MeterName);
    private FaultProxy? _proxy;

    private FaultProxy Proxy => _proxy!;

    public async ValueTask InitializeAsync()
    {
        _proxy = await FaultProxy.StartAsync(moto.Endpoint, cancellationToken: _ct);
        await MotoAws.Clients(moto).S3.PutBucketAsync(_bucket, _ct);
    }

    public async ValueTask DisposeAsync()
    {
        _counters.Dispose();
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
    }

    [Fact]
    public async Task S3Put_SlowDownTwice_SucceedsOnTheThirdAttemptWithTwoRetriesCounted()
    {
        using var aws = ViaProxy(FastRetries);
        var rule = Proxy.Add(new FaultRule(FaultResponses.S3SlowDown()) { Service = "s3", Operation = "PUT", PathContains = "/segments/", MaxInjections = 2 });

        await aws.ObjectStore.PutAsync(_bucket, "segments/a.json", "{}"u8.ToArray(), "application/json", _ct);

        rule.Injected.Should().Be(2);
        (await MotoAws.Clients(moto).ObjectStore.GetAsync(_bucket, "segments/a.json", _ct)).Should().Equal("{}"u8.ToArray());
        Count("pipeline.retries", "s3.PutObject").Should().Be(2);
        Count("pipeline.retry_give_ups", "s3.PutObject").Should().Be(0);
    }

    [Fact]
    public async Task S3Get_AlwaysInternalError_GivesUpAfterTheConfiguredAttemptsCountedOnce()
    {
        await MotoAws.Clients(moto).ObjectStore.PutAsync(_bucket, "reports/r.json", "{}"u8.ToArray(), "application/json", _ct);
        using var aws = ViaProxy(FastRetries);
        var rule = Proxy.Add(new FaultRule(FaultResponses.S3InternalError()) { Service = "s3", Operation = "GET", PathContains = "/reports/" });

        var read = () => aws.ObjectStore.GetAsync(_bucket, "reports/r.json", _ct);

        await read.Should().ThrowAsync<AmazonServiceException>();
        rule.Injected.Should().Be(FastRetries.MaxAttempts);
        Count("pipeline.retries", "s3.GetObject").Should().Be(FastRetries.MaxAttempts - 1);
        Count("pipeline.retry_give_ups", "s3.GetObject").Should().Be(1);
    }

    [Fact]
    public async Task S3Get_OneAttemptConfigured_IsNotRetriedByTheSdk()
    {
        await MotoAws.Clients(moto).ObjectStore.PutAsync(_bucket, "graphs/g.json", "{}"u8.ToArray(), "application/json", _ct);
        using var aws = ViaProxy(BackoffOptions.None);
        var rule = Proxy.Add(new FaultRule(FaultResponses.S3InternalError()) { Service = "s3", Operation = "GET", PathContains = "/graphs/" });

        var read = () => aws.ObjectStore.GetAsync(_bucket, "graphs/g.json", _ct);

        await read.Should().ThrowAsync<AmazonServiceException>();
        rule.Injected.Should().Be(1, "AwsSettings.Retry decides the attempts, not the SDK's default of 3");
        Count("pipeline.retries", "s3.GetObject").Should().Be(0);
    }

    [Fact]
    public async Task DynamoDb_InternalServerErrorOnce_IsRetriedAndCounted()
    {
        using var aws = ViaProxy(FastRetries);
        var rule = Proxy.Add(new FaultRule(FaultAction.Respond(500, """{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}""", "application/x-amz-json-1.0"))
        {
            Service = "dynamodb",
            MaxInjections = 1,
        });

        var tables = await aws.DynamoDb.ListTablesAsync(new ListTablesRequest(), _ct);

        tables.Should().NotBeNull();
        rule.Injected.Should().Be(1);
        Count("pipeline.retries", "dynamodb.ListTables").Should().Be(1);
        Count("pipeline.retry_give_ups", "dynamodb.ListTables").Should().Be(0);
    }

    [Fact]
    public async Task DecisionTable_WriteLeftUnprocessedTwice_IsResubmittedOnTheBackoffAndWritten()
    {
        var table = await CreateDecisionTableAsync();
        using var aws = ViaProxy(FastRetries);
        var decision = Decision();
        var rule = Proxy.Add(new FaultRule(FaultAction.Respond(200, Unprocessed(table, decision), "application/x-amz-json-1.0"))
        {
            Service = "dynamodb",
            Operation = "BatchWriteItem",
            MaxInjections = 2,
        });

        await new DynamoDbDecisionTable(aws.DynamoDb, table, TimeProvider.System).PutAsync([decision], _ct);

        rule.Injected.Should().Be(2);
        var stored = await new DynamoDbDecisionTable(MotoAws.Clients(moto).DynamoDb, table, TimeProvider.System).GetLiveAsync([decision.TraceId], _ct);
        stored.Should().ContainKey(decision.TraceId);
        Count("pipeline.retries", "dynamodb.BatchWriteItem.unprocessed").Should().Be(2);
        Count("pipeline.retry_give_ups", "dynamodb.BatchWriteItem.unprocessed").Should().Be(0);
    }

    [Fact]
    public async Task DecisionTable_WriteAlwaysLeftUnprocessed_FailsAfterTheBoundedRoundsCountedAsOneGiveUp()
    {
        var table = await CreateDecisionTableAsync();
        using var aws = ViaProxy(FastRetries);
        var decision = Decision();
        var rule = Proxy.Add(new FaultRule(FaultAction.Respond(200, Unprocessed(table, decision), "application/x-amz-json-1.0"))
        {
            Service = "dynamodb",
            Operation = "BatchWriteItem",
        });

        var write = () => new DynamoDbDecisionTable(aws.DynamoDb, table, TimeProvider.System).PutAsync([decision], _ct);

        await write.Should().ThrowAsync<DecisionTableException>();
        rule.Injected.Should().Be(DynamoDbDecisionTable.MaxUnprocessedRounds + 1);
        Count("pipeline.retries", "dynamodb.BatchWriteItem.unprocessed").Should().Be(DynamoDbDecisionTable.MaxUnprocessedRounds);
        Count("pipeline.retry_give_ups", "dynamodb.BatchWriteItem.unprocessed").Should().Be(1);
    }

    private static StoredDecision Decision() =>
        new("1-5f84c7a1-" + Guid.NewGuid().ToString("N")[..24], true, "Head", DateTimeOffset.FromUnixTimeSeconds(1_764_000_000), DateTimeOffset.FromUnixTimeSeconds(4_000_000_000));

    /// <summary>A BatchWriteItem answer that leaves <paramref name="decision"/> unprocessed (DynamoDB API reference, BatchWriteItem response).</summary>
    private static string Unprocessed(string table, StoredDecision decision)
    {
        var item = new JsonObject
        {
            [DynamoDbDecisionTable.TraceIdAttribute] = new JsonObject { ["S"] = decision.TraceId },
            [DynamoDbDecisionTable.KeepAttribute] = new JsonObject { ["BOOL"] = decision.Keep },
            [DynamoDbDecisionTable.ReasonAttribute] = new JsonObject { ["S"] = decision.Reason },
            [DynamoDbDecisionTable.DecidedAtAttribute] = new JsonObject { ["N"] = decision.DecidedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) },
            [DynamoDbDecisionTable.ExpiresAtAttribute] = new JsonObject { ["N"] = decision.ExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) },
        };
        return new JsonObject
        {
            ["UnprocessedItems"] = new JsonObject { [table] = new JsonArray(new JsonObject { ["PutRequest"] = new JsonObject { ["Item"] = item } }) },
        }.ToJsonString();
    }

    private async Task<string> CreateDecisionTableAsync()
    {
        var name = MotoFixture.UniqueName("decisions");
        await MotoAws.Clients(moto).DynamoDb.CreateTableAsync(
            new CreateTableRequest
            {
                TableName = name,
                KeySchema = [new KeySchemaElement(DynamoDbDecisionTable.TraceIdAttribute, KeyType.HASH)],
                AttributeDefinitions = [new AttributeDefinition(DynamoDbDecisionTable.TraceIdAttribute, ScalarAttributeType.S)],
                BillingMode = BillingMode.PAY_PER_REQUEST,
            },
            _ct);
        return name;
    }

    private AwsClients ViaProxy(BackoffOptions retry)
    {
        var variables = new Dictionary<string, string>(moto.EnvironmentVariables) { [AwsSettings.EndpointUrlVariable] = Proxy.Endpoint.ToString() };
        return AwsClients.Create(AwsSettings.FromEnvironment(new DictionaryEnvironment(variables)) with { Retry = retry }, MotoAws.Http);
    }

    private long Count(string counter, string operation) => (long)_counters.Collect()
        .Where(p => p.Name == counter && p.Tags.Any(t => t.Key == PipelineMetrics.OperationTag && t.Value == operation))
        .Sum(p => p.Value);
}

/// <summary>Runs alone: the shared meter's counters must move only for its own calls.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SdkBackoffGroup
{
    public const string Name = "sdk backoff";
}
