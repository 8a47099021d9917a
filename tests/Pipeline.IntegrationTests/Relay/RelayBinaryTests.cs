using System.Text;
using Pipeline.Aws;
using Pipeline.Core.Kpl;
using Pipeline.IntegrationTests.Aws;
using Pipeline.Testing;
using Pipeline.Testing.Faults;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>
/// The built relay binary against moto Kinesis (one relay per stream, so one writer per stream,
/// as MOTO.md requires). Failures moto cannot produce come from <see cref="FaultProxy"/>.
/// </summary>
public sealed class RelayBinaryTests(MotoFixture moto) : IDisposable
{
    private readonly AwsClients _aws = MotoAws.Clients(moto);
    private readonly string _spool = Path.Combine(Path.GetTempPath(), $"relay-it-spool-{Guid.NewGuid():N}");
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _aws.Dispose();
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    private async Task<string> NewStreamAsync(int shards = 2)
    {
        var stream = MotoFixture.UniqueName("relay");
        await _aws.Kinesis.CreateStreamAsync(stream, shards, _ct);
        return stream;
    }

    [Fact]
    public async Task Relay_NDatagrams_ArriveExactlyOnceKeyedByTraceId()
    {
        const int count = 1000;
        var stream = await NewStreamAsync();
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream));

        relay.Send(Enumerable.Range(0, count).Select(i => RelayData.Datagram(i, i % 97)));
        var records = await RelayData.WaitForRecordsAsync(_aws.Kinesis, stream, count);

        records.Should().HaveCount(count, relay.Stdout);
        records.Select(r => Encoding.UTF8.GetString(r.Record.Data.Span)).Should().BeEquivalentTo(Enumerable.Range(0, count).Select(i => RelayData.Document(i, i % 97)));
        foreach (var (_, record) in records)
        {
            Encoding.UTF8.GetString(record.Data.Span).Should().Contain($"\"trace_id\":\"{record.PartitionKey}\"");
        }

        records.GroupBy(r => r.Record.PartitionKey).Should().OnlyContain(g => g.Select(r => r.ShardId).Distinct().Count() == 1, "a trace stays on one shard");
        (await relay.TerminateAsync(TimeSpan.FromSeconds(20))).Should().Be(0);
    }

    [Fact]
    public async Task Relay_PartialPutRecordsFailures_RetriesOnlyTheFailedRecords()
    {
        const int count = 600;
        var stream = await NewStreamAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.Endpoint, cancellationToken: _ct);
        // A third of the records of the first four PutRecords calls are throttled.
        proxy.Add(new FaultRule(FaultAction.ThrottleKinesisRecords(0, (call, index) => call <= 4 && index % 3 == 0)) { Service = "kinesis", Operation = "PutRecords" });
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(proxy.Endpoint, stream));

        relay.Send(Enumerable.Range(0, count).Select(i => RelayData.Datagram(i, i)));
        var records = await RelayData.WaitForRecordsAsync(_aws.Kinesis, stream, count);
        await Task.Delay(500, _ct);
        records = await RelayData.ReadAllAsync(_aws.Kinesis, stream);

        proxy.ThrottledRecords.Should().BeGreaterThan(0);
        records.Should().HaveCount(count, "every record once: failed ones were retried, successful ones not resent");
        records.Select(r => r.Record.PartitionKey).Should().OnlyHaveUniqueItems();
        (await relay.MetricAsync("xray_relay_throttled_records_total")).Should().Be(proxy.ThrottledRecords);
        (await relay.MetricAsync("xray_relay_retried_records_total")).Should().Be(proxy.ThrottledRecords);
    }

    [Fact]
    public async Task Relay_KinesisOutage_SpoolsThenReplaysInOrderWhenBack()
    {
        const int count = 300;
        var stream = await NewStreamAsync(shards: 1);
        await using var proxy = await FaultProxy.StartAsync(moto.Endpoint, cancellationToken: _ct);
        var down = proxy.Add(new FaultRule(FaultResponses.KinesisUnavailable()) { Service = "kinesis" });
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(proxy.Endpoint, stream, "--spool-dir", _spool));

        relay.Send(Enumerable.Range(0, count).Select(i => RelayData.Datagram(i, i)));
        await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_spooled_segments_total") == count);
        Directory.EnumerateFiles(_spool, "*.spool").Should().NotBeEmpty();
        (await RelayData.ReadAllAsync(_aws.Kinesis, stream)).Should().BeEmpty();

        down.Enabled = false;
        var records = await RelayData.WaitForRecordsAsync(_aws.Kinesis, stream, count);

        records.Select(r => r.Record.PartitionKey).Should().Equal(Enumerable.Range(0, count).Select(RelayData.TraceId), "replayed in the order received");
        await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_replayed_segments_total") == count);
        Directory.EnumerateFiles(_spool, "*.spool").Should().BeEmpty();
    }

    [Fact]
    public async Task Relay_SigtermDuringOutage_SpoolsAndTheNextRelayReplays()
    {
        const int count = 120;
        var stream = await NewStreamAsync(shards: 1);
        await using (var proxy = await FaultProxy.StartAsync(moto.Endpoint, cancellationToken: _ct))
        {
            proxy.Add(new FaultRule(FaultResponses.KinesisUnavailable()) { Service = "kinesis" });
            await using var first = await RelayProcess.StartAsync(RelayProcess.Flags(proxy.Endpoint, stream, "--spool-dir", _spool, "--drain-timeout", "1s"));
            first.Send(Enumerable.Range(0, count).Select(i => RelayData.Datagram(i, i)));
            await RelayData.WaitUntilAsync(async () => await first.MetricAsync("xray_relay_accepted_segments_total") == count);

            (await first.TerminateAsync(TimeSpan.FromSeconds(20))).Should().Be(0, first.Stdout);
            first.Stdout.Should().Contain("relay stopped");
        }

        Directory.EnumerateFiles(_spool, "*.spool").Should().NotBeEmpty("what could not be sent at shutdown is spooled");
        await using var second = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream, "--spool-dir", _spool));
        var records = await RelayData.WaitForRecordsAsync(_aws.Kinesis, stream, count);

        records.Select(r => r.Record.PartitionKey).Should().Equal(Enumerable.Range(0, count).Select(RelayData.TraceId));
    }

    [Fact]
    public async Task Relay_Sigterm_DrainsTheBufferAndExitsZero()
    {
        const int count = 200;
        var stream = await NewStreamAsync();
        var config = Path.Combine(Path.GetTempPath(), $"relay-it-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(config, "FlushInterval: \"60s\"\n", _ct);
        try
        {
            await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream, "-c", config));
            relay.Send(Enumerable.Range(0, count).Select(i => RelayData.Datagram(i, i)));
            await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_accepted_segments_total") == count);
            (await RelayData.ReadAllAsync(_aws.Kinesis, stream)).Should().BeEmpty("the 60 s flush interval holds the batch back");

            (await relay.TerminateAsync(TimeSpan.FromSeconds(20))).Should().Be(0);

            (await RelayData.ReadAllAsync(_aws.Kinesis, stream)).Should().HaveCount(count);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task Relay_BufferOverflow_DropsNewestAndCountsIt()
    {
        const int count = 1500;
        var stream = await NewStreamAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.Endpoint, cancellationToken: _ct);
        proxy.Add(new FaultRule(FaultAction.Delay(TimeSpan.FromSeconds(2))) { Service = "kinesis", Operation = "PutRecords" });
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(proxy.Endpoint, stream, "-m", "1"));

        // ~3 MB of segments into a 1 MB buffer while Kinesis answers slowly.
        relay.Send(Enumerable.Range(0, count).Select(i => Encoding.UTF8.GetBytes("{\"format\":\"json\",\"version\":1}\n" + RelayData.Document(i, i)[..^1] + ",\"pad\":\"" + new string('x', 2000) + "\"}")), pauseEvery: 20);
        await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_received_datagrams_total") == count);
        var dropped = await relay.MetricAsync("xray_relay_dropped_segments_total{reason=\"buffer_full\"}");
        var accepted = await relay.MetricAsync("xray_relay_accepted_segments_total");

        dropped.Should().BeGreaterThan(0);
        (accepted + dropped).Should().Be(count, "every datagram is either accepted or counted as dropped");
        var records = await RelayData.WaitForRecordsAsync(_aws.Kinesis, stream, (int)accepted);
        records.Should().HaveCount((int)accepted, "everything accepted is forwarded");
    }

    [Fact]
    public async Task Relay_BadDatagrams_AreCountedByReasonOnMetrics()
    {
        var stream = await NewStreamAsync();
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream));

        relay.Send(
        [
            "no header"u8.ToArray(),
            "{\"format\":\"json\",\"version\":9}\n{}"u8.ToArray(),
            "{\"format\":\"json\",\"version\":1}\n"u8.ToArray(),
            RelayData.Datagram(1, 1),
        ]);
        await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") == 1);

        (await relay.MetricAsync("xray_relay_dropped_segments_total{reason=\"missing_header\"}")).Should().Be(1);
        (await relay.MetricAsync("xray_relay_dropped_segments_total{reason=\"bad_header\"}")).Should().Be(1);
        (await relay.MetricAsync("xray_relay_dropped_segments_total{reason=\"empty_body\"}")).Should().Be(1);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        (await http.GetStringAsync(new Uri($"http://{relay.MetricsEndpoint}/healthz"), _ct)).Should().StartWith("ok");
    }

    [Fact]
    public async Task Relay_Aggregate_RecordsDeaggregateToEverySegment()
    {
        const int count = 500;
        var stream = await NewStreamAsync();
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream, "--aggregate"));

        relay.Send(Enumerable.Range(0, count).Select(i => RelayData.Datagram(i, i % 50)));
        await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") == count);
        var records = await RelayData.ReadAllAsync(_aws.Kinesis, stream);

        records.Count.Should().BeLessThan(count / 10);
        var users = records.SelectMany(r =>
        {
            var result = KplDeaggregator.Deaggregate(r.Record.Data, r.Record.PartitionKey);
            result.Status.Should().Be(KplStatus.Aggregated);
            return result.Records;
        }).ToList();
        users.Select(u => Encoding.UTF8.GetString(u.Data.Span)).Should().BeEquivalentTo(Enumerable.Range(0, count).Select(i => RelayData.Document(i, i % 50)));
        foreach (var user in users)
        {
            Encoding.UTF8.GetString(user.Data.Span).Should().Contain(user.PartitionKey);
        }
    }
}
