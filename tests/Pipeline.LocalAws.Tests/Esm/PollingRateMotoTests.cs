using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Kinesis;
using Pipeline.Lambda;
using Pipeline.LocalAws.Esm;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.Testing.Faults;

namespace Pipeline.LocalAws.Tests.Esm;

/// <summary>
/// How often the local mapping calls GetRecords, counted per shard from what a recording proxy in
/// front of moto saw (each GetRecords is traced to its shard through the iterators the answers
/// handed out). The assertions are upper bounds that hold however slow the machine is: a slow run
/// makes fewer calls, never more.
/// </summary>
public sealed class PollingRateMotoTests : IClassFixture<MotoFixture>
{
    private const string GetRecords = "Kinesis_20131202.GetRecords";
    private const string GetShardIterator = "Kinesis_20131202.GetShardIterator";
    private const int Puts = 30;
    private const int RecordsPerPut = 4;
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly MotoFixture _moto;

    public PollingRateMotoTests(MotoFixture moto) => _moto = moto;

    [Fact]
    public async Task TwoConsumersUnderLoad_ShareAtMostFiveGetRecordsPerSecondPerShard()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var proxy = await FaultProxy.StartRecordingAsync(_moto.Endpoint, cancellationToken: ct);
        using var aws = Clients(proxy.Endpoint);
        var stream = await CreateStreamAsync(aws.Kinesis, shards: 2, ct);
        var limiter = new ShardReadLimiter(TimeProvider.System);
        var first = new CountingFunction();
        var second = new CountingFunction();
        // No batching window: each consumer reads again as soon as it delivered, so only the limit holds it back.
        var options = new EventSourceMappingOptions { BatchSize = 5, BatchingWindow = TimeSpan.Zero };

        var clock = Stopwatch.StartNew();
        var one = Mapping(aws.Kinesis, stream, first, options, limiter);
        var two = Mapping(aws.Kinesis, stream, second, options, limiter);
        await one.StartAsync(ct);
        await two.StartAsync(ct);
        for (var i = 0; i < Puts; i++)
        {
            // Bounded load from one writer (moto loses records under concurrent PutRecords).
            await aws.Kinesis.PutRecordsAsync(
                stream, [.. Enumerable.Range(0, RecordsPerPut).Select(j => new PutRecordsEntry(Encoding.UTF8.GetBytes($"r{i}-{j}"), $"pk-{i}-{j}"))], ct);
            await Task.Delay(100, ct);
        }

        await one.DisposeAsync();
        await two.DisposeAsync();
        var elapsed = clock.Elapsed;

        var perShard = ReadsPerShard(proxy.Exchanges);
        perShard.Should().HaveCount(2);
        foreach (var (shard, reads) in perShard)
        {
            reads.Should().BeLessThanOrEqualTo(
                (int)(ShardReadLimiter.ReadsPerSecondPerShard * (Math.Ceiling(elapsed.TotalSeconds) + 1)),
                $"{shard} may be read 5 times a second by both consumers together over {elapsed.TotalSeconds:F1} s");
        }

        limiter.Waits.Should().BePositive("the consumers asked for more than the limit, so the test exercised it");
        first.Received.Should().Be(Puts * RecordsPerPut, "each consumer reads every record of the stream once");
        second.Received.Should().Be(Puts * RecordsPerPut);
    }

    [Fact]
    public async Task IdleShards_ArePolledAboutOnceASecond()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var proxy = await FaultProxy.StartRecordingAsync(_moto.Endpoint, cancellationToken: ct);
        using var aws = Clients(proxy.Endpoint);
        var stream = await CreateStreamAsync(aws.Kinesis, shards: 2, ct);

        var clock = Stopwatch.StartNew();
        var mapping = Mapping(aws.Kinesis, stream, new CountingFunction(), new EventSourceMappingOptions(), new ShardReadLimiter(TimeProvider.System));
        await mapping.StartAsync(ct);
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        await mapping.DisposeAsync();
        var elapsed = clock.Elapsed;

        var perShard = ReadsPerShard(proxy.Exchanges);
        perShard.Should().HaveCount(2);
        // One read a second, plus the read that stopping starts at once (it drains what is left).
        perShard.Values.Should().AllSatisfy(reads => reads.Should().BeInRange(1, (int)Math.Ceiling(elapsed.TotalSeconds) + 2,
            $"an idle shard is polled once a second ({elapsed.TotalSeconds:F1} s); the old emulator polled 4 times a second"));
    }

    /// <summary>GetRecords calls per shard: each call's iterator came from an earlier answer (GetShardIterator or GetRecords) about that shard.</summary>
    private static Dictionary<string, int> ReadsPerShard(IReadOnlyList<RecordedExchange> exchanges)
    {
        var shardOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var reads = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var exchange in exchanges.Where(e => e.Status == 200))
        {
            if (exchange.Target == GetShardIterator)
            {
                var request = JsonNode.Parse(exchange.Body)!;
                shardOf[(string)JsonNode.Parse(exchange.ResponseBody)!["ShardIterator"]!] = (string)request["ShardId"]!;
            }
            else if (exchange.Target == GetRecords)
            {
                var shard = shardOf[(string)JsonNode.Parse(exchange.Body)!["ShardIterator"]!];
                reads[shard] = reads.GetValueOrDefault(shard) + 1;
                if ((string?)JsonNode.Parse(exchange.ResponseBody)!["NextShardIterator"] is { } next)
                {
                    shardOf[next] = shard;
                }
            }
        }

        return reads;
    }

    private static AwsClients Clients(Uri endpoint) => AwsClients.Create(
        AwsSettings.FromEnvironment(new DictionaryEnvironment(new Dictionary<string, string>
        {
            [AwsSettings.EndpointUrlVariable] = endpoint.ToString(),
            [AwsSettings.RegionVariable] = "us-east-1",
            [AwsSettings.AccessKeyIdVariable] = "testing",
            [AwsSettings.SecretAccessKeyVariable] = "testing",
        })),
        Http);

    private static async Task<string> CreateStreamAsync(IKinesisClient kinesis, int shards, CancellationToken ct)
    {
        var name = MotoFixture.UniqueName("esm-rate");
        await kinesis.CreateStreamAsync(name, shards, ct);
        return name;
    }

    private static EventSourceMapping Mapping(IKinesisClient kinesis, string stream, CountingFunction function, EventSourceMappingOptions options, ShardReadLimiter limiter) =>
        new(kinesis, stream, $"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}", "us-east-1",
            _ => ValueTask.FromResult<ILambdaHandler>(function), options, TimeProvider.System, NullLogger.Instance)
        {
            ReadLimiter = limiter,
        };

    /// <summary>A function that succeeds and counts the records it was given.</summary>
    private sealed class CountingFunction : ILambdaHandler
    {
        private int _records;

        public int Received => Volatile.Read(ref _records);

        public async Task<Stream> HandleAsync(Stream input, InvocationContext context)
        {
            var json = await JsonNode.ParseAsync(input, cancellationToken: context.CancellationToken);
            Interlocked.Add(ref _records, json!["Records"]!.AsArray().Count);
            return new MemoryStream("{}"u8.ToArray());
        }
    }
}
