using System.Text;
using System.Text.Json;
using Pipeline.Core.Archive;
using Pipeline.Core.Kpl;
using Pipeline.Core.Sampling;
using Pipeline.Core.Usage;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest;

public sealed class IngestHandlerTests
{
    private static readonly string FirstSeq = IngestHarness.Sequence(0);

    [Fact]
    public async Task Ingest_ValidSegments_ArchivedOnceAsGzipNdjsonUnderShardAndFirstSequence()
    {
        var harness = new IngestHarness();
        var segments = IngestHarness.Segments(3);

        var failures = await harness.RunAsync(IngestHarness.Batch([.. segments.Select(s => s.ToUtf8())], 0, 3));

        failures.Should().BeEmpty();
        harness.Store.Keys.Should().Contain($"segments/dt=2026-11-25/hour=14/{IngestHarness.Shard}-{FirstSeq}.ndjson.gz");
        harness.ArchivedLines().Should().Equal(segments.Select(s => s.ToJson()));
        harness.Store.Keys.Should().NotContain(k => k.StartsWith("quarantine/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ingest_InvalidDocument_QuarantinedWithReasonPathAndOriginalBytesAndBatchSucceeds()
    {
        var harness = new IngestHarness();
        var good = SegmentBuilder.Segment(seed: 7);
        var bad = SegmentBuilder.Segment(seed: 8).WithTraceId("1-nothex!-000000000000000000000000").ToUtf8();

        var failures = await harness.RunAsync(IngestHarness.Batch([good.ToUtf8(), bad], 0, 2));

        failures.Should().BeEmpty();
        harness.ArchivedLines().Should().Equal(good.ToJson());
        var entry = harness.Quarantined().Should().ContainSingle().Subject;
        entry.GetProperty("reason").GetString().Should().Be("invalid_trace_id");
        entry.GetProperty("path").GetString().Should().Be("$.trace_id");
        entry.GetProperty("sequence_number").GetString().Should().Be(IngestHarness.Sequence(1));
        entry.GetProperty("original_base64").GetBytesFromBase64().Should().Equal(bad);
        harness.Store.Keys.Should().Contain($"quarantine/dt=2026-11-25/{IngestHarness.Shard}-{FirstSeq}.ndjson.gz");
        harness.LastEmf().GetProperty("Rejects").GetProperty("invalid_trace_id").GetInt32().Should().Be(1);
    }

    [Fact]
    public async Task Ingest_NotJson_QuarantinedNeverThrown()
    {
        var harness = new IngestHarness();

        var failures = await harness.RunAsync(IngestHarness.Batch([[0xFF, 0x00, 0x7B]], 0, 1));

        failures.Should().BeEmpty();
        harness.Quarantined().Should().ContainSingle().Which.GetProperty("reason").GetString().Should().Be("invalid_json");
    }

    [Fact]
    public async Task Ingest_SecretHeader_RedactedInArchiveAndInXRay()
    {
        var harness = new IngestHarness(rate: 1.0);
        var segment = SegmentBuilder.Segment(seed: 9).WithHttp("GET", "https://api.example.com/x?token=abc123", 200, new Dictionary<string, string> { ["Authorization"] = "Bearer s3cr3t" });

        await harness.RunAsync(IngestHarness.Batch([segment.ToUtf8()], 0, 1));

        var archived = harness.ArchivedLines().Should().ContainSingle().Subject;
        archived.Should().NotContain("s3cr3t").And.NotContain("abc123").And.Contain("REDACTED");
        harness.SentToXRay().Should().ContainSingle().Which.Should().Be(archived);
        harness.LastEmf().GetProperty("SegmentsRedacted").GetInt32().Should().Be(1);
    }

    [Fact]
    public async Task Ingest_HeadRateOne_KeptSegmentsSentToXRay()
    {
        var harness = new IngestHarness(rate: 1.0);
        var segments = IngestHarness.Segments(4);

        await harness.RunAsync(IngestHarness.Batch([.. segments.Select(s => s.ToUtf8())], 0, 4));

        harness.SentToXRay().Should().Equal(segments.Select(s => s.ToJson()));
        harness.LastEmf().GetProperty("SegmentsKept").GetInt32().Should().Be(4);
        harness.LastEmf().GetProperty("TracesKept").GetInt32().Should().Be(4);
    }

    [Fact]
    public async Task Ingest_HeadRateZero_DroppedFromXRayButArchived()
    {
        var harness = new IngestHarness(rate: 0.0);
        var segments = IngestHarness.Segments(4);

        await harness.RunAsync(IngestHarness.Batch([.. segments.Select(s => s.ToUtf8())], 0, 4));

        harness.XRay.Calls.Should().BeEmpty();
        harness.ArchivedLines().Should().HaveCount(4);
        harness.LastEmf().GetProperty("SegmentsKept").GetInt32().Should().Be(0);
        harness.LastEmf().GetProperty("TracesSeen").GetInt32().Should().Be(4);
    }

    [Fact]
    public async Task Ingest_HeadHalfRate_SameDecisionForEverySegmentOfATraceAcrossBatches()
    {
        var harness = new IngestHarness(rate: 0.5);
        var roots = IngestHarness.Segments(40);
        var children = roots.Select((r, i) => SegmentBuilder.IndependentSubsegment("db", seed: 500 + i).WithTraceId(r.TraceId)).ToList();

        await harness.RunAsync(IngestHarness.Batch([.. roots.Select(s => s.ToUtf8())], 0, 40));
        var keptRoots = harness.SentToXRay().Select(TraceOf).ToHashSet();
        harness.XRay.Calls.Clear();
        await harness.RunAsync(IngestHarness.Batch([.. children.Select(s => s.ToUtf8())], 0, 40).FromShard("shardId-000000000001"));
        var keptChildren = harness.SentToXRay().Select(TraceOf).ToHashSet();

        keptRoots.Should().NotBeEmpty().And.HaveCountLessThan(40);
        keptChildren.Should().BeEquivalentTo(keptRoots);
    }

    [Fact]
    public async Task Ingest_FaultWithRateZero_TailKeptAndRemembered()
    {
        var store = new InMemoryTraceDecisionStore(TestInvocation.Clock());
        var harness = new IngestHarness(rate: 0.0, decisions: store);
        var fault = SegmentBuilder.Segment(seed: 11).WithFault();

        await harness.RunAsync(IngestHarness.Batch([fault.ToUtf8()], 0, 1));

        harness.SentToXRay().Should().ContainSingle().Which.Should().Be(fault.ToJson());
        var remembered = await store.GetAsync(fault.TraceId.ToLowerInvariant(), TestContext.Current.CancellationToken);
        remembered.Should().NotBeNull();
        remembered!.Value.Reason.Should().Be(SamplingReason.TailFault);
    }

    [Fact]
    public async Task Ingest_LateSegmentAfterTailDecision_KeptInALaterInvocation()
    {
        var harness = new IngestHarness(rate: 0.0);
        var root = SegmentBuilder.Segment("front", seed: 12).WithError();
        var late = SegmentBuilder.IndependentSubsegment("db", seed: 13).WithTraceId(root.TraceId);
        var unrelated = SegmentBuilder.IndependentSubsegment("db", seed: 14);

        await harness.RunAsync(IngestHarness.Batch([root.ToUtf8()], 0, 1));
        harness.XRay.Calls.Clear();
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        await harness.RunAsync(IngestHarness.Batch([root.ToUtf8(), late.ToUtf8(), unrelated.ToUtf8()], 1, 3));

        harness.SentToXRay().Should().Equal(late.ToJson());
    }

    [Fact]
    public async Task Ingest_LateSegmentAfterDecisionExpired_NotKept()
    {
        var harness = new IngestHarness(rate: 0.0);
        var root = SegmentBuilder.Segment("front", seed: 12).WithError();
        var late = SegmentBuilder.IndependentSubsegment("db", seed: 13).WithTraceId(root.TraceId);

        await harness.RunAsync(IngestHarness.Batch([root.ToUtf8()], 0, 1));
        harness.XRay.Calls.Clear();
        harness.Time.Advance(harness.Options.Sampling.DecisionTimeToLive + TimeSpan.FromMinutes(1));
        await harness.RunAsync(IngestHarness.Batch([root.ToUtf8(), late.ToUtf8()], 1, 2));

        harness.XRay.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Ingest_DecisionStoreDown_BatchSucceedsAndTailStillKept()
    {
        var harness = new IngestHarness(rate: 0.0, decisions: new BrokenDecisionStore());
        var fault = SegmentBuilder.Segment(seed: 15).WithFault();
        var plain = SegmentBuilder.Segment(seed: 16);

        var failures = await harness.RunAsync(IngestHarness.Batch([fault.ToUtf8(), plain.ToUtf8()], 0, 2));

        failures.Should().BeEmpty();
        harness.SentToXRay().Should().Equal(fault.ToJson());
        harness.ArchivedLines().Should().HaveCount(2);
        harness.LastEmf().GetProperty("DecisionStoreErrors").GetInt32().Should().Be(2);
    }

    [Fact]
    public async Task Ingest_KplAggregatedRecord_EachUserRecordArchived()
    {
        var harness = new IngestHarness();
        var segments = IngestHarness.Segments(3);
        var aggregator = new KplAggregator();
        foreach (var s in segments)
        {
            aggregator.TryAdd(s.TraceId, null, s.ToUtf8()).Should().BeTrue();
        }

        var plain = SegmentBuilder.Segment(seed: 40);

        var failures = await harness.RunAsync(IngestHarness.Batch([aggregator.Build(), plain.ToUtf8()], 0, 2));

        failures.Should().BeEmpty();
        harness.ArchivedLines().Should().Equal(segments.Append(plain).Select(s => s.ToJson()));
        harness.LastEmf().GetProperty("KinesisRecords").GetInt32().Should().Be(2);
        harness.LastEmf().GetProperty("SegmentsIn").GetInt32().Should().Be(4);
    }

    [Fact]
    public async Task Ingest_KplRecordWithBadChecksum_QuarantinedWhole()
    {
        var harness = new IngestHarness();
        var aggregator = new KplAggregator();
        aggregator.TryAdd("pk", null, SegmentBuilder.Segment(seed: 41).ToUtf8());
        var corrupt = aggregator.Build();
        corrupt[^1] ^= 0xFF;

        var failures = await harness.RunAsync(IngestHarness.Batch([corrupt], 0, 1));

        failures.Should().BeEmpty();
        var entry = harness.Quarantined().Should().ContainSingle().Subject;
        entry.GetProperty("reason").GetString().Should().Be("kpl_bad_checksum");
        entry.GetProperty("original_base64").GetBytesFromBase64().Should().Equal(corrupt);
    }

    [Fact]
    public async Task Ingest_RecordWithDaemonHeader_DocumentArchivedWithoutHeader()
    {
        var harness = new IngestHarness();
        var segment = SegmentBuilder.Segment(seed: 42);

        await harness.RunAsync(IngestHarness.Batch([segment.ToDatagram()], 0, 1));

        harness.ArchivedLines().Should().Equal(segment.ToJson());
        harness.Quarantined().Should().BeEmpty();
    }

    [Fact]
    public async Task Ingest_120KeptSegments_SentInCallsOfAtMost50()
    {
        var harness = new IngestHarness(rate: 1.0);
        var segments = IngestHarness.Segments(120);

        await harness.RunAsync(IngestHarness.Batch([.. segments.Select(s => s.ToUtf8())], 0, 120));

        harness.XRay.Calls.Select(c => c.Count).Should().Equal(50, 50, 20);
        harness.LastEmf().GetProperty("XRayCalls").GetInt32().Should().Be(3);
    }

    [Fact]
    public async Task Ingest_XRayUnprocessedOnce_ResentAndNothingParked()
    {
        var harness = new IngestHarness(rate: 1.0);
        harness.XRay.RefuseAllCalls = 1;
        var segments = IngestHarness.Segments(3);

        await harness.RunAsync(IngestHarness.Batch([.. segments.Select(s => s.ToUtf8())], 0, 3));

        harness.XRay.Accepted.Should().Equal(segments.Select(s => s.ToJson()));
        harness.XRay.Calls.Should().HaveCount(2);
        harness.Parked().Should().BeEmpty();
    }

    [Fact]
    public async Task Ingest_XRayPartialFailure_RefusedSegmentParkedUnderDeterministicKeyAndBatchSucceeds()
    {
        var harness = new IngestHarness(rate: 1.0);
        var segments = IngestHarness.Segments(3);
        harness.XRay.AlwaysRefuse.Add(segments[1].Id);

        var failures = await harness.RunAsync(IngestHarness.Batch([.. segments.Select(s => s.ToUtf8())], 0, 3));

        failures.Should().BeEmpty();
        harness.Parked().Should().Equal(segments[1].ToJson());
        harness.Store.Keys.Should().Contain($"xray-retry/dt=2026-11-25/{IngestHarness.Shard}-{FirstSeq}.ndjson");
        harness.XRay.Calls.Should().HaveCount(1 + harness.Options.XRayRetryRounds);
        harness.ArchivedLines().Should().HaveCount(3);
        harness.LastEmf().GetProperty("XRayParked").GetInt32().Should().Be(1);
    }

    [Fact]
    public async Task Ingest_XRayOutage_EverythingKeptIsParkedAfterOneCallAndBatchSucceeds()
    {
        var harness = new IngestHarness(rate: 1.0);
        harness.XRay.Down = true;
        var segments = IngestHarness.Segments(75);

        var failures = await harness.RunAsync(IngestHarness.Batch([.. segments.Select(s => s.ToUtf8())], 0, 75));

        failures.Should().BeEmpty();
        harness.XRay.Calls.Should().ContainSingle("an outage stops the sending instead of stalling the shard");
        harness.Parked().Should().Equal(segments.Select(s => s.ToJson()));
        harness.ArchivedLines().Should().HaveCount(75);
    }

    [Fact]
    public async Task Ingest_DeadlineNear_KeptSegmentsParkedUnsent()
    {
        var harness = new IngestHarness(rate: 1.0);
        var segments = IngestHarness.Segments(2);

        var failures = await harness.RunAsync(IngestHarness.Batch([.. segments.Select(s => s.ToUtf8())], 0, 2), remaining: TimeSpan.FromSeconds(3));

        failures.Should().BeEmpty();
        harness.XRay.Calls.Should().BeEmpty();
        harness.Parked().Should().HaveCount(2);
    }

    [Fact]
    public async Task Ingest_ArchiveDown_ReportsFirstRecordAndSendsNothingElse()
    {
        var harness = new IngestHarness(rate: 1.0);
        harness.Store.FailingPrefixes.Add("segments/");
        var segments = IngestHarness.Segments(3);

        var failures = await harness.RunAsync(IngestHarness.Batch([.. segments.Select(s => s.ToUtf8())], 0, 3));

        failures.Should().Equal(FirstSeq);
        harness.XRay.Calls.Should().BeEmpty();
        harness.Store.Keys.Should().BeEmpty();
        harness.LastEmf().GetProperty("ArchiveFailures").GetInt32().Should().Be(1);
    }

    [Fact]
    public async Task Ingest_QuarantineDown_ReportsFirstRecord()
    {
        var harness = new IngestHarness();
        harness.Store.FailingPrefixes.Add("quarantine/");

        var failures = await harness.RunAsync(IngestHarness.Batch([SegmentBuilder.Segment(seed: 3).ToUtf8(), "{"u8.ToArray()], 0, 2));

        failures.Should().Equal(FirstSeq);
    }

    [Fact]
    public async Task Ingest_XRayAndParkingBothDown_ReportsFirstRecordForAFullRetry()
    {
        var harness = new IngestHarness(rate: 1.0);
        harness.XRay.Down = true;
        harness.Store.FailingPrefixes.Add("xray-retry/");

        var failures = await harness.RunAsync(IngestHarness.Batch([SegmentBuilder.Segment(seed: 3).ToUtf8()], 0, 1));

        failures.Should().Equal(FirstSeq);
        harness.ArchivedLines().Should().HaveCount(1, "the archive was written and a retry overwrites it");
    }

    [Fact]
    public async Task Ingest_UsageRecord_WrittenUnderBatchKeyWithTheCounts()
    {
        var harness = new IngestHarness(rate: 0.0);
        var root = SegmentBuilder.Segment("front", seed: 20).WithFault();
        var child = SegmentBuilder.IndependentSubsegment("db", seed: 21).WithTraceId(root.TraceId);
        var other = SegmentBuilder.Segment("front", seed: 22);

        await harness.RunAsync(IngestHarness.Batch([root.ToUtf8(), child.ToUtf8(), other.ToUtf8(), "{}"u8.ToArray()], 0, 4));

        var key = ArchiveKeys.Usage(IngestHarness.Shard, FirstSeq, IngestHarness.FirstArrival);
        var usage = UsageJson.TryDeserialize(harness.Store.Get(IngestHarness.Bucket, key));
        usage.Should().NotBeNull();
        usage!.FirstSequence.Should().Be(FirstSeq);
        usage.LastSequence.Should().Be(IngestHarness.Sequence(3));
        usage.KinesisRecords.Should().Be(4);
        usage.SegmentsIn.Should().Be(4);
        usage.SegmentsValid.Should().Be(3);
        usage.SegmentsInvalid.Should().Be(1);
        usage.SegmentsKept.Should().Be(2);
        usage.TracesSeen.Should().Be(2);
        usage.TracesKept.Should().Be(1);
        usage.KeptByReason.TailFault.Should().Be(1);
        usage.XRayPutCalls.Should().Be(1);
        usage.XRayDocuments.Should().Be(2);
        usage.S3Puts.Should().Be(3, "segments, quarantine and the usage file");
        usage.LambdaMemoryMb.Should().Be(1024);
        usage.Services.Select(s => (s.Name, s.Segments, s.Traces)).Should().Equal(("db", 1L, 1L), ("front", 2L, 2L));
    }

    [Fact]
    public async Task Ingest_EmfLine_HasNamespaceDimensionAndEveryMetric()
    {
        var harness = new IngestHarness(rate: 1.0);

        await harness.RunAsync(IngestHarness.Batch([SegmentBuilder.Segment(seed: 30).ToUtf8(), "x"u8.ToArray()], 0, 2));

        harness.Metrics.Lines.Should().ContainSingle().Which.Should().NotContain("\n");
        var emf = harness.LastEmf();
        var directive = emf.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0];
        directive.GetProperty("Namespace").GetString().Should().Be("XRayPipeline");
        directive.GetProperty("Dimensions")[0][0].GetString().Should().Be("Function");
        emf.GetProperty("Function").GetString().Should().Be("ingest");
        var names = directive.GetProperty("Metrics").EnumerateArray().Select(m => m.GetProperty("Name").GetString()!).ToList();
        names.Should().Contain(["SegmentsIn", "SegmentsValid", "SegmentsInvalid", "SegmentsKept", "TracesSeen", "TracesKept", "BytesArchived", "XRayCalls"]);
        foreach (var name in names)
        {
            emf.TryGetProperty(name, out _).Should().BeTrue(name);
        }

        emf.GetProperty("SegmentsIn").GetInt32().Should().Be(2);
        emf.GetProperty("SegmentsInvalid").GetInt32().Should().Be(1);
        emf.GetProperty("BytesArchived").GetInt64().Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Ingest_ForwardingOff_NothingSentEverythingArchived()
    {
        var harness = new IngestHarness(rate: 1.0, forward: false);

        await harness.RunAsync(IngestHarness.Batch([SegmentBuilder.Segment(seed: 31).WithFault().ToUtf8()], 0, 1));

        harness.XRay.Calls.Should().BeEmpty();
        harness.ArchivedLines().Should().HaveCount(1);
    }

    [Fact]
    public async Task Ingest_EmptyEvent_SucceedsWithoutWrites()
    {
        var harness = new IngestHarness();

        var failures = await harness.RunAsync(new KinesisEventBuilder());

        failures.Should().BeEmpty();
        harness.Store.PutKeys.Should().BeEmpty();
    }

    private static string TraceOf(string document)
    {
        using var json = JsonDocument.Parse(Encoding.UTF8.GetBytes(document));
        return json.RootElement.GetProperty("trace_id").GetString()!;
    }
}
