using System.Text.Json;
using Pipeline.Aws.DynamoDb;
using Pipeline.Aws.Kinesis;
using Pipeline.Core.Kpl;
using Pipeline.Core.Sampling;
using Pipeline.Functions.Ingest;
using Pipeline.Lambda;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Resilience;
using Pipeline.Runtime.Telemetry;
using Pipeline.Testing;
using Pipeline.Testing.Builders;
using Pipeline.Testing.Telemetry;

namespace Pipeline.IntegrationTests.Ingest;

/// <summary>
/// Relay-style records through moto Kinesis, read back with GetRecords, through the ingest handler
/// with the real S3, DynamoDB and X-Ray clients; the archive is read back from moto S3 and counted.
/// </summary>
public sealed class IngestMotoTests(MotoFixture moto) : IClassFixture<MotoFixture>
{
    [Fact]
    public async Task Ingest_RelayRecordsThroughMoto_ArchiveHoldsEachValidSegmentOnceAndQuarantineTheRest()
    {
        var ct = TestContext.Current.CancellationToken;
        using var pipeline = await MotoPipeline.CreateAsync(moto, ct);
        var start = TimeProvider.System.GetUtcNow().AddMinutes(-1);
        var plain = Enumerable.Range(0, 20).Select(i => SegmentBuilder.Segment("svc-" + (i % 4), seed: 7000 + i, start: start)).ToList();
        var fault = SegmentBuilder.Segment("checkout", seed: 7100, start: start).WithFault();
        var aggregated = Enumerable.Range(0, 3).Select(i => SegmentBuilder.Segment("agg", seed: 7200 + i, start: start)).ToList();
        var withHeader = SegmentBuilder.Segment("legacy", seed: 7300, start: start);
        var aggregator = new KplAggregator();
        foreach (var s in aggregated)
        {
            aggregator.TryAdd(s.TraceId, null, s.ToUtf8()).Should().BeTrue();
        }

        List<PutRecordsEntry> entries =
        [
            .. plain.Select(s => new PutRecordsEntry(s.ToUtf8(), s.TraceId)),
            new(fault.ToUtf8(), fault.TraceId),
            new(aggregator.Build(), aggregator.PartitionKey!),
            new(withHeader.ToDatagram(), withHeader.TraceId),
            new("""{"name":"no-trace-id"}"""u8.ToArray(), "untraced-0"),
        ];
        await pipeline.PutAsync(entries, ct);
        var (events, records) = await pipeline.ReadEventAsync(afterSequence: null, ct);
        records.Should().HaveCount(entries.Count);
        var sink = new RecordingMetricsSink();
        var handler = Handler(pipeline, sink);

        var failures = await RunAsync(handler, events, ct);

        failures.Should().BeEmpty();
        var archived = await pipeline.ReadLinesAsync("segments/", ct);
        var expected = plain.Append(fault).Concat(aggregated).Append(withHeader).Select(s => s.Id).ToList();
        archived.Select(IdOf).Should().BeEquivalentTo(expected).And.OnlyHaveUniqueItems();
        (await pipeline.Clients.ObjectStore.ListAsync(pipeline.Bucket, "segments/", cancellationToken: ct)).Should().ContainSingle()
            .Which.Key.Should().EndWith($"-{records[0].SequenceNumber}.ndjson.gz");
        var quarantined = await pipeline.ReadLinesAsync("quarantine/", ct);
        quarantined.Should().ContainSingle().Which.Should().Contain("\"reason\":\"missing_trace_id\"");
        (await pipeline.ReadLinesAsync("usage/", ct)).Should().ContainSingle().Which.Should().Contain("\"segments_valid\":25");
        (await pipeline.ReadLinesAsync("xray-retry/", ct)).Should().BeEmpty("moto's X-Ray took the kept segment");
        using var emf = JsonDocument.Parse(sink.Lines.Single());
        emf.RootElement.GetProperty("SegmentsKept").GetInt32().Should().Be(1, "rate 0 keeps only the faulted trace");
        emf.RootElement.GetProperty("XRayCalls").GetInt32().Should().Be(1);
    }

