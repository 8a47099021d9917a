using Microsoft.Extensions.Time.Testing;
using Pipeline.LocalAws.Esm;

namespace Pipeline.LocalAws.Tests.Esm;

/// <summary>The shard read limit on a fake clock: 5 GetRecords per second per shard, shared by every reader of the limiter.</summary>
public sealed class ShardReadLimiterTests
{
    [Fact]
    public async Task Acquire_SixthReadOfASecond_WaitsUntilTheFirstLeavesTheWindow()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        var limiter = new ShardReadLimiter(time);
        var ct = TestContext.Current.CancellationToken;

        for (var i = 0; i < ShardReadLimiter.ReadsPerSecondPerShard; i++)
        {
            limiter.AcquireAsync("shard-0", ct).IsCompletedSuccessfully.Should().BeTrue($"read {i + 1} is within the limit");
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        var sixth = limiter.AcquireAsync("shard-0", ct);
        var otherShard = limiter.AcquireAsync("shard-1", ct);

        otherShard.IsCompletedSuccessfully.Should().BeTrue("each shard has its own limit");
        sixth.IsCompleted.Should().BeFalse("five reads were granted in the last second");
        time.Advance(TimeSpan.FromMilliseconds(499));
        sixth.IsCompleted.Should().BeFalse("the first read was granted 999 ms ago");
        time.Advance(TimeSpan.FromMilliseconds(1));
        await sixth;
        limiter.Waits.Should().Be(1);
    }

    [Fact]
    public void Acquire_TwoConsumersOfOneLimiter_ShareTheShardsFiveReads()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        var shared = new ShardReadLimiter(time);
        var ct = TestContext.Current.CancellationToken;

        // Two consumers ask in turn; the shard's budget does not care who asks.
        var granted = Enumerable.Range(0, 8)
            .Select(i => shared.AcquireAsync("shard-0", ct))
            .Count(t => t.IsCompletedSuccessfully);

        granted.Should().Be(ShardReadLimiter.ReadsPerSecondPerShard);
    }
}
