using Pipeline.Testing;
using Pipeline.Testing.Faults;

namespace Pipeline.IntegrationTests.Proof;

/// <summary>
/// "Nothing lost" under faults, end to end: counted segments → the built relay → Kinesis (moto,
/// behind <see cref="FaultProxy"/>) → the harness's event-source mapping → the ingest handler → S3.
/// Each test checks that every valid segment sent is in the archive exactly once (trace id + id)
/// and that re-writes, if any, carried identical lines. Loads are small (hundreds of segments) to
/// keep CI time modest; the fault rates are what matters.
/// </summary>
public sealed class NothingLostTests(MotoFixture moto)
{
    private static readonly TimeSpan DriveTimeout = TimeSpan.FromSeconds(120);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pipeline_TwentyPercentKinesisThrottling_ArchivesEverySegmentOnce()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, seed: 101);
        // The first and third PutRecords calls lose their connection before Kinesis sees them. They
        // are counted among PutRecords calls only: the proxy's request number also counts the
        // mapping's reads, so a rule on it could miss every PutRecords call of a short run.
        var putRecordsCalls = 0;
        var resets = pipeline.Proxy.Add(new FaultRule(FaultAction.Reset()) { Name = "connection reset", Service = "kinesis", Operation = "PutRecords", When = _ => Interlocked.Increment(ref putRecordsCalls) % 2 == 1, MaxInjections = 2 });
        pipeline.Proxy.Add(new FaultRule(FaultAction.ThrottleKinesisRecords(0.2)) { Name = "20% of records throttled", Service = "kinesis", Operation = "PutRecords" });
        var relay = await pipeline.StartRelayAsync();
        var sent = ProofTraffic.Segments(1000, seed: 1);

        await ProofPipeline.SendAsync(relay, [.. sent.Select(s => s.Datagram)]);
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest());
        await mapping.RunUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") == sent.Count, DriveTimeout, _ct);

        pipeline.Proxy.ThrottledRecords.Should().BeGreaterThan(100, "about a fifth of 1000+ record attempts were throttled");
        resets.Injected.Should().BeGreaterThan(0);
        (await relay.MetricAsync("xray_relay_throttled_records_total")).Should().Be(pipeline.Proxy.ThrottledRecords);
        await pipeline.AssertArchivedExactlyOnceAsync(ProofTraffic.Identities(sent));
    }

    [Fact]
    public async Task Pipeline_XRayThrottlingAnd5xxBursts_ArchiveCompleteAndEveryKeptSegmentInXRayOrParked()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, seed: 102);
        // One call hangs past the client's timeout (ProofPipeline: 10 s), as a stuck connection would.
        var hung = pipeline.Proxy.Add(new FaultRule(FaultAction.Hang(TimeSpan.FromSeconds(11))) { Name = "timeout", Service = "xray", Operation = "PutTraceSegments", When = r => r.Number > 20, MaxInjections = 1 });
        var throttled = pipeline.Proxy.Add(new FaultRule(FaultResponses.XRayThrottled()) { Name = "429 burst", Service = "xray", Operation = "PutTraceSegments", Probability = 0.6, MaxInjections = 10 });
        var failing = pipeline.Proxy.Add(new FaultRule(FaultResponses.XRayServerError(503)) { Name = "5xx burst", Service = "xray", Operation = "PutTraceSegments", Probability = 0.4, MaxInjections = 6 });
        pipeline.Proxy.Add(new FaultRule(FaultAction.XRayUnprocessed(0.15)) { Name = "unprocessed", Service = "xray", Operation = "PutTraceSegments" });
        var relay = await pipeline.StartRelayAsync();
        var sent = ProofTraffic.Segments(400, seed: 2);

        await ProofPipeline.SendAsync(relay, [.. sent.Select(s => s.Datagram)]);
        // Every trace kept, so every segment must end up in X-Ray or in xray-retry/.
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest(samplingRate: 1.0), batchSize: 50);
        await mapping.RunUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") == sent.Count, DriveTimeout, _ct);

        hung.Injected.Should().Be(1);
        throttled.Injected.Should().BeGreaterThan(0);
        failing.Injected.Should().BeGreaterThan(0);
        pipeline.Proxy.UnprocessedSegments.Should().BeGreaterThan(0);
        mapping.ReportedFailures.Should().Be(0, "an X-Ray outage never stalls the shard: refused segments are parked");
        await pipeline.AssertArchivedExactlyOnceAsync(ProofTraffic.Identities(sent));

        var parked = (await pipeline.ReadLinesAsync("xray-retry/")).Select(l => ProofPipeline.Identity(l.Line)).ToHashSet();
        var inXRay = (await pipeline.XRayDocumentsAsync(sent.Select(s => s.TraceId).Distinct())).Select(ProofPipeline.Identity).ToHashSet();
        parked.Should().NotBeEmpty("the bursts refused some calls outright");
        var nowhere = sent.Where(s => !inXRay.Contains((s.TraceId, s.Id)) && !parked.Contains((s.TraceId, s.Id))).ToList();
        nowhere.Should().BeEmpty("a kept segment X-Ray did not take is parked for replay");
    }

    [Fact]
    public async Task Pipeline_S3ErrorsOnArchiveWrites_BatchesRetriedAndArchivedOnce()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, seed: 103);
        // The first six archive PUTs fail: more than the SDK's own 3 attempts, so a batch is reported failed.
        var burst = pipeline.Proxy.Add(new FaultRule(FaultResponses.S3InternalError()) { Name = "500 burst", Service = "s3", Operation = "PUT", PathContains = "/segments/", MaxInjections = 6 });
        var afterWrite = pipeline.Proxy.Add(new FaultRule(FaultResponses.S3InternalErrorAfterWrite()) { Name = "500 after the write", Service = "s3", Operation = "PUT", PathContains = "/segments/", Probability = 0.3, MaxInjections = 8 });
        var slowDown = pipeline.Proxy.Add(new FaultRule(FaultResponses.S3SlowDown()) { Name = "503 SlowDown", Service = "s3", Operation = "PUT", Probability = 0.2, MaxInjections = 8 });
        pipeline.Proxy.Add(new FaultRule(FaultAction.Delay(TimeSpan.FromMilliseconds(400))) { Name = "slow", Service = "s3", Probability = 0.1 });
        var resets = pipeline.Proxy.Add(new FaultRule(FaultAction.Reset()) { Name = "connection reset", Service = "s3", Operation = "PUT", Probability = 0.1, MaxInjections = 4 });
        var relay = await pipeline.StartRelayAsync();
        var sent = ProofTraffic.Segments(600, seed: 3);

        await ProofPipeline.SendAsync(relay, [.. sent.Select(s => s.Datagram)]);
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest(), batchSize: 50);
        await mapping.RunUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") == sent.Count, DriveTimeout, _ct);

        burst.Injected.Should().Be(6);
        afterWrite.Injected.Should().BeGreaterThan(0);
        slowDown.Injected.Should().BeGreaterThan(0);
        resets.Injected.Should().BeGreaterThan(0);
        mapping.ReportedFailures.Should().BeGreaterThan(0, "the burst outlasted the client's retries");
        await pipeline.AssertArchivedExactlyOnceAsync(ProofTraffic.Identities(sent));
    }

    [Fact]
    public async Task Pipeline_IngestKilledAfterArchiveWrite_LongerRetryOverwritesAndArchivesOnce()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, shards: 1, seed: 104);
        var relay = await pipeline.StartRelayAsync();
        var sent = ProofTraffic.Segments(500, seed: 4);
        await ProofPipeline.SendAsync(relay, [.. sent.Select(s => s.Datagram)]);
        await RelayData(relay, sent.Count);

        var kill = new KillSwitch();
        pipeline.Store.Kill = kill;
        // Die right after the 1st and 3rd archive objects landed, and before the 5th's usage record.
        var segmentPuts = 0;
        pipeline.Store.KillAfter = (_, key) => key.StartsWith("segments/", StringComparison.Ordinal) && ++segmentPuts is 1 or 3;
        pipeline.Store.KillBefore = (_, key) => key.StartsWith("usage/", StringComparison.Ordinal) && segmentPuts == 5 && kill.Kills == 2;
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest(), kill, batchSize: 40, retryBatchSize: 90);
        await mapping.RunUntilAsync(() => Task.FromResult(true), DriveTimeout, _ct);

        kill.Kills.Should().Be(3);
        mapping.FunctionErrors.Should().Be(3);
        pipeline.Store.Journal.GroupBy(j => j.Key).Should().Contain(g => g.Count() > 1 && g.Select(j => j.Content.Length).Distinct().Count() > 1, "a killed batch's object was overwritten by its longer retry");
        await pipeline.AssertArchivedExactlyOnceAsync(ProofTraffic.Identities(sent));
    }

    [Fact]
    public async Task Pipeline_IngestKilledMidBatchWithBisect_HalvesArchiveOnce()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, shards: 1, seed: 105);
        var relay = await pipeline.StartRelayAsync();
        var sent = ProofTraffic.Segments(400, seed: 5);
        await ProofPipeline.SendAsync(relay, [.. sent.Select(s => s.Datagram)]);
        await RelayData(relay, sent.Count);

        var kill = new KillSwitch();
        pipeline.Store.Kill = kill;
        // Killed after archive writes 1, 2 (its bisected retry), 4 and 6: retries come back as halves.
        var segmentPuts = 0;
        pipeline.Store.KillAfter = (_, key) => key.StartsWith("segments/", StringComparison.Ordinal) && ++segmentPuts is 1 or 2 or 4 or 6;
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest(), kill, bisect: true, batchSize: 100);
        await mapping.RunUntilAsync(() => Task.FromResult(true), DriveTimeout, _ct);

        kill.Kills.Should().Be(4);
        mapping.FunctionErrors.Should().Be(4);
        await pipeline.AssertArchivedExactlyOnceAsync(ProofTraffic.Identities(sent));
    }

    [Fact]
    public async Task Pipeline_RelayRestartedDuringOutage_SpoolReplayedAndArchivedOnce()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, seed: 106);
        var outage = pipeline.Proxy.Add(new FaultRule(FaultResponses.KinesisUnavailable()) { Name = "Kinesis down", Service = "kinesis" });
        var first = await pipeline.StartRelayAsync("--drain-timeout", "1s");
        var sent = ProofTraffic.Segments(600, seed: 6);

        await ProofPipeline.SendAsync(first, [.. sent.Take(400).Select(s => s.Datagram)]);
        await Pipeline.IntegrationTests.Relay.RelayData.WaitUntilAsync(async () => await first.MetricAsync("xray_relay_accepted_segments_total") == 400);
        // Stop only once the relay has met the outage: on a loaded machine the first flush can
        // otherwise come after SIGTERM, and the drain then spools without ever calling Kinesis.
        await Pipeline.IntegrationTests.Relay.RelayData.WaitUntilAsync(() => Task.FromResult(outage.Injected > 0));
        (await first.TerminateAsync(TimeSpan.FromSeconds(30))).Should().Be(0, first.Stdout);
        Directory.EnumerateFiles(pipeline.SpoolDir, "*.spool").Should().NotBeEmpty("what Kinesis did not take is spooled at shutdown");

        outage.Enabled = false;
        var second = await pipeline.StartRelayAsync();
        await ProofPipeline.SendAsync(second, [.. sent.Skip(400).Select(s => s.Datagram)]);
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest());
        await mapping.RunUntilAsync(
            // Replays go through the same sender, so "forwarded" counts them too.
            async () => await second.MetricAsync("xray_relay_forwarded_segments_total") >= sent.Count
                && !Directory.EnumerateFiles(pipeline.SpoolDir, "*.spool").Any(),
            DriveTimeout,
            _ct);

        outage.Injected.Should().BeGreaterThan(0);
        (await second.MetricAsync("xray_relay_replayed_segments_total")).Should().Be(400, "the second relay replayed the first one's spool");
        await pipeline.AssertArchivedExactlyOnceAsync(ProofTraffic.Identities(sent));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Pipeline_KinesisDownForTenSeconds_SpoolsReplaysAndArchivesOnce()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, seed: 107);
        var relay = await pipeline.StartRelayAsync();
        var sent = ProofTraffic.Segments(800, seed: 7);
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest());
        await mapping.StartAsync(_ct);

        await ProofPipeline.SendAsync(relay, [.. sent.Take(200).Select(s => s.Datagram)]);
        var outage = pipeline.Proxy.Add(new FaultRule(FaultResponses.KinesisUnavailable()) { Name = "Kinesis down", Service = "kinesis" });
        var down = System.Diagnostics.Stopwatch.StartNew();
        // Traffic keeps coming during the outage, and the mapping keeps polling (moto directly).
        foreach (var chunk in sent.Skip(200).Chunk(100))
        {
            await ProofPipeline.SendAsync(relay, [.. chunk.Select(s => s.Datagram)]);
            await Task.Delay(1000, _ct);
        }

        await Task.Delay(TimeSpan.FromSeconds(10) - down.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero, _ct);
        outage.Enabled = false;
        await mapping.RunUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") >= sent.Count, DriveTimeout, _ct);

        outage.Injected.Should().BeGreaterThan(0);
        (await relay.MetricAsync("xray_relay_spooled_segments_total")).Should().BeGreaterThan(0);
        (await relay.MetricAsync("xray_relay_replayed_segments_total")).Should().Be(await relay.MetricAsync("xray_relay_spooled_segments_total"));
        await pipeline.AssertArchivedExactlyOnceAsync(ProofTraffic.Identities(sent));
    }

    private static Task RelayData(Pipeline.IntegrationTests.Relay.RelayProcess relay, int count) =>
        Pipeline.IntegrationTests.Relay.RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") == count, TimeSpan.FromSeconds(60));
}
