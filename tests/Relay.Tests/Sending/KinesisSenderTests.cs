using Pipeline.Aws.Kinesis;
using Relay.Logging;
using Relay.Sending;
using Relay.Telemetry;
using Relay.Tests.Support;

namespace Relay.Tests.Sending;

public sealed class KinesisSenderTests
{
    private readonly FakeKinesis _kinesis = new();
    private readonly RelayMetrics _metrics = new();

    private KinesisSender Sender(SenderPolicy? policy = null) =>
        new(_kinesis, "s", _metrics, JsonLog.Null, TimeProvider.System, new Random(1), policy ?? TestRelay.FastPolicy);

    private static List<BatchEntry> Entries(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new BatchEntry(Segments.TraceId(i), null, new[] { (byte)i }, 1))];

    [Fact]
    public async Task SendAsync_AllAccepted_SendsOnceAndCounts()
    {
        var outcome = await Sender().SendAsync(Entries(10), 3, TestContext.Current.CancellationToken);

        outcome.Status.Should().Be(SendStatus.Sent);
        _kinesis.Calls.Should().Be(1);
        _kinesis.Stored.Should().HaveCount(10);
        _metrics.Forwarded.Should().Be(10);
        _metrics.PutRecordsCalls.Should().Be(1);
    }

    [Fact]
    public async Task SendAsync_PartialFailure_RetriesOnlyTheFailedRecords()
    {
        // First call: every third record throttled; later calls accept everything.
        _kinesis.RecordFailure = (call, index, _) => call == 1 && index % 3 == 0 ? "ProvisionedThroughputExceededException" : null;

        var outcome = await Sender().SendAsync(Entries(9), 3, TestContext.Current.CancellationToken);

        outcome.Status.Should().Be(SendStatus.Sent);
        _kinesis.CallSizes.Should().Equal(9, 3);
        _kinesis.Stored.Select(r => (int)r.Data.Span[0]).Order().Should().Equal(Enumerable.Range(0, 9));
        _kinesis.Stored.Should().HaveCount(9, "each record is stored exactly once");
        _metrics.Retried.Should().Be(3);
        _metrics.Throttled.Should().Be(3);
        _metrics.Forwarded.Should().Be(9);
    }

    [Fact]
    public async Task SendAsync_Throttled_SlowsTheSender()
    {
        _kinesis.RecordFailure = (call, index, _) => call <= 2 ? "ProvisionedThroughputExceededException" : null;
        var sender = Sender();

        await sender.SendAsync(Entries(2), 3, TestContext.Current.CancellationToken);

        _kinesis.Calls.Should().Be(3);
        sender.Pace.Should().BeGreaterThan(TimeSpan.Zero, "throttling leaves a pace that later calls wait for");
        _metrics.Throttled.Should().Be(4);
    }

    [Fact]
    public async Task SendAsync_PaceDecaysAfterCleanCalls()
    {
        _kinesis.RecordFailure = (call, _, _) => call == 1 ? "ProvisionedThroughputExceededException" : null;
        var sender = Sender(TestRelay.FastPolicy with { PartialRetries = 0 });
        await sender.SendAsync(Entries(1), 3, TestContext.Current.CancellationToken);
        var paced = sender.Pace;

        for (var i = 0; i < 5; i++)
        {
            await sender.SendAsync(Entries(1), 3, TestContext.Current.CancellationToken);
        }

        paced.Should().BeGreaterThan(TimeSpan.Zero);
        sender.Pace.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task SendAsync_InternalFailure_IsRetriedToo()
    {
        _kinesis.RecordFailure = (call, index, _) => call == 1 && index == 1 ? "InternalFailure" : null;

        var outcome = await Sender().SendAsync(Entries(3), 3, TestContext.Current.CancellationToken);

        outcome.Status.Should().Be(SendStatus.Sent);
        _kinesis.CallSizes.Should().Equal(3, 1);
        _metrics.Throttled.Should().Be(0);
    }

    [Fact]
    public async Task SendAsync_WholeCallsFail_GivesEverythingBackAsUnavailable()
    {
        _kinesis.CallFailure = _ => new HttpRequestException("connection refused");
        var entries = Entries(4);

        var outcome = await Sender().SendAsync(entries, 3, TestContext.Current.CancellationToken);

        outcome.Status.Should().Be(SendStatus.Unavailable);
        outcome.Unsent.Should().Equal(entries);
        _kinesis.Calls.Should().Be(3);
    }

    [Fact]
    public async Task SendAsync_TransientCallFailure_RecoversWithinAttempts()
    {
        _kinesis.CallFailure = call => call == 1 ? new HttpRequestException("reset") : null;

        var outcome = await Sender().SendAsync(Entries(4), 3, TestContext.Current.CancellationToken);

        outcome.Status.Should().Be(SendStatus.Sent);
        _kinesis.Stored.Should().HaveCount(4);
    }

    [Fact]
    public async Task SendAsync_RecordsFailForever_GivesUpAfterBoundedRounds()
    {
        _kinesis.RecordFailure = (_, index, _) => index == 0 ? "ProvisionedThroughputExceededException" : null;
        var policy = TestRelay.FastPolicy with { PartialRetries = 2 };

        var outcome = await Sender(policy).SendAsync(Entries(3), 3, TestContext.Current.CancellationToken);

        outcome.Status.Should().Be(SendStatus.Unavailable);
        outcome.Unsent.Should().ContainSingle().Which.PartitionKey.Should().Be(Segments.TraceId(0));
        _kinesis.Calls.Should().Be(3);
        _metrics.Forwarded.Should().Be(2);
    }

    [Fact]
    public async Task SendAsync_WholeCallThrottled_SlowsAndRetriesWithoutDeclaringAnOutage()
    {
        _kinesis.CallFailure = call => call <= 4
            ? new Pipeline.Aws.Http.ProvisionedThroughputExceededException("kinesis", "ProvisionedThroughputExceededException", System.Net.HttpStatusCode.BadRequest, null, "slow down")
            : null;
        var sender = Sender();

        var outcome = await sender.SendAsync(Entries(3), 3, TestContext.Current.CancellationToken);

        outcome.Status.Should().Be(SendStatus.Sent, "throttling is not an outage, however many calls it takes within the bound");
        _kinesis.Calls.Should().Be(5);
        _metrics.Throttled.Should().Be(12);
        _metrics.Forwarded.Should().Be(3);
    }

    [Fact]
    public async Task SendAsync_Cancelled_ReturnsWhatIsUnsent()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var outcome = await Sender().SendAsync(Entries(2), 3, cancelled.Token);

        outcome.Status.Should().Be(SendStatus.Cancelled);
        outcome.Unsent.Should().HaveCount(2);
        _kinesis.Calls.Should().Be(0);
    }

    [Fact]
    public async Task SendAsync_ResultCountMismatch_IsACallFailure()
    {
        var kinesis = new MismatchedKinesis();
        var sender = new KinesisSender(kinesis, "s", _metrics, JsonLog.Null, TimeProvider.System, new Random(1), TestRelay.FastPolicy);

        var outcome = await sender.SendAsync(Entries(2), 2, TestContext.Current.CancellationToken);

        outcome.Status.Should().Be(SendStatus.Unavailable);
    }

    private sealed class MismatchedKinesis : IKinesisClient
    {
        public Task<PutRecordsResult> PutRecordsAsync(string streamName, IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default) =>
            Task.FromResult(new PutRecordsResult(0, [new PutRecordsResultEntry("1", "shardId-0", null, null)]));

        public Task CreateStreamAsync(string streamName, int shardCount, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<StreamSummary> DescribeStreamSummaryAsync(string streamName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<Shard>> ListShardsAsync(string streamName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<string> GetShardIteratorAsync(string streamName, string shardId, ShardIteratorType type, string? startingSequenceNumber = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<GetRecordsResult> GetRecordsAsync(string shardIterator, int limit = 10000, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
