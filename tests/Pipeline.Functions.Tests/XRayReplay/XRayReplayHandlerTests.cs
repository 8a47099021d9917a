using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Functions.Tests.Ingest;
using Pipeline.Functions.XRayReplay;
using Pipeline.Runtime.Resilience;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.XRayReplay;

public sealed class XRayReplayHandlerTests
{
    private const string Bucket = "archive-bucket";
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestInvocation.Clock();
    private readonly InMemoryObjectStore _store;
    private readonly FakeXRay _xray = new();

    public XRayReplayHandlerTests() => _store = new InMemoryObjectStore(_time);

    [Fact]
    public async Task Replay_AllAccepted_ResentInCallsOfAtMost50AndDeleted()
    {
        var documents = Park("xray-retry/dt=2026-11-25/shardId-000000000000-1.ndjson", 60);

        var result = await Handler().RunAsync(() => true, NullLogger.Instance, TestContext.Current.CancellationToken);

        _xray.Calls.Select(c => c.Count).Should().Equal(50, 10);
        _xray.Accepted.Should().Equal(documents);
        result.Resent.Should().Be(60);
        result.Deleted.Should().Be(1);
        _store.Keys.Should().BeEmpty();
    }

    [Fact]
    public async Task Replay_SomeStillRefused_ObjectStaysForTheNextRun()
    {
        var documents = Park("xray-retry/dt=2026-11-25/a.ndjson", 3);
        _xray.AlwaysRefuse.Add(Id(documents[2]));

        var result = await Handler().RunAsync(() => true, NullLogger.Instance, TestContext.Current.CancellationToken);

        result.Resent.Should().Be(2);
        result.Remaining.Should().Be(1);
        _store.Keys.Should().ContainSingle();
    }

    [Fact]
    public async Task Replay_XRayDown_StopsAtTheFirstObjectAndKeepsEverything()
    {
        Park("xray-retry/dt=2026-11-25/a.ndjson", 2);
        Park("xray-retry/dt=2026-11-25/b.ndjson", 2);
        _xray.Down = true;

        var result = await Handler().RunAsync(() => true, NullLogger.Instance, TestContext.Current.CancellationToken);

        _xray.Calls.Should().ContainSingle();
        result.Remaining.Should().Be(2);
        _store.Keys.Should().HaveCount(2);
    }

    [Fact]
    public async Task Replay_ObjectOlderThanMaxAge_DeletedUnsent()
    {
        Park("xray-retry/dt=2026-11-10/old.ndjson", 2, modified: _time.GetUtcNow().AddDays(-8));

        var result = await Handler().RunAsync(() => true, NullLogger.Instance, TestContext.Current.CancellationToken);

        result.Expired.Should().Be(1);
        _xray.Calls.Should().BeEmpty();
        _store.Keys.Should().BeEmpty();
    }

    [Fact]
    public async Task Replay_BoundedPerRun_LeavesTheRestForLater()
    {
        Park("xray-retry/dt=2026-11-25/a.ndjson", 3);
        Park("xray-retry/dt=2026-11-25/b.ndjson", 3);
        Park("xray-retry/dt=2026-11-25/c.ndjson", 3);
        var handler = new XRayReplayHandler(new XRayReplayOptions { ArchiveBucket = Bucket, MaxObjectsPerRun = 2, MaxDocumentsPerRun = 4, XRayResend = new BackoffOptions { MaxAttempts = 4, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero } }, _store, _store, _xray, _time);

        var result = await handler.RunAsync(() => true, NullLogger.Instance, TestContext.Current.CancellationToken);

        result.Objects.Should().Be(2);
        result.Deleted.Should().Be(1);
        result.Remaining.Should().Be(1);
        _store.Keys.Should().HaveCount(2);
    }

    [Fact]
    public async Task Replay_HandleAsync_AnswersTheSummaryAsJson()
    {
        Park("xray-retry/dt=2026-11-25/a.ndjson", 1);
        using var input = new MemoryStream("{}"u8.ToArray());

        await using var output = await Handler().HandleAsync(input, TestInvocation.Context(_time));

        var json = await new StreamReader(output).ReadToEndAsync(TestContext.Current.CancellationToken);
        json.Should().Contain("\"resent\":1").And.Contain("\"deleted\":1");
    }

    private XRayReplayHandler Handler() =>
        new(new XRayReplayOptions { ArchiveBucket = Bucket, XRayResend = new BackoffOptions { MaxAttempts = 4, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero } }, _store, _store, _xray, _time);

    private List<string> Park(string key, int count, DateTimeOffset? modified = null)
    {
        var documents = Enumerable.Range(0, count).Select(i => SegmentBuilder.Segment(seed: key.Sum(c => c) + i).ToJson()).ToList();
        _store.Put(Bucket, key, Encoding.UTF8.GetBytes(string.Join('\n', documents) + "\n"), modified ?? _time.GetUtcNow());
        return documents;
    }

    private static string Id(string document) => System.Text.Json.JsonDocument.Parse(document).RootElement.GetProperty("id").GetString()!;
}
