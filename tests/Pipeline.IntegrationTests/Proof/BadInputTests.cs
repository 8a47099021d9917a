using System.Buffers;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Archive;
using Pipeline.Core.Redaction;
using Pipeline.Core.Segments;
using Pipeline.Core.Wire;
using Pipeline.IntegrationTests.Relay;
using Pipeline.Testing;
using Pipeline.Testing.BadInput;
using Relay.Telemetry;

namespace Pipeline.IntegrationTests.Proof;

/// <summary>
/// Bad input never hurts: the generated corpus (<see cref="BadInputCorpus"/>) and the broken real
/// documents are each stopped where they should be — dropped and counted by the relay, or
/// quarantined with their reason by the ingest — with no crash and no effect on the valid segments
/// around them; and a bounded seeded fuzz run finds no exception and no unexplained outcome.
/// </summary>
public sealed class BadInputTests(MotoFixture moto)
{
    private const int InProcessMutations = 20_000;
    private const int RelayMutations = 300;

    /// <summary>The largest UDP payload over IPv4 (65,535 - 8 UDP - 20 IP header bytes).</summary>
    private const int MaxUdpPayload = 65_507;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public void Corpus_Generated_HasAtLeastFiftyDistinctKinds()
    {
        var cases = BadInputCorpus.Cases(DateTimeOffset.UtcNow);

        cases.Select(c => c.Kind).Should().OnlyHaveUniqueItems();
        cases.Should().HaveCountGreaterThanOrEqualTo(50);
        cases.Select(c => c.Reason).Distinct().Should().HaveCountGreaterThanOrEqualTo(30, "the corpus covers most reject reasons");
    }

