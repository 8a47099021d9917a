using Relay.Sending;

namespace Relay.Tests.Sending;

public sealed class InFlightWindowTests
{
    [Fact]
    public async Task Acquire_AtTheLimit_WaitsUntilASlotIsReleased()
    {
        var window = new InFlightWindow(2);
        await window.AcquireAsync(CancellationToken.None);
        await window.AcquireAsync(CancellationToken.None);

        var third = window.AcquireAsync(CancellationToken.None);

        third.IsCompleted.Should().BeFalse();
        window.InFlight.Should().Be(2);
        window.Release();
        await third;
        window.InFlight.Should().Be(2);
    }

    [Fact]
    public void Throttling_HalvesTheLimitDownToOne()
    {
        var window = new InFlightWindow(8);

        window.OnThrottled();
        window.Limit.Should().Be(4);
        window.OnThrottled();
        window.OnThrottled();
        window.OnThrottled();

        window.Limit.Should().Be(1);
        window.Decreases.Should().Be(3, "halving at 1 is no decrease");
    }

    [Fact]
    public void FailedCall_DropsTheLimitToOne()
    {
        var window = new InFlightWindow(6);

        window.OnFailed();

        window.Limit.Should().Be(1);
        window.Decreases.Should().Be(1);
    }

    [Fact]
    public void CleanCalls_RaiseTheLimitByOnePerWindowOfCalls_UpToMax()
    {
        var window = new InFlightWindow(4);
        window.OnFailed();

        window.OnClean();
        window.Limit.Should().Be(2, "one clean call at limit 1");
        window.OnClean();
        window.Limit.Should().Be(2, "two clean calls needed at limit 2");
        window.OnClean();
        window.Limit.Should().Be(3);
        for (var i = 0; i < 20; i++)
        {
            window.OnClean();
        }

        window.Limit.Should().Be(4);
    }

    [Fact]
    public async Task LoweredLimit_KeepsCallsInFlight_ButGrantsNoNewOneUntilBelowIt()
    {
        var window = new InFlightWindow(4);
        for (var i = 0; i < 4; i++)
        {
            await window.AcquireAsync(CancellationToken.None);
        }

        window.OnThrottled();
        var next = window.AcquireAsync(CancellationToken.None);
        window.Release();
        window.Release();

        next.IsCompleted.Should().BeFalse("2 in flight at limit 2");
        window.Release();
        await next;
        window.InFlight.Should().Be(2);
    }

    [Fact]
    public async Task RaisedLimit_GrantsAWaiterAtOnce()
    {
        var window = new InFlightWindow(2);
        window.OnFailed();
        await window.AcquireAsync(CancellationToken.None);
        var waiting = window.AcquireAsync(CancellationToken.None);

        window.OnClean();

        await waiting;
        window.InFlight.Should().Be(2);
    }

    [Fact]
    public async Task CancelledWait_TakesNoSlot()
    {
        var window = new InFlightWindow(1);
        await window.AcquireAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var waiting = window.AcquireAsync(cancel.Token);

        await cancel.CancelAsync();
        var act = () => waiting;

        await act.Should().ThrowAsync<OperationCanceledException>();
        window.Release();
        window.InFlight.Should().Be(0);
        await window.AcquireAsync(CancellationToken.None);
        window.InFlight.Should().Be(1);
    }
}
