using System.Globalization;
using Relay.Tests.Support;

namespace Relay.Tests.Sending;

/// <summary>The relay with several PutRecords in flight, on the in-memory <see cref="FakeKinesis"/>.</summary>
public sealed class InFlightRelayTests : IDisposable
{
    private readonly FakeKinesis _kinesis = new();
    private readonly string _spool = Path.Combine(Path.GetTempPath(), $"relay-inflight-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    private static IEnumerable<byte[]> Datagrams(int from, int count) =>
        Enumerable.Range(from, count).Select(i => Segments.Datagram(Segments.TraceId(i), i));

    private static long Metric(RelayHost host, string name)
    {
        var line = host.Metrics.ToPrometheus().Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return long.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Relay_HeldCalls_FillTheWindowButNeverPassIt()
    {
        const int limit = 3;
        const int count = 4000;
        var gates = new System.Collections.Concurrent.ConcurrentDictionary<int, TaskCompletionSource>();
        TaskCompletionSource Gate(int call) => gates.GetOrAdd(call, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _kinesis.Hold = call => Gate(call).Task;
        var options = TestRelay.Options() with { MaxInFlight = limit };
        await using var host = await TestRelay.StartAsync(options, _kinesis);

        TestRelay.Send(host.UdpEndpoint, Datagrams(0, count));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Accepted == count);
        // Release the oldest held call each time the window is full again, until everything is sent:
        // each wait sees the relay start calls up to the limit while batches are waiting.
        for (var call = 1; host.Metrics.Forwarded < count; call++)
        {
            await TestRelay.WaitUntilAsync(() => _kinesis.InFlight == limit || host.Metrics.Forwarded + (_kinesis.InFlight * 500L) >= count);
            Gate(call).TrySetResult();
            if (call > count)
            {
                throw new InvalidOperationException("more calls than segments");
            }
        }

        _kinesis.MaxConcurrentCalls.Should().Be(limit);
        _kinesis.Stored.Should().HaveCount(count);
        Metric(host, "xray_relay_putrecords_in_flight_limit").Should().Be(limit);
        foreach (var gate in gates.Values)
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task Relay_Throttling_LowersTheWindowAndNothingSpools()
    {
        const int count = 3000;
        _kinesis.RecordFailure = (call, _, _) => call <= 4 ? "ProvisionedThroughputExceededException" : null;
        var options = TestRelay.Options(_spool) with { MaxInFlight = 4 };
        await using var host = await TestRelay.StartAsync(options, _kinesis);

        TestRelay.Send(host.UdpEndpoint, Datagrams(0, count));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Forwarded == count);

        Metric(host, "xray_relay_in_flight_decreases_total").Should().BeGreaterThan(0);
        host.Metrics.Throttled.Should().BeGreaterThan(0);
        host.Metrics.Spooled.Should().Be(0, "throttling slows the relay down; it is not an outage");
        host.Metrics.DroppedTotal.Should().Be(0);
        _kinesis.Stored.Select(r => r.PartitionKey).Should().BeEquivalentTo(Enumerable.Range(0, count).Select(Segments.TraceId));
    }

    [Fact]
    public async Task Relay_PartialAndWholeCallFailuresWithSeveralInFlight_DeliverEverySegmentOnce()
    {
        const int count = 4000;
        _kinesis.RecordFailure = (call, index, _) => call % 3 == 1 && index % 5 == 0 ? "InternalFailure" : null;
        _kinesis.CallFailure = call => call is 2 or 6 or 9 ? new HttpRequestException("connection reset") : null;
        var options = TestRelay.Options() with { MaxInFlight = 4 };
        await using var host = await TestRelay.StartAsync(options, _kinesis);

        TestRelay.Send(host.UdpEndpoint, Datagrams(0, count));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Forwarded == count);

        var keys = _kinesis.Stored.Select(r => r.PartitionKey).ToList();
        keys.Should().HaveCount(count).And.OnlyHaveUniqueItems();
        keys.Should().BeEquivalentTo(Enumerable.Range(0, count).Select(Segments.TraceId));
        host.Metrics.Retried.Should().BeGreaterThan(0);
        host.Metrics.DroppedTotal.Should().Be(0);
    }

    [Fact]
    public async Task Relay_OutageWithSeveralInFlight_ReplaysTheSpoolInOrderBeforeNewData()
    {
        var down = true;
        _kinesis.CallFailure = _ => Volatile.Read(ref down) ? new HttpRequestException("connection refused") : null;
        var options = TestRelay.Options(_spool) with { MaxInFlight = 8 };
        await using var host = await TestRelay.StartAsync(options, _kinesis, probeInterval: TimeSpan.FromMilliseconds(50));

        TestRelay.Send(host.UdpEndpoint, Datagrams(0, 2500));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Spooled == 2500);
        Volatile.Write(ref down, false);
        await TestRelay.WaitUntilAsync(() => host.Metrics.Replayed == 2500);
        TestRelay.Send(host.UdpEndpoint, Datagrams(2500, 100));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Forwarded == 2600);

        _kinesis.Stored.Select(r => r.PartitionKey).Should().Equal(Enumerable.Range(0, 2600).Select(Segments.TraceId), "the spool replays in the order it was written, before newer data");
        host.Metrics.DroppedTotal.Should().Be(0);
    }
}