    [Fact]
    public void Corpus_EveryCaseInProcess_StoppedAtItsStageWithItsReason()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var bad in BadInputCorpus.Cases(now))
        {
            var reject = Datagram.TrySplit(bad.Datagram, out var range);
            if (bad.Stage == BadInputStage.Relay)
            {
                reject.Should().NotBe(DatagramReject.None, bad.Kind);
                DropReasons.Label(DropReasons.From(reject)).Should().Be(bad.Reason, bad.Kind);
                continue;
            }

            reject.Should().Be(DatagramReject.None, $"{bad.Kind} passes the relay's framing check");
            var result = SegmentValidator.ParseAndValidate(bad.Datagram.AsMemory()[range], now);

            result.IsOk.Should().BeFalse(bad.Kind);
            if (bad.Reason is not null)
            {
                result.Rejection.Reason.ToCode().Should().Be(bad.Reason, bad.Kind);
            }
            else
            {
                result.Rejection.Reason.Should().NotBe(SegmentRejectReason.None, bad.Kind);
            }
        }
    }

    [Fact]
    public async Task RelayAndIngest_BadCorpusBetweenValidNeighbours_AllStoppedCountedAndNeighboursArchived()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, shards: 1, seed: 201);
        var relay = await pipeline.StartRelayAsync();
        var all = BadInputCorpus.Cases(DateTimeOffset.UtcNow);
        // A datagram over 65,507 bytes cannot be sent over UDP at all; its document goes to
        // Kinesis directly instead (another producer could put it), for the ingest to refuse.
        var cases = all.Where(c => c.Datagram.Length <= MaxUdpPayload).ToList();
        var direct = all.Where(c => c.Datagram.Length > MaxUdpPayload).ToList();
        var real = RealInvalidDocuments();
        var valid = ProofTraffic.Segments(cases.Count + real.Count, seed: 21);
        var datagrams = new List<byte[]>();
        var ingestStage = new List<(string Kind, byte[] Document, string? Reason)>();
        for (var i = 0; i < cases.Count; i++)
        {
            datagrams.Add(cases[i].Datagram);
            datagrams.Add(valid[i].Datagram);
            if (cases[i].Stage == BadInputStage.Ingest)
            {
                ingestStage.Add((cases[i].Kind, cases[i].Document.ToArray(), cases[i].Reason));
            }
        }

        for (var i = 0; i < real.Count; i++)
        {
            datagrams.Add(BadInputCorpus.Datagram(real[i].Text));
            datagrams.Add(valid[cases.Count + i].Datagram);
            ingestStage.Add((real[i].File, Encoding.UTF8.GetBytes(real[i].Text), null));
        }

        await ProofPipeline.SendAsync(relay, datagrams, chunk: 50);
        var accepted = datagrams.Count - cases.Count(c => c.Stage == BadInputStage.Relay);
        await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") == accepted, TimeSpan.FromSeconds(60));
        direct.Should().NotBeEmpty();
        await pipeline.Direct.Kinesis.PutRecordsAsync(pipeline.Stream, [.. direct.Select(c => new Pipeline.Aws.Kinesis.PutRecordsEntry(c.Document.ToArray(), "oversize"))], _ct);
        ingestStage.AddRange(direct.Select(c => (c.Kind, c.Document.ToArray(), (string?)"too_large")));
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest(), batchSize: 37);
        await mapping.RunUntilAsync(() => Task.FromResult(true), TimeSpan.FromSeconds(90), _ct);

        foreach (var group in cases.Where(c => c.Stage == BadInputStage.Relay).GroupBy(c => c.Reason))
        {
            (await relay.MetricAsync($"xray_relay_dropped_segments_total{{reason=\"{group.Key}\"}}")).Should().Be(group.Count(), string.Join(", ", group));
        }

        mapping.FunctionErrors.Should().Be(0, "no bad input crashes the ingest");
        mapping.ReportedFailures.Should().Be(0, "bad input never fails a batch");
        await pipeline.AssertArchivedExactlyOnceAsync(ProofTraffic.Identities(valid));

        var quarantine = (await pipeline.ReadLinesAsync("quarantine/")).Select(l => JsonDocument.Parse(l.Line).RootElement.Clone()).ToList();
        // Matched on the bytes without surrounding whitespace: the relay may trim a trailing newline.
        var byOriginal = quarantine.GroupBy(q => Trimmed(q.GetProperty("original_base64").GetBytesFromBase64())).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var (kind, document, reason) in ingestStage)
        {
            byOriginal.TryGetValue(Trimmed(document), out var lines).Should().BeTrue($"{kind} is quarantined");
            lines!.Should().ContainSingle(kind);
            var code = lines![0].GetProperty("reason").GetString();
            code.Should().NotBe("internal_error", kind);
            if (reason is not null)
            {
                code.Should().Be(reason, kind);
            }
        }

        quarantine.Should().HaveCount(ingestStage.Count, "nothing else is quarantined");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        (await http.GetStringAsync(new Uri($"http://{relay.MetricsEndpoint}/healthz"), _ct)).Should().StartWith("ok");
    }

    [Fact]
    public void Fuzz_TwentyThousandMutationsInProcess_NoExceptionAndEveryOutcomeExplained()
    {
        var now = DateTimeOffset.UtcNow;
        var seeds = FuzzSeeds();
        var mutator = new SegmentMutator(seed: 20_251_125);
        var redactor = new Redactor(RedactionPolicy.Default);
        int accepted = 0, rejected = 0, framing = 0;
        for (var i = 0; i < InProcessMutations; i++)
        {
            var seed = seeds[i % seeds.Count];
            var mutated = mutator.Mutate(seed, seeds);
            // One in ten mutates the whole datagram, header included.
            var datagram = i % 10 == 0 ? mutator.Mutate(BadInputCorpus.Datagram(Encoding.UTF8.GetString(seed)), seeds) : [.. Encoding.UTF8.GetBytes(BadInputCorpus.Header + "\n"), .. mutated];
            try
            {
                if (Datagram.TryGetDocument(datagram, out var document) != DatagramReject.None)
                {
                    framing++;
                    continue;
                }

                var result = SegmentValidator.ParseAndValidate(document, now);
                if (!result.IsOk)
                {
                    result.Rejection.Reason.Should().NotBe(SegmentRejectReason.None);
                    result.Rejection.Reason.ToCode().Should().NotBe("unknown");
                    rejected++;
                    continue;
                }

                var redacted = redactor.Redact(result.Segment);
                var line = new ArrayBufferWriter<byte>();
                ArchiveLines.WriteSegment(line, redacted.Document.Span);
                line.WrittenSpan[..^1].IndexOf((byte)'\n').Should().Be(-1, "an archive line is one line");
                var again = SegmentValidator.ParseAndValidate(line.WrittenMemory[..^1], now);
                again.IsOk.Should().BeTrue($"an accepted segment stays valid once redacted and archived ({again.Rejection})");
                accepted++;
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"mutation {i} threw {ex.GetType().Name}: {ex.Message}\ninput (base64): {Convert.ToBase64String(datagram)}");
            }
        }

        TestContext.Current.SendDiagnosticMessage($"fuzz: {accepted} accepted, {rejected} rejected, {framing} framing");
        (accepted + rejected + framing).Should().Be(InProcessMutations);
        accepted.Should().BeGreaterThan(0, "some mutations stay valid (e.g. a changed digit)");
        rejected.Should().BeGreaterThan(InProcessMutations / 4);
    }

    [Fact]
    public async Task Fuzz_MutationsThroughRelayAndIngest_EveryDatagramAccountedFor()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, shards: 1, seed: 202);
        var relay = await pipeline.StartRelayAsync();
        var seeds = FuzzSeeds();
        var mutator = new SegmentMutator(seed: 7);
        var datagrams = Enumerable.Range(0, RelayMutations)
            .Select(i => i % 10 == 0 ? mutator.Mutate(BadInputCorpus.Datagram(Encoding.UTF8.GetString(seeds[i % seeds.Count])), seeds) : BadInputCorpus.Datagram(Encoding.UTF8.GetString(mutator.Mutate(seeds[i % seeds.Count], seeds))))
            .ToList();

        await ProofPipeline.SendAsync(relay, datagrams, chunk: 50);
        var acceptedByRelay = await relay.MetricAsync("xray_relay_accepted_segments_total");
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest(), batchSize: 50);
        await mapping.RunUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") == acceptedByRelay, TimeSpan.FromSeconds(90), _ct);

        long dropped = 0;
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            dropped += await relay.MetricAsync($"xray_relay_dropped_segments_total{{reason=\"{DropReasons.Label(reason)}\"}}");
        }

        (await relay.MetricAsync("xray_relay_received_datagrams_total")).Should().Be(RelayMutations);
        (acceptedByRelay + dropped).Should().Be(RelayMutations, "every datagram is accepted or dropped with a reason");
        mapping.FunctionErrors.Should().Be(0);
        mapping.ReportedFailures.Should().Be(0);
        var archived = await pipeline.ReadLinesAsync("segments/");
        var quarantined = await pipeline.ReadLinesAsync("quarantine/");
        (archived.Count + quarantined.Count).Should().Be((int)acceptedByRelay, "every forwarded segment is archived or quarantined");
        quarantined.Select(q => JsonDocument.Parse(q.Line).RootElement.GetProperty("reason").GetString())
            .Should().NotContain("internal_error", "every reject has its own reason");
        foreach (var (_, line) in archived)
        {
            SegmentValidator.ParseAndValidate(Encoding.UTF8.GetBytes(line), DateTimeOffset.UtcNow).IsOk.Should().BeTrue(line);
        }
    }

    private static string Trimmed(byte[] bytes) => Convert.ToBase64String(bytes.AsSpan().Trim(" \t\r\n"u8));

    /// <summary>The real documents MANIFEST.tsv marks invalid (pretty-printed ones are sent as they are).</summary>
    private static List<(string File, string Text)> RealInvalidDocuments() =>
        [.. File.ReadAllLines(Path.Combine(RepoPaths.RealSegmentsCorpus, "MANIFEST.tsv"))
            .Skip(1)
            .Select(l => l.Split('\t'))
            .Where(f => f.Length > 3 && f[3] == "invalid")
            .Select(f => (f[0], File.ReadAllText(Path.Combine(RepoPaths.RealSegmentsCorpus, f[0]))))];

    private static List<byte[]> FuzzSeeds()
    {
        var seeds = ProofTraffic.Segments(8, seed: 99).Select(s => s.Datagram.AsSpan(BadInputCorpus.Header.Length + 1).ToArray()).ToList();
        seeds.AddRange(File.ReadAllLines(Path.Combine(RepoPaths.RealSegmentsCorpus, "MANIFEST.tsv"))
            .Skip(1)
            .Select(l => l.Split('\t'))
            .Where(f => f.Length > 3 && f[3] == "valid")
            .Select(f => File.ReadAllBytes(Path.Combine(RepoPaths.RealSegmentsCorpus, f[0]))));
        return seeds;
    }
}
