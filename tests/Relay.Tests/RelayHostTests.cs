using System.Net.Http;
using System.Text;
using Pipeline.Core.Kpl;
using Relay.Telemetry;
using Relay.Tests.Support;

namespace Relay.Tests;

public sealed class RelayHostTests : IDisposable
{
    private readonly FakeKinesis _kinesis = new();
    private readonly string _spool = Path.Combine(Path.GetTempPath(), $"relay-spool-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    [Fact]
    public async Task Relay_NDatagrams_ArriveExactlyOnceKeyedByTraceId()
    {
        const int count = 2000;
        await using var host = await TestRelay.StartAsync(TestRelay.Options(), _kinesis);

        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, count).Select(i => Segments.Datagram(Segments.TraceId(i % 50), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Forwarded + host.Metrics.DroppedTotal >= count);
        await host.StopAsync();

        host.Metrics.DroppedTotal.Should().Be(0);
        var stored = _kinesis.Stored;
        stored.Should().HaveCount(count);
        foreach (var record in stored)
        {
            var document = Encoding.UTF8.GetString(record.Data.Span);
            document.Should().Contain($"\"trace_id\":\"{record.PartitionKey}\"");
        }

        stored.Select(r => Encoding.UTF8.GetString(r.Data.Span)).Distinct().Should().HaveCount(count);
        _kinesis.MaxConcurrentCalls.Should().Be(1, "one PutRecords in flight per stream");
        _kinesis.CallSizes.Should().OnlyContain(n => n <= 500);
    }

    [Fact]
    public async Task Relay_HangingKinesis_DivertsToTheSpoolAndHealthSaysDegraded()
    {
        var hang = true;
        _kinesis.Hang = _ => Volatile.Read(ref hang);
        var options = TestRelay.Options(_spool) with { SendTimeout = TimeSpan.FromMilliseconds(200) };
        await using var host = await TestRelay.StartAsync(options, _kinesis, probeInterval: TimeSpan.FromMilliseconds(50));

        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, 300).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Spooled == 300);

        host.Metrics.PutTimeouts.Should().BeGreaterThan(0);
        host.Metrics.Dropped(DropReason.BufferFull).Should().Be(0);
        host.Health().Healthy.Should().BeFalse();
        using var http = new HttpClient();
        (await http.GetStringAsync(new Uri($"http://{host.MetricsEndpoint}/healthz"), TestContext.Current.CancellationToken)).Should().StartWith("degraded: kinesis unavailable (spooling)");
        (await http.GetAsync(new Uri($"http://{host.MetricsEndpoint}/readyz"), TestContext.Current.CancellationToken)).StatusCode.Should().Be(System.Net.HttpStatusCode.ServiceUnavailable);

