using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Proof;

/// <summary>
/// The soak run behind <c>bench/soak</c> (explicit: never part of the normal test run). The relay
/// binary and the ingest (through the test-side event-source mapping) run against moto under a
/// steady, bounded UDP load for SOAK_MINUTES (default 2) at SOAK_RATE segments/s (default 200);
/// every SOAK_SAMPLE_SECONDS (default 10) it records the relay's RSS, the test host's RSS (it hosts
/// the ingest), the lag (segments forwarded by the relay but not yet archived) and the counts.
/// At the end it drains, checks nothing was lost (every segment archived exactly once) and writes
/// the report to SOAK_REPORT (default: the test output only).
/// </summary>
public sealed class SoakTests(MotoFixture moto)
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact(Explicit = true)]
    [Trait("Category", "Soak")]
    public async Task Soak_SteadyLoad_ReportsRssLagAndLoss()
    {
        var minutes = Setting("SOAK_MINUTES", 2.0);
        var rate = (int)Setting("SOAK_RATE", 200);
        var sampleEvery = TimeSpan.FromSeconds(Setting("SOAK_SAMPLE_SECONDS", 10));
        var duration = TimeSpan.FromMinutes(minutes);
        var total = (int)(rate * duration.TotalSeconds);

        await using var pipeline = await ProofPipeline.StartAsync(moto, shards: 2, seed: 401);
        var relay = await pipeline.StartRelayAsync();
        var sent = ProofTraffic.Segments(total, seed: 41);
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest(), batchSize: 500);
        using var stopMapping = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        var sending = true;
        var mappingTask = Task.Run(() => mapping.RunUntilAsync(() => Task.FromResult(!Volatile.Read(ref sending)), duration + TimeSpan.FromMinutes(5), stopMapping.Token), _ct);

        var samples = new List<string> { "elapsed_s\tsent\trelay_received\trelay_forwarded\tingested\tlag\trelay_rss_mb\thost_rss_mb" };
        var clock = Stopwatch.StartNew();
        var nextSample = sampleEvery;
        var index = 0;
        using (var socket = new Socket(System.Net.Sockets.AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            socket.Connect(relay.UdpEndpoint);
            while (index < total && clock.Elapsed < duration + TimeSpan.FromSeconds(30))
            {
                var due = Math.Min(total, (int)(clock.Elapsed.TotalSeconds * rate));
                while (index < due)
                {
                    socket.Send(sent[index++].Datagram);
                }

                if (clock.Elapsed >= nextSample)
                {
                    samples.Add(await SampleAsync(clock.Elapsed, index, relay, mapping));
                    nextSample += sampleEvery;
                }

                await Task.Delay(5, _ct);
            }
        }

        // Drain: the relay flushes what it accepted (≤ 1 s batches), then the mapping catches up.
        var drainStarted = clock.Elapsed;
        var accepted = await relay.MetricAsync("xray_relay_accepted_segments_total");
        await Relay.RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") >= accepted, TimeSpan.FromSeconds(120));
        Volatile.Write(ref sending, false);
        await mappingTask;
        samples.Add(await SampleAsync(clock.Elapsed, index, relay, mapping));
        var drain = clock.Elapsed - drainStarted;

        var received = await relay.MetricAsync("xray_relay_received_datagrams_total");
        var forwarded = await relay.MetricAsync("xray_relay_forwarded_segments_total");
        var archived = (await pipeline.ReadLinesAsync("segments/")).Select(l => ProofPipeline.Identity(l.Line)).ToList();
        var distinct = archived.ToHashSet();
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"soak: {minutes} min at {rate} seg/s, {total} segments, sampled every {sampleEvery.TotalSeconds} s")
            .AppendLine(string.Join('\n', samples))
            .AppendLine(CultureInfo.InvariantCulture, $"sent {index}, relay received {received} (UDP loss {index - received}), relay forwarded {forwarded}, archived {archived.Count} ({distinct.Count} distinct)")
            .AppendLine(CultureInfo.InvariantCulture, $"loss after the relay: {forwarded - distinct.Count}; duplicates in the archive: {archived.Count - distinct.Count}; drain after the load stopped: {drain.TotalSeconds:0.0} s")
            .AppendLine(CultureInfo.InvariantCulture, $"mapping: {mapping.Invocations} invocations, {mapping.FunctionErrors} function errors, {mapping.ReportedFailures} reported failures")
            .ToString();
        TestContext.Current.SendDiagnosticMessage(report);
        if (Environment.GetEnvironmentVariable("SOAK_REPORT") is { Length: > 0 } path)
        {
            await File.WriteAllTextAsync(path, report, _ct);
        }

        index.Should().Be(total);
        (archived.Count - distinct.Count).Should().Be(0, "no duplicates");
        forwarded.Should().Be(accepted, "the relay forwarded everything it accepted");
        distinct.Count.Should().Be((int)forwarded, "everything the relay forwarded is archived");
    }

    private static async Task<string> SampleAsync(TimeSpan elapsed, int sent, Relay.RelayProcess relay, ProofMapping mapping)
    {
        var received = await relay.MetricAsync("xray_relay_received_datagrams_total");
        var forwarded = await relay.MetricAsync("xray_relay_forwarded_segments_total");
        var ingested = mapping.RecordsDelivered;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{elapsed.TotalSeconds:0}\t{sent}\t{received}\t{forwarded}\t{ingested}\t{forwarded - ingested}\t{RssMb(relay.Id):0.0}\t{Environment.WorkingSet / 1024.0 / 1024:0.0}");
    }

    private static double RssMb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    private static double Setting(string name, double fallback) =>
        double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
