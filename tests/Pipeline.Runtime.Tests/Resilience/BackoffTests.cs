using Microsoft.Extensions.Time.Testing;
using Pipeline.Runtime.Resilience;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Runtime.Tests.Resilience;

public sealed class BackoffTests
{
    private static readonly BackoffOptions ThreeAttempts = new() { MaxAttempts = 3, BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10) };

    [Fact]
    public void DelayFor_ManySamples_StayInBoundsAndAreNotAllEqual()
    {
        var backoff = new Backoff(new BackoffOptions { MaxAttempts = 10, BaseDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromSeconds(2) }, new Random(42));

        for (var retry = 1; retry <= 8; retry++)
        {
            var cap = backoff.CapFor(retry);
            var samples = Enumerable.Range(0, 200).Select(_ => backoff.DelayFor(retry)).ToList();
            samples.Should().AllSatisfy(d => d.Should().BeGreaterThanOrEqualTo(cap / 2).And.BeLessThanOrEqualTo(cap));
            samples.Distinct().Count().Should().BeGreaterThan(100, "jitter spreads the waits");
        }
    }

    [Fact]
    public void CapFor_DoublesFromTheBaseAndStopsAtTheMaximum()
    {
        var backoff = new Backoff(new BackoffOptions { MaxAttempts = 40, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(20) });

        Enumerable.Range(1, 9).Select(backoff.CapFor).Select(c => c.TotalMilliseconds)
            .Should().Equal(100, 200, 400, 800, 1600, 3200, 6400, 12800, 20000);
        backoff.CapFor(40).Should().Be(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void DifferentSeeds_GiveDifferentWaits()
    {
        var options = new BackoffOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(1) };

        new Backoff(options, new Random(1)).DelayFor(1).Should().NotBe(new Backoff(options, new Random(2)).DelayFor(1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Backoff_MaxAttemptsBelowOne_IsRejected(int attempts)
    {
        var act = () => new Backoff(new BackoffOptions { MaxAttempts = attempts });

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task RunAsync_TransientThenSuccess_RetriesWithJitteredWaitsAndCountsEachRetry()
    {
        using var counts = new CounterRecorder();
        var time = new FakeTimeProvider();
        var backoff = new Backoff(ThreeAttempts, new Random(3));
        var attempts = new List<int>();

        var run = backoff.RunAsync("test.Transient", (n, _) =>
        {
            attempts.Add(n);
            return n < 3 ? Task.FromException<int>(new IOException("reset")) : Task.FromResult(n);
        }, ex => ex is IOException, time, TestContext.Current.CancellationToken);
        for (var i = 0; i < 50 && !run.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
        }

        (await run).Should().Be(3);
        attempts.Should().Equal(1, 2, 3);
        counts.Total("pipeline.retries", "test.Transient").Should().Be(2);
        counts.Total("pipeline.retry_give_ups", "test.Transient").Should().Be(0);
    }

    [Fact]
    public async Task RunAsync_NotRetryable_FailsAtOnceWithoutCounting()
    {
        using var counts = new CounterRecorder();
        var backoff = new Backoff(ThreeAttempts);
        var calls = 0;

        var act = () => backoff.RunAsync<int>("test.Final", (_, _) => { calls++; throw new InvalidOperationException("bad request"); }, ex => ex is IOException, new FakeTimeProvider(), TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<InvalidOperationException>();
        calls.Should().Be(1);
        counts.Total("pipeline.retries", "test.Final").Should().Be(0);
        counts.Total("pipeline.retry_give_ups", "test.Final").Should().Be(0);
    }

    [Fact]
    public async Task RunAsync_AttemptsUsedUp_GivesUpWithTheLastErrorAndCountsIt()
    {
        using var counts = new CounterRecorder();
        var backoff = new Backoff(ThreeAttempts with { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero });
        var calls = 0;

        var act = () => backoff.RunAsync<int>("test.Down", (n, _) => { calls++; throw new IOException($"attempt {n}"); }, ex => ex is IOException, new FakeTimeProvider(), TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<IOException>().WithMessage("attempt 3");
        calls.Should().Be(3);
        counts.Total("pipeline.retries", "test.Down").Should().Be(2);
        counts.Total("pipeline.retry_give_ups", "test.Down").Should().Be(1);
    }

    [Fact]
    public async Task RunAsync_NextWaitWouldPassTheDeadline_GivesUpBeforeWaiting()
    {
        using var counts = new CounterRecorder();
        var time = new FakeTimeProvider();
        // The first wait is at least 0.5 s (half the 1 s cap): a deadline 100 ms away allows none.
        var backoff = new Backoff(ThreeAttempts);
        var calls = 0;

        var act = () => backoff.RunAsync<int>("test.Deadline", (_, _) => { calls++; throw new IOException("slow down"); }, ex => ex is IOException, time, TestContext.Current.CancellationToken, deadline: time.GetUtcNow().AddMilliseconds(100));

        await act.Should().ThrowAsync<IOException>();
        calls.Should().Be(1, "a Lambda's remaining time bounds the retries");
        counts.Total("pipeline.retry_give_ups", "test.Deadline").Should().Be(1);
    }

    [Fact]
    public void TryNextDelay_WithinAttemptsAndDeadline_GivesTheWait()
    {
        var backoff = new Backoff(ThreeAttempts, new Random(5));
        var now = DateTimeOffset.UnixEpoch;

        backoff.TryNextDelay(1, now, now.AddMinutes(1), out var delay).Should().BeTrue();
        delay.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(500)).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(1));
        backoff.TryNextDelay(3, now, deadline: null, out _).Should().BeFalse("three attempts were allowed");
    }

    /// <summary>Listens to the Pipeline meter and sums each counter by its operation tag.</summary>
    [Fact]
    public async Task TryWaitAsync_RetryLeftThenUsedUp_WaitsAndCountsARetryThenGivesUpAtOnce()
    {
        using var counts = new CounterRecorder();
        var time = new FakeTimeProvider();
        var backoff = new Backoff(ThreeAttempts, new Random(5));

        var wait = backoff.TryWaitAsync("test.TryWait", 1, time, TestContext.Current.CancellationToken);
        wait.IsCompleted.Should().BeFalse("the first retry waits at least BaseDelay/2");
        time.Advance(ThreeAttempts.BaseDelay);
        (await wait).Should().BeTrue();
        (await backoff.TryWaitAsync("test.TryWait", ThreeAttempts.MaxAttempts, time, TestContext.Current.CancellationToken)).Should().BeFalse();

        counts.Total("pipeline.retries", "test.TryWait").Should().Be(1);
        counts.Total("pipeline.retry_give_ups", "test.TryWait").Should().Be(1);
    }

    /// <summary>The shared meter's totals through the product's own collector (its tests are in Telemetry/).</summary>
    private sealed class CounterRecorder : IDisposable
    {
        private readonly MetricsCollector _collector = new(MetricTemporality.Cumulative, PipelineMetrics.MeterName);

        public long Total(string counter, string operation) => (long)_collector.Collect()
            .Where(p => p.Name == counter && p.Tags.Any(t => t.Key == PipelineMetrics.OperationTag && t.Value == operation))
            .Sum(p => p.Value);

        public void Dispose() => _collector.Dispose();
    }
}