        Volatile.Write(ref hang, false);
        await TestRelay.WaitUntilAsync(() => host.Metrics.Replayed == 300);
        await TestRelay.WaitUntilAsync(() => host.Health().Healthy);
        (await http.GetStringAsync(new Uri($"http://{host.MetricsEndpoint}/readyz"), TestContext.Current.CancellationToken)).Should().Be("ok\n");
        _kinesis.Stored.Should().HaveCount(300);
    }

    [Fact]
    public async Task Relay_CorruptSpoolFile_CountsTheSegmentsItHeld()
    {
        var down = true;
        _kinesis.CallFailure = _ => Volatile.Read(ref down) ? new HttpRequestException("connection refused") : null;
        await using (var host = await TestRelay.StartAsync(TestRelay.Options(_spool), _kinesis, probeInterval: TimeSpan.FromSeconds(30)))
        {
            TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, 120).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
            await TestRelay.WaitUntilAsync(() => host.Metrics.Spooled == 120);
        }

        foreach (var file in Directory.EnumerateFiles(_spool, "*.spool"))
        {
            var bytes = File.ReadAllBytes(file);
            bytes[^1] ^= 0xff;
            File.WriteAllBytes(file, bytes);
        }

        Volatile.Write(ref down, false);
        await using var restarted = await TestRelay.StartAsync(TestRelay.Options(_spool), _kinesis);
        await TestRelay.WaitUntilAsync(() => restarted.Metrics.Dropped(DropReason.SpoolCorrupt) == 120);
        restarted.Metrics.ToPrometheus().Should().Contain("xray_relay_dropped_segments_total{reason=\"spool_corrupt\"} 120");
    }

    [Fact]
    public async Task Relay_SpoolThatBecomesUnwritable_DropsWithItsOwnReasonAndIsNotReady()
    {
        _kinesis.CallFailure = _ => new HttpRequestException("connection refused");
        await using var host = await TestRelay.StartAsync(TestRelay.Options(_spool), _kinesis, probeInterval: TimeSpan.FromSeconds(30));
        Directory.Delete(_spool, recursive: true);
        File.WriteAllText(_spool, "the disk went away");
        try
        {
            TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, 50).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
            await TestRelay.WaitUntilAsync(() => host.Metrics.Dropped(DropReason.SpoolUnwritable) == 50);

            host.Health().Problems.Should().Contain(p => p.StartsWith("spool unwritable", StringComparison.Ordinal));
        }
        finally
        {
            await host.StopAsync();
            File.Delete(_spool);
        }
    }

    [Fact]
    public async Task Relay_Metrics_ExportTheKernelsUdpDropsForItsSocket()
    {
        await using var host = await TestRelay.StartAsync(TestRelay.Options(), _kinesis);

        var text = host.Metrics.ToPrometheus();

        text.Should().Contain("xray_relay_udp_socket_drops_total 0").And.Contain("xray_relay_udp_rcvbuf_errors_total ");
    }

    [Fact]
    public async Task Relay_BadDatagrams_AreCountedByReason()
    {
        await using var host = await TestRelay.StartAsync(TestRelay.Options(), _kinesis);

        TestRelay.Send(host.UdpEndpoint,
        [
            Encoding.UTF8.GetBytes("no header at all"),
            Encoding.UTF8.GetBytes("{\"format\":\"json\",\"version\":2}\n{}"),
            Encoding.UTF8.GetBytes(Segments.Header + "\n"),
            Segments.Datagram(Segments.TraceId(1), 1),
        ]);
        await TestRelay.WaitUntilAsync(() => host.Metrics.Received == 4 && host.Metrics.Forwarded == 1);

        host.Metrics.Dropped(DropReason.MissingHeader).Should().Be(1);
        host.Metrics.Dropped(DropReason.BadHeader).Should().Be(1);
        host.Metrics.Dropped(DropReason.EmptyBody).Should().Be(1);
    }

    [Fact]
    public async Task Relay_KinesisOutage_SpoolsThenReplaysInOrder()
    {
        var down = true;
        _kinesis.CallFailure = _ => Volatile.Read(ref down) ? new HttpRequestException("connection refused") : null;
        var options = TestRelay.Options(_spool);
        await using var host = await TestRelay.StartAsync(options, _kinesis, probeInterval: TimeSpan.FromMilliseconds(50));

        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, 300).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Spooled == 300);
        host.KinesisHealthy.Should().BeFalse();
        _kinesis.Stored.Should().BeEmpty();
        Directory.EnumerateFiles(_spool, "*.spool").Should().NotBeEmpty();

        Volatile.Write(ref down, false);
        await TestRelay.WaitUntilAsync(() => host.Metrics.Replayed == 300);
        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(300, 50).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Forwarded == 350);

        var order = _kinesis.Stored.Select(r => r.PartitionKey).ToList();
        order.Should().Equal(Enumerable.Range(0, 350).Select(Segments.TraceId), "spooled batches replay in order, before newer ones");
        host.KinesisHealthy.Should().BeTrue();
        Directory.EnumerateFiles(_spool, "*.spool").Should().BeEmpty();
        host.Metrics.DroppedTotal.Should().Be(0);
    }

    [Fact]
    public async Task Relay_SpoolBacklog_DrainsWhileLiveTrafficKeepsComing()
    {
        var down = true;
        _kinesis.CallFailure = _ => Volatile.Read(ref down) ? new HttpRequestException("connection refused") : null;
        await using var host = await TestRelay.StartAsync(TestRelay.Options(_spool), _kinesis, probeInterval: TimeSpan.FromMilliseconds(50));
        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, 2000).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Spooled == 2000);

        Volatile.Write(ref down, false);
        // Live traffic in steady waves while the backlog replays.
        for (var wave = 0; wave < 10; wave++)
        {
            TestRelay.Send(host.UdpEndpoint, Enumerable.Range(2000 + (wave * 100), 100).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
        }

        await TestRelay.WaitUntilAsync(() => host.Metrics.Forwarded == 3000);
        await TestRelay.WaitUntilAsync(() => !Directory.EnumerateFiles(_spool, "*.spool").Any());

        _kinesis.Stored.Select(r => r.PartitionKey).Should().Equal(Enumerable.Range(0, 3000).Select(Segments.TraceId));
    }

    [Fact]
    public async Task Relay_Restart_ReplaysTheSpoolLeftBehind()
    {
        var down = new FakeKinesis { CallFailure = _ => new HttpRequestException("down") };
        var options = TestRelay.Options(_spool) with { DrainTimeout = TimeSpan.FromMilliseconds(200) };
        await using (var first = await TestRelay.StartAsync(options, down))
        {
            TestRelay.Send(first.UdpEndpoint, Enumerable.Range(0, 20).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
            await TestRelay.WaitUntilAsync(() => first.Metrics.Received == 20);
            await first.StopAsync();
            first.Metrics.Spooled.Should().Be(20);
        }

        await using var second = await TestRelay.StartAsync(options, _kinesis);
        await TestRelay.WaitUntilAsync(() => second.Metrics.Replayed == 20);

        _kinesis.Stored.Select(r => r.PartitionKey).Should().Equal(Enumerable.Range(0, 20).Select(Segments.TraceId));
    }

    [Fact]
    public async Task Relay_SpoolFull_DropsAndCounts()
    {
        _kinesis.CallFailure = _ => new HttpRequestException("down");
        var options = TestRelay.Options(_spool) with { SpoolMaxMb = 1 };
        await using var host = await TestRelay.StartAsync(options, _kinesis, probeInterval: TimeSpan.FromMinutes(1));

        // Waves of ~420 KB against a 1 MB spool: the first two fit, the third does not.
        for (var wave = 0; wave < 3; wave++)
        {
            TestRelay.Send(host.UdpEndpoint, Enumerable.Range(wave * 100, 100).Select(i => Segments.Datagram(Segments.TraceId(i), i, padding: 4000)), pauseEvery: 20);
            await TestRelay.WaitUntilAsync(() => host.Metrics.Spooled + host.Metrics.Dropped(DropReason.SpoolFull) == (wave + 1) * 100);
        }

        // A wave may be split over two batches by the flush timer, so only the bounds are exact.
        host.Metrics.Dropped(DropReason.SpoolFull).Should().BeGreaterThan(0);
        host.Metrics.Spooled.Should().BeGreaterThanOrEqualTo(200);
        Directory.EnumerateFiles(_spool, "*.spool").Sum(f => new FileInfo(f).Length).Should().BeLessThanOrEqualTo(1024 * 1024);
    }

    [Fact]
    public async Task Relay_OutageWithoutSpool_DropsAsKinesisUnavailable()
    {
        _kinesis.CallFailure = _ => new HttpRequestException("down");
        await using var host = await TestRelay.StartAsync(TestRelay.Options(), _kinesis);

        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, 10).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Dropped(DropReason.KinesisUnavailable) == 10);

        host.Metrics.Forwarded.Should().Be(0);
    }

    [Fact]
    public async Task Relay_Stop_DrainsWhatIsBuffered()
    {
        var options = TestRelay.Options() with { FlushInterval = TimeSpan.FromSeconds(30) };
        await using var host = await TestRelay.StartAsync(options, _kinesis);
        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, 30).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Accepted == 30);

        await host.StopAsync();

        _kinesis.Stored.Should().HaveCount(30);
        host.Metrics.Forwarded.Should().Be(30);
    }

    [Fact]
    public async Task Relay_StopWhileKinesisDown_SpoolsAfterTheDrainTimeout()
    {
        _kinesis.CallFailure = _ => new HttpRequestException("down");
        var options = TestRelay.Options(_spool) with { DrainTimeout = TimeSpan.FromMilliseconds(300), FlushInterval = TimeSpan.FromSeconds(30) };
        var slow = TestRelay.FastPolicy with { CallBackoffBase = TimeSpan.FromSeconds(10), BackoffCap = TimeSpan.FromSeconds(10), CallAttempts = 100 };
        await using var host = await TestRelay.StartAsync(options, _kinesis, slow);
        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, 25).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Accepted == 25);

        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        host.Metrics.Spooled.Should().Be(25);
        host.Metrics.DroppedTotal.Should().Be(0);
    }

    [Fact]
    public async Task Relay_StopWhileKinesisDownWithoutSpool_CountsDrainTimeoutDrops()
    {
        _kinesis.CallFailure = _ => new HttpRequestException("down");
        var options = TestRelay.Options() with { DrainTimeout = TimeSpan.FromMilliseconds(200), FlushInterval = TimeSpan.FromSeconds(30) };
        var slow = TestRelay.FastPolicy with { CallBackoffBase = TimeSpan.FromSeconds(10), BackoffCap = TimeSpan.FromSeconds(10), CallAttempts = 100 };
        await using var host = await TestRelay.StartAsync(options, _kinesis, slow);
        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, 5).Select(i => Segments.Datagram(Segments.TraceId(i), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Accepted == 5);

        await host.StopAsync();

        host.Metrics.Dropped(DropReason.DrainTimeout).Should().Be(5);
    }

    [Fact]
    public async Task Relay_Aggregate_PacksSegmentsThatDeaggregateIntact()
    {
        const int count = 600;
        var options = TestRelay.Options() with { Aggregate = true };
        await using var host = await TestRelay.StartAsync(options, _kinesis);

        TestRelay.Send(host.UdpEndpoint, Enumerable.Range(0, count).Select(i => Segments.Datagram(Segments.TraceId(i % 40), i)));
        await TestRelay.WaitUntilAsync(() => host.Metrics.Forwarded == count);

        var stored = _kinesis.Stored;
        stored.Count.Should().BeLessThan(count / 10, "segments are packed many to a record");
        var users = stored.SelectMany(r =>
        {
            var result = KplDeaggregator.Deaggregate(r.Data, r.PartitionKey);
            result.Status.Should().Be(KplStatus.Aggregated);
            return result.Records;
        }).ToList();
        users.Should().HaveCount(count);
        users.Select(u => Encoding.UTF8.GetString(u.Data.Span)).Distinct().Should().HaveCount(count);
        foreach (var user in users)
        {
            Encoding.UTF8.GetString(user.Data.Span).Should().Contain(user.PartitionKey);
        }

        host.Metrics.ForwardedRecords.Should().Be(stored.Count);
    }

    [Fact]
    public async Task Relay_Metrics_ServesPrometheusAndHealth()
    {
        await using var host = await TestRelay.StartAsync(TestRelay.Options(), _kinesis);
        TestRelay.Send(host.UdpEndpoint, [Segments.Datagram(Segments.TraceId(1), 1), "junk"u8.ToArray()]);
        await TestRelay.WaitUntilAsync(() => host.Metrics.Forwarded == 1 && host.Metrics.Received == 2);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{host.MetricsEndpoint}") };

        var health = await http.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        var missing = await http.GetAsync(new Uri("/nope", UriKind.Relative), TestContext.Current.CancellationToken);

        health.IsSuccessStatusCode.Should().BeTrue();
        missing.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
        metrics.Should().Contain("xray_relay_received_datagrams_total 2")
            .And.Contain("xray_relay_forwarded_segments_total 1")
            .And.Contain("xray_relay_dropped_segments_total{reason=\"missing_header\"} 1")
            .And.Contain("xray_relay_putrecords_seconds_count 1")
            .And.Contain("xray_relay_batch_records_bucket{le=\"1\"} 1")
            .And.Contain("xray_relay_buffer_bytes 0");
    }
}
