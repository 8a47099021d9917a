using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Sts;
using Relay.Aws;
using Relay.Logging;

namespace Relay.Tests.Aws;

public sealed class RefreshingCredentialsTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
    private readonly CredentialMetrics _metrics = new();
    private readonly Queue<Func<Task<TemporaryCredentials>>> _script = new();
    private int _fetches;

    private RefreshingCredentials Credentials() =>
        new(_ => Fetch(), _time, _metrics.Source(CredentialMetrics.AssumeRoleSource), JsonLog.Null);

    private Task<TemporaryCredentials> Fetch()
    {
        _fetches++;
        return _script.Count > 0 ? _script.Dequeue()() : Task.FromResult(Key(_fetches));
    }

    private TemporaryCredentials Key(int n) => new($"ASIAKEY{n}", $"secret{n}", $"token{n}", _time.GetUtcNow() + Lifetime);

    private void FailNext(int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _script.Enqueue(() => Task.FromException<TemporaryCredentials>(new HttpRequestException("sts unreachable")));
        }
    }

    [Fact]
    public async Task BeforeTheRenewalWindow_OneFetchServesEveryCall()
    {
        var credentials = Credentials();

        var first = await credentials.GetCredentialsAsync();
        _time.Advance(Lifetime - RefreshingCredentials.DefaultRefreshAhead - TimeSpan.FromSeconds(1));
        var later = await credentials.GetCredentialsAsync();

        first.AccessKey.Should().Be("ASIAKEY1");
        later.AccessKey.Should().Be("ASIAKEY1");
        _fetches.Should().Be(1);
        _metrics.Source(CredentialMetrics.AssumeRoleSource).Renewals.Should().Be(1);
    }

    [Fact]
    public async Task InsideTheWindow_TheCurrentKeyIsUsedWhileOneRenewalRuns()
    {
        var credentials = Credentials();
        await credentials.GetCredentialsAsync();
        var gate = new TaskCompletionSource<TemporaryCredentials>(TaskCreationOptions.RunContinuationsAsynchronously);
        _script.Enqueue(() => gate.Task);
        _time.Advance(Lifetime - TimeSpan.FromMinutes(2));

        var during = await Task.WhenAll(credentials.GetCredentialsAsync(), credentials.GetCredentialsAsync(), credentials.GetCredentialsAsync());
        during.Select(k => k.AccessKey).Should().AllBe("ASIAKEY1", "the old key still works for two minutes");
        await WaitForAsync(() => _fetches == 2);
        gate.SetResult(Key(2));
        await WaitForAsync(() => _metrics.Source(CredentialMetrics.AssumeRoleSource).Renewals == 2);

        (await credentials.GetCredentialsAsync()).AccessKey.Should().Be("ASIAKEY2");
        _fetches.Should().Be(2, "one renewal for all the callers in the window");
    }

    [Fact]
    public async Task FailedRenewalInsideTheWindow_KeepsTheKey_CountsAndRetriesAfterTheInterval()
    {
        var credentials = Credentials();
        await credentials.GetCredentialsAsync();
        FailNext(times: 1);
        _time.Advance(Lifetime - TimeSpan.FromMinutes(4));
        var source = _metrics.Source(CredentialMetrics.AssumeRoleSource);

        (await credentials.GetCredentialsAsync()).AccessKey.Should().Be("ASIAKEY1");
        await WaitForAsync(() => source.Failures == 1);
        _time.Advance(RefreshingCredentials.RetryInterval / 2);
        (await credentials.GetCredentialsAsync()).AccessKey.Should().Be("ASIAKEY1");
        _fetches.Should().Be(2, "no new attempt inside the retry interval");

        _time.Advance(RefreshingCredentials.RetryInterval);
        await credentials.GetCredentialsAsync();
        await WaitForAsync(() => source.Renewals == 2);

        (await credentials.GetCredentialsAsync()).AccessKey.Should().Be("ASIAKEY3");
        source.Failures.Should().Be(1);
    }

    [Fact]
    public async Task ExpiredAndRenewalFails_TheCallerGetsTheError_NeverTheExpiredKey()
    {
        var credentials = Credentials();
        await credentials.GetCredentialsAsync();
        FailNext(times: 1);
        _time.Advance(Lifetime + TimeSpan.FromSeconds(1));

        var act = () => credentials.GetCredentialsAsync();

        await act.Should().ThrowAsync<AwsIdentityException>().WithMessage("*assume_role credentials could not be renewed*sts unreachable*");
        (await credentials.GetCredentialsAsync()).AccessKey.Should().Be("ASIAKEY3", "the next call tries again at once: there is no key to fall back on");
    }

    [Fact]
    public async Task ExpiredWithManyCallers_OneFetch()
    {
        var credentials = Credentials();
        await credentials.GetCredentialsAsync();
        var gate = new TaskCompletionSource<TemporaryCredentials>(TaskCreationOptions.RunContinuationsAsynchronously);
        _script.Enqueue(() => gate.Task);
        _time.Advance(Lifetime * 2);

        var waiting = Enumerable.Range(0, 8).Select(_ => credentials.GetCredentialsAsync()).ToArray();
        await WaitForAsync(() => _fetches == 2);
        gate.SetResult(Key(2));
        var keys = await Task.WhenAll(waiting);

        keys.Select(k => k.AccessKey).Should().AllBe("ASIAKEY2");
        _fetches.Should().Be(2);
    }

    [Fact]
    public async Task Metrics_ShowRenewalsFailuresAndSecondsLeft()
    {
        var credentials = Credentials();
        await credentials.GetCredentialsAsync();
        _time.Advance(TimeSpan.FromMinutes(10));
        var text = new System.Text.StringBuilder();

        _metrics.WritePrometheus(text, _time.GetUtcNow());

        text.ToString().Should()
            .Contain("xray_relay_credential_renewals_total{source=\"assume_role\"} 1\n")
            .And.Contain("xray_relay_credential_renewal_failures_total{source=\"assume_role\"} 0\n")
            .And.Contain("xray_relay_credential_expiry_seconds{source=\"assume_role\"} 3000\n");
    }

    // The renewal runs on the thread pool; wait for its effect (bounded), never for a duration.
    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        condition().Should().BeTrue();
    }
}