    [Fact]
    public async Task Ingest_LateSegmentOfATailKeptTrace_KeptThroughTheDynamoDbDecisionInTheNextInvocation()
    {
        var ct = TestContext.Current.CancellationToken;
        using var pipeline = await MotoPipeline.CreateAsync(moto, ct);
        var start = TimeProvider.System.GetUtcNow().AddMinutes(-1);
        var root = SegmentBuilder.Segment("front", seed: 8000, start: start).WithError();
        var late = SegmentBuilder.IndependentSubsegment("db", seed: 8001, start: start).WithTraceId(root.TraceId);
        var unrelated = SegmentBuilder.Segment("front", seed: 8002, start: start);

        await pipeline.PutAsync([new PutRecordsEntry(root.ToUtf8(), root.TraceId)], ct);
        var (first, firstRecords) = await pipeline.ReadEventAsync(null, ct);
        (await RunAsync(Handler(pipeline, new RecordingMetricsSink()), first, ct)).Should().BeEmpty();
        await pipeline.PutAsync([new PutRecordsEntry(late.ToUtf8(), late.TraceId), new PutRecordsEntry(unrelated.ToUtf8(), unrelated.TraceId)], ct);
        var (second, _) = await pipeline.ReadEventAsync(firstRecords[^1].SequenceNumber, ct);
        var sink = new RecordingMetricsSink();

        (await RunAsync(Handler(pipeline, sink), second, ct)).Should().BeEmpty();

        using var emf = JsonDocument.Parse(sink.Lines.Single());
        emf.RootElement.GetProperty("SegmentsKept").GetInt32().Should().Be(1, "the late segment follows the remembered tail decision; the unrelated one is dropped");
        (await pipeline.ReadLinesAsync("segments/", ct)).Select(IdOf).Should().BeEquivalentTo([root.Id, late.Id, unrelated.Id]);
    }

    [Fact]
    public async Task DecisionTable_ExpiredItemsIgnoredAndBatchesBeyondTheCallLimits()
    {
        var ct = TestContext.Current.CancellationToken;
        using var pipeline = await MotoPipeline.CreateAsync(moto, ct);
        var now = TimeProvider.System.GetUtcNow();
        var table = new DynamoDbDecisionTable(pipeline.Clients.DynamoDb, pipeline.Table, TimeProvider.System);
        var live = Enumerable.Range(0, 130).Select(i => new StoredDecision($"1-00000000-{i:x24}", true, nameof(SamplingReason.TailError), now, now.AddHours(1))).ToList();
        var expired = new StoredDecision("1-00000000-ffffffffffffffffffffffff", true, nameof(SamplingReason.TailFault), now.AddDays(-2), now.AddDays(-1));

        await table.PutAsync([.. live, expired], ct);
        var found = await table.GetLiveAsync([.. live.Select(d => d.TraceId), expired.TraceId, "1-00000000-000000000000000000000999"], ct);

        found.Keys.Should().BeEquivalentTo(live.Select(d => d.TraceId));
        found[live[5].TraceId].Reason.Should().Be(nameof(SamplingReason.TailError));
        var store = new DynamoDbTraceDecisionStore(table, TimeProvider.System);
        (await store.GetAsync(live[0].TraceId, ct))!.Value.Reason.Should().Be(SamplingReason.TailError);
        (await store.GetAsync(expired.TraceId, ct)).Should().BeNull();
    }

    private static IngestHandler Handler(MotoPipeline pipeline, IMetricsSink sink)
    {
        var options = IngestOptions.FromEnvironment(new DictionaryEnvironment(pipeline.FunctionEnvironment()!)) with { XRayResend = new BackoffOptions { MaxAttempts = 4, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero } };
        var decisions = new DynamoDbTraceDecisionStore(new DynamoDbDecisionTable(pipeline.Clients.DynamoDb, pipeline.Table, TimeProvider.System), TimeProvider.System);
        return new IngestHandler(options, pipeline.Clients.ObjectStore, pipeline.Clients.XRay, decisions, TimeProvider.System, sink);
    }

    private static async Task<IReadOnlyList<string>> RunAsync(IngestHandler handler, KinesisEventBuilder events, CancellationToken ct)
    {
        using var input = events.BuildStream();
        var context = new InvocationContext("req", TimeProvider.System.GetUtcNow().AddMinutes(2), null, null, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, ct);
        await using var output = await handler.HandleAsync(input, context);
        using var response = await JsonDocument.ParseAsync(output, cancellationToken: ct);
        return [.. response.RootElement.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()!)];
    }

    private static string IdOf(string line) => JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()!;
}
