using Pipeline.Aws.XRay;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Sampling;
using Pipeline.Functions.Ingest;
using Pipeline.Runtime.Resilience;
using Pipeline.Testing.Builders;
using Pipeline.Testing.Telemetry;

namespace Pipeline.Functions.Tests.Ingest;

/// <summary>The ingest handler wired to in-memory fakes, plus helpers that read the archive back.</summary>
internal sealed class IngestHarness
{
    public const string Bucket = "archive-bucket";
    public const string Shard = KinesisEventBuilder.DefaultShardId;
    public static readonly DateTimeOffset FirstArrival = new(2026, 11, 25, 14, 5, 0, TimeSpan.Zero);
    private static readonly BigInteger BaseSequence = BigInteger.Parse("49590338271490256608559692538361571095921575989136588898", CultureInfo.InvariantCulture);

    /// <param name="otlp">X-Ray's OTLP endpoint: when given, XRAY_FORWARD is otlp.</param>
    public IngestHarness(double rate = 1.0, bool forward = true, ITraceDecisionStore? decisions = null, TailPolicy? tail = null, IXRayOtlpClient? otlp = null)
    {
        Store = new InMemoryObjectStore(Time);
        Decisions = decisions ?? new InMemoryTraceDecisionStore(Time);
        Options = new IngestOptions
        {
            ArchiveBucket = Bucket,
            Sampling = new SamplingPolicy { Rules = [IngestOptions.FallbackRule(rate)], Tail = tail ?? new TailPolicy() },
            XRayForward = otlp is not null ? XRayForwardMode.Otlp : forward ? XRayForwardMode.Segments : XRayForwardMode.Off,
            XRayResend = new BackoffOptions { MaxAttempts = 4, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
            FunctionMemoryMb = 1024,
        };
        Handler = new IngestHandler(Options, Store, XRay, Decisions, Time, Metrics, otlp);
    }

    public FakeTimeProvider Time { get; } = TestInvocation.Clock();

    public InMemoryObjectStore Store { get; }

    public FakeXRay XRay { get; } = new();

    public ITraceDecisionStore Decisions { get; }

    public RecordingMetricsSink Metrics { get; } = new();

    public IngestOptions Options { get; }

    public IngestHandler Handler { get; }

    /// <summary>The sequence number of record <paramref name="index"/> of the shard (stable across batches).</summary>
    public static string Sequence(int index) => (BaseSequence + index).ToString(CultureInfo.InvariantCulture);

    /// <summary>An event holding records [from, to) of <paramref name="records"/>, with stable sequence numbers and arrival times.</summary>
    public static KinesisEventBuilder Batch(IReadOnlyList<byte[]> records, int from, int to)
    {
        var builder = new KinesisEventBuilder();
        for (var i = from; i < to; i++)
        {
            builder.ArrivingAt(FirstArrival.AddMilliseconds(i)).AddRecord(records[i], "pk-" + i.ToString(CultureInfo.InvariantCulture), Sequence(i));
        }

        return builder;
    }

    /// <summary>Runs the handler on the event bytes and returns the batchItemFailures' item identifiers.</summary>
    public async Task<IReadOnlyList<string>> RunAsync(KinesisEventBuilder events, TimeSpan? remaining = null)
    {
        using var input = events.BuildStream();
        await using var output = await Handler.HandleAsync(input, TestInvocation.Context(Time, remaining));
        using var response = await JsonDocument.ParseAsync(output, cancellationToken: TestContext.Current.CancellationToken);
        return [.. response.RootElement.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()!)];
    }

    public List<string> ArchivedLines() => Store.Lines(Bucket, "segments/");

    /// <summary>How often each segment id occurs in the archive.</summary>
    public Dictionary<string, int> ArchivedIdCounts() =>
        ArchivedLines()
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()!)
            .GroupBy(id => id, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public List<JsonElement> Quarantined() => [.. Store.Lines(Bucket, "quarantine/").Select(l => JsonDocument.Parse(l).RootElement)];

    /// <summary>The parked segment documents (the .ndjson objects of xray-retry/).</summary>
    public List<string> Parked() => [.. Store.Keys.Where(k => k.StartsWith("xray-retry/", StringComparison.Ordinal) && k.EndsWith(".ndjson", StringComparison.Ordinal)).SelectMany(k => Store.Lines(Bucket, k))];

    public List<string> SentToXRay() => [.. XRay.Calls.SelectMany(c => c)];

    public JsonElement LastEmf() => JsonDocument.Parse(Metrics.Lines[^1]).RootElement;

    /// <summary>Distinct valid segments, each its own trace, with ids from the seeds.</summary>
    public static List<SegmentBuilder> Segments(int count, int seedBase = 100) =>
        [.. Enumerable.Range(0, count).Select(i => SegmentBuilder.Segment("svc-" + (i % 3).ToString(CultureInfo.InvariantCulture), seed: seedBase + i))];
}
