using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Functions.Events;
using Pipeline.Lambda;
using Pipeline.LocalAws.Esm;

namespace Pipeline.LocalAws.Tests.Esm;

/// <summary>The local event-source mapping against an in-memory stream and a scripted function.</summary>
public sealed class EventSourceMappingTests
{
    private const string Stream = "test-stream";
    private const string StreamArn = "arn:aws:kinesis:us-east-1:123456789012:stream/test-stream";

    private static readonly EventSourceMappingOptions Fast = new()
    {
        BatchSize = 100,
        BatchingWindow = TimeSpan.Zero,
        PollInterval = TimeSpan.FromMilliseconds(5),
        RetryDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(5),
        DrainTimeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task Mapping_AllSucceed_DeliversEveryRecordOncePerShardInOrder_AsTheRealEvent()
    {
        var kinesis = new FakeKinesis(shards: 2);
        kinesis.Put(kinesis.ShardIds[0], "a1", "a2", "a3", "a4", "a5");
        kinesis.Put(kinesis.ShardIds[1], "b1", "b2", "b3");
        var function = new ScriptedFunction((_, _) => []);

        await using (var mapping = Start(kinesis, function, Fast))
        {
            await mapping.StartAsync(TestContext.Current.CancellationToken);
            await Until(() => mapping.Counters.Acknowledged == 8);
        }

        function.Delivered(kinesis.ShardIds[0]).Should().Equal("a1", "a2", "a3", "a4", "a5");
        function.Delivered(kinesis.ShardIds[1]).Should().Equal("b1", "b2", "b3");
        var record = function.Events.SelectMany(e => e.Records).First(r => r.ShardId == kinesis.ShardIds[1]);
        record.EventSourceArn.Should().Be(StreamArn);
        record.EventId.Should().Be($"{kinesis.ShardIds[1]}:{record.Kinesis.SequenceNumber}");
        record.Kinesis.PartitionKey.Should().Be("pk-b1");
        record.EventSource.Should().Be("aws:kinesis");
        record.EventName.Should().Be("aws:kinesis:record");
        record.Kinesis.ApproximateArrivalTimestamp.Should().Be(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public async Task Mapping_BatchItemFailure_CheckpointsBeforeIt_AndRedeliversFromTheFailedRecord()
    {
        var kinesis = new FakeKinesis(shards: 1);
        kinesis.Put(kinesis.ShardIds[0], "r1", "r2", "r3", "r4", "r5", "r6");
        var function = new ScriptedFunction((e, call) => call == 1 ? [e.Records[2].Kinesis.SequenceNumber, e.Records[4].Kinesis.SequenceNumber] : []);

        await using (var mapping = Start(kinesis, function, Fast))
        {
            await mapping.StartAsync(TestContext.Current.CancellationToken);
            await Until(() => mapping.Counters.Acknowledged == 6);
            mapping.Counters.Count(DeliveryOutcome.PartialFailure).Should().Be(1);
        }

        function.Batches.Should().HaveCount(2);
        function.Batches[0].Should().Equal("r1", "r2", "r3", "r4", "r5", "r6");
        function.Batches[1].Should().Equal("r3", "r4", "r5", "r6");
    }

    [Fact]
    public async Task Mapping_FunctionError_RetriesTheSameStartBisected()
    {
        var kinesis = new FakeKinesis(shards: 1);
        kinesis.Put(kinesis.ShardIds[0], "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8");
        var function = new ScriptedFunction((_, call) => call == 1 ? throw new InvalidOperationException("boom") : []);

        await using (var mapping = Start(kinesis, function, Fast))
        {
            await mapping.StartAsync(TestContext.Current.CancellationToken);
            await Until(() => mapping.Counters.Acknowledged == 8);
            mapping.Counters.Count(DeliveryOutcome.FunctionError).Should().Be(1);
        }

        function.Batches[0].Should().HaveCount(8);
        function.Batches[1].Should().Equal("r1", "r2", "r3", "r4");
        function.Batches.Skip(1).SelectMany(b => b).Should().Equal("r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8");
    }

    [Fact]
    public async Task Mapping_BadItemIdentifier_RetriesTheWholeBatch()
    {
        var kinesis = new FakeKinesis(shards: 1);
        kinesis.Put(kinesis.ShardIds[0], "r1", "r2", "r3");
        var function = new ScriptedFunction((_, call) => call == 1 ? ["no-such-sequence"] : []);

        await using (var mapping = Start(kinesis, function, Fast))
        {
            await mapping.StartAsync(TestContext.Current.CancellationToken);
            await Until(() => mapping.Counters.Acknowledged == 3);
            mapping.Counters.Count(DeliveryOutcome.BadItemIdentifier).Should().Be(1);
        }

        function.Batches.Should().HaveCount(2).And.AllSatisfy(b => b.Should().Equal("r1", "r2", "r3"));
    }

    [Fact]
    public async Task Mapping_RetriesExhausted_DiscardsTheFailingRecordsAndCarriesOn()
    {
        var kinesis = new FakeKinesis(shards: 1);
        kinesis.Put(kinesis.ShardIds[0], "r1", "poison", "r3");
        var function = new ScriptedFunction((e, _) => [.. e.Records.Where(r => Encoding.UTF8.GetString(r.Kinesis.Data.Span) == "poison").Select(r => r.Kinesis.SequenceNumber)]);
        var options = Fast with { MaxRetryAttempts = 2 };

        await using (var mapping = Start(kinesis, function, options))
        {
            await mapping.StartAsync(TestContext.Current.CancellationToken);
            await Until(() => mapping.Counters.DiscardedRecords > 0);
            kinesis.Put(kinesis.ShardIds[0], "r4");
            await Until(() => function.Delivered(kinesis.ShardIds[0]).Contains("r4"));
            mapping.Counters.DiscardedRecords.Should().Be(2, "the failed record and the rest of its batch go to the on-failure path");
            mapping.Counters.Count(DeliveryOutcome.Discarded).Should().Be(1);
        }

        function.Batches.Should().HaveCount(4, "the first attempt and two retries (MaximumRetryAttempts 2), then r4");
        function.Batches[^1].Should().Equal("r4");
    }

    [Fact]
    public async Task Mapping_ReadErrors_AreCountedAndPollingRecovers()
    {
        var kinesis = new FakeKinesis(shards: 1);
        kinesis.Put(kinesis.ShardIds[0], "r1", "r2");
        kinesis.FailNextGetRecords(2);
        var function = new ScriptedFunction((_, _) => []);

        await using (var mapping = Start(kinesis, function, Fast with { MaxRetryDelay = TimeSpan.FromMilliseconds(1) }))
        {
            await mapping.StartAsync(TestContext.Current.CancellationToken);
            await Until(() => mapping.Counters.Acknowledged == 2);
            mapping.Counters.Count(DeliveryOutcome.ReadError).Should().Be(2);
        }

        function.Delivered(kinesis.ShardIds[0]).Should().Equal("r1", "r2");
    }

    [Fact]
    public async Task Mapping_Stop_DeliversWhatIsInTheStreamWithoutWaitingForTheWindow()
    {
        var kinesis = new FakeKinesis(shards: 2);
        var function = new ScriptedFunction((_, _) => []);
        var mapping = Start(kinesis, function, Fast with { BatchingWindow = TimeSpan.FromHours(1) });
        await mapping.StartAsync(TestContext.Current.CancellationToken);
        kinesis.Put(kinesis.ShardIds[0], "a1", "a2");
        kinesis.Put(kinesis.ShardIds[1], "b1");

        await mapping.StopAsync();
        await mapping.DisposeAsync();

        function.Delivered(kinesis.ShardIds[0]).Should().Equal("a1", "a2");
        function.Delivered(kinesis.ShardIds[1]).Should().Equal("b1");
        mapping.Counters.Acknowledged.Should().Be(3);
    }

    [Fact]
    public async Task Mapping_BatchSize_BoundsEveryInvocation()
    {
        var kinesis = new FakeKinesis(shards: 1);
        kinesis.Put(kinesis.ShardIds[0], [.. Enumerable.Range(1, 25).Select(i => $"r{i}")]);
        var function = new ScriptedFunction((_, _) => []);

        await using (var mapping = Start(kinesis, function, Fast with { BatchSize = 10 }))
        {
            await mapping.StartAsync(TestContext.Current.CancellationToken);
            await Until(() => mapping.Counters.Acknowledged == 25);
        }

        function.Batches.Should().AllSatisfy(b => b.Count.Should().BeLessThanOrEqualTo(10));
        function.Delivered(kinesis.ShardIds[0]).Should().HaveCount(25).And.OnlyHaveUniqueItems();
    }

    private static EventSourceMapping Start(FakeKinesis kinesis, ScriptedFunction function, EventSourceMappingOptions options) =>
        new(kinesis, Stream, StreamArn, "us-east-1", _ => ValueTask.FromResult<ILambdaHandler>(function), options, TimeProvider.System, NullLogger.Instance);

    /// <summary>Waits (bounded) for a condition the mapping reaches asynchronously.</summary>
    private static async Task Until(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20), "the mapping should get there");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// A function that parses each event with the functions' own event model (so the JSON shape is
    /// checked) and answers with the batchItemFailures the script names for that call (1-based).
    /// </summary>
    private sealed class ScriptedFunction(Func<KinesisEvent, int, IReadOnlyList<string>> script) : ILambdaHandler
    {
        private readonly ConcurrentQueue<KinesisEvent> _events = new();
        private int _calls;

        public IReadOnlyList<KinesisEvent> Events => [.. _events];

        public IReadOnlyList<List<string>> Batches => [.. _events.Select(e => e.Records.Select(Payload).ToList())];

        /// <summary>Payloads delivered from a shard, in first-delivery order (a re-delivered record counts once).</summary>
        public IReadOnlyList<string> Delivered(string shardId) =>
            [.. _events.SelectMany(e => e.Records).Where(r => r.ShardId == shardId).DistinctBy(r => r.Kinesis.SequenceNumber).Select(Payload)];

        public async Task<Stream> HandleAsync(Stream input, InvocationContext context)
        {
            var kinesisEvent = (await JsonSerializer.DeserializeAsync(input, EventsJsonContext.Default.KinesisEvent, context.CancellationToken))!;
            _events.Enqueue(kinesisEvent);
            var failures = script(kinesisEvent, Interlocked.Increment(ref _calls));
            var response = new KinesisBatchResponse { BatchItemFailures = [.. failures.Select(f => new BatchItemFailure(f))] };
            return new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(response, EventsJsonContext.Default.KinesisBatchResponse));
        }

        private static string Payload(KinesisEventRecord record) => Encoding.UTF8.GetString(record.Kinesis.Data.Span);
    }
}
