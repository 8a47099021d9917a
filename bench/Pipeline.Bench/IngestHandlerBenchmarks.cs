using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws.Storage;
using Pipeline.Aws.XRay;
using Pipeline.Core.Kpl;
using Pipeline.Core.Sampling;
using Pipeline.Core.Segments;
using Pipeline.Functions.Ingest;
using Pipeline.Lambda;
using Pipeline.Runtime.Resilience;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Bench;

/// <summary>
/// Segments per second through the whole ingest handler (event JSON + base64, KPL de-aggregation,
/// parse + validate, redact, sample, gzip NDJSON archive, X-Ray batching, usage JSON, EMF line)
/// with in-memory sinks, against the same JsonDocument.Parse parse-only baseline as
/// <see cref="CoreSegmentBenchmarks"/> over the same documents. One invocation = one Kinesis batch
/// of <see cref="Records"/> records; OperationsPerInvoke makes every figure per segment.
/// Run: dotnet run -c Release --project bench/Pipeline.Bench -- --filter '*IngestHandler*'
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class IngestHandlerBenchmarks
{
    private const int Records = 1000;
    private const int KplRecordsPerAggregate = 10;
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private byte[][] _documents = [];
    private byte[] _plainEvent = [];
    private byte[] _aggregatedEvent = [];
    private IngestHandler _handler = null!;
    private InvocationContext _context = null!;
    private long _handlerSegments;
    private TimeSpan _cpuAtSetup;

    /// <summary>Head rate of the fallback rule: 0.1 is the template default.</summary>
    [Params(0.1)]
    public double SamplingRate { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _documents = Documents(Records);
        if (!_documents.All(d => SegmentValidator.ParseAndValidate(d, Now).IsOk))
        {
            throw new InvalidOperationException("a bench document is invalid: the bench would measure the quarantine path");
        }

        _plainEvent = Event([.. _documents.Select(d => (d, TraceOf(d)))]);
        var aggregated = new List<(byte[], string)>();
        foreach (var group in _documents.Chunk(KplRecordsPerAggregate))
        {
            var aggregator = new KplAggregator();
            foreach (var d in group)
            {
                aggregator.TryAdd(TraceOf(d), null, d);
            }

            aggregated.Add((aggregator.Build(), aggregator.PartitionKey!));
        }

        _aggregatedEvent = Event(aggregated);
        var time = new FixedTime(Now);
        var options = new IngestOptions
        {
            ArchiveBucket = "bench",
            Sampling = new SamplingPolicy { Rules = [IngestOptions.FallbackRule(SamplingRate)] },
            XRayResend = new BackoffOptions { MaxAttempts = 4, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
        };
        _handler = new IngestHandler(options, new DiscardingStore(), new AcceptingXRay(), new InMemoryTraceDecisionStore(time), time, new NullSink());
        _context = new InvocationContext("bench", Now.AddMinutes(10), null, null, time, NullLogger.Instance, CancellationToken.None);
        Console.WriteLine($"// {Records} documents, mean {_documents.Average(d => d.Length):F0} bytes; event {_plainEvent.Length} bytes");
        _cpuAtSetup = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
    }

    /// <summary>
    /// Segments per CPU-second over the whole run of a handler benchmark (warm-up and pilot included):
    /// on a shared, loaded machine CPU time says more about per-core throughput than wall time.
    /// </summary>
    [GlobalCleanup]
    public void ReportCpuThroughput()
    {
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - _cpuAtSetup;
        if (_handlerSegments > 0 && cpu > TimeSpan.Zero)
        {
            Console.WriteLine($"// CPU: {_handlerSegments} segments through the handler in {cpu.TotalSeconds:F2} s of CPU = {_handlerSegments / cpu.TotalSeconds:F0} segments per CPU-second");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public int JsonDocumentParseOnly()
    {
        var count = 0;
        foreach (var doc in _documents)
        {
            using var json = JsonDocument.Parse(doc);
            count += json.RootElement.ValueKind == JsonValueKind.Object ? 1 : 0;
        }

        return count;
    }

    [Benchmark(OperationsPerInvoke = Records)]
    public async Task<long> HandlerPlainRecords()
    {
        using var input = new MemoryStream(_plainEvent, writable: false);
        _handlerSegments += Records;
        await using var output = await _handler.HandleAsync(input, _context).ConfigureAwait(false);
        return output.Length;
    }

    [Benchmark(OperationsPerInvoke = Records)]
    public async Task<long> HandlerKplAggregatedRecords()
    {
        using var input = new MemoryStream(_aggregatedEvent, writable: false);
        _handlerSegments += Records;
        await using var output = await _handler.HandleAsync(input, _context).ConfigureAwait(false);
        return output.Length;
    }

    private static string TraceOf(byte[] document)
    {
        using var json = JsonDocument.Parse(document);
        return json.RootElement.GetProperty("trace_id").GetString()!;
    }

    /// <summary>The Kinesis event-source JSON for these records, one shard, consecutive sequence numbers.</summary>
    private static byte[] Event(List<(byte[] Data, string PartitionKey)> records)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("Records");
            for (var i = 0; i < records.Count; i++)
            {
                var sequence = "4959033827149025660855969253836157109592157598913" + (1_000_000 + i).ToString(CultureInfo.InvariantCulture);
                json.WriteStartObject();
                json.WriteStartObject("kinesis");
                json.WriteString("kinesisSchemaVersion", "1.0");
                json.WriteString("partitionKey", records[i].PartitionKey);
                json.WriteString("sequenceNumber", sequence);
                json.WriteBase64String("data", records[i].Data);
                json.WriteNumber("approximateArrivalTimestamp", (Now.ToUnixTimeMilliseconds() + i) / 1000m);
                json.WriteEndObject();
                json.WriteString("eventSource", "aws:kinesis");
                json.WriteString("eventVersion", "1.0");
                json.WriteString("eventID", "shardId-000000000000:" + sequence);
                json.WriteString("eventName", "aws:kinesis:record");
                json.WriteString("awsRegion", "us-east-1");
                json.WriteString("eventSourceARN", "arn:aws:kinesis:us-east-1:123456789012:stream/xray-segments");
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>~1 KB SDK-shaped segments (HTTP, EC2, annotations, a DynamoDB and an HTTP subsegment); every 50th a 500, every 10th with an auth header to redact.</summary>
    private static byte[][] Documents(int count)
    {
        // One line in the documents; broken here for reading only.
        var template = """
            {"id":"#ID#","name":"orders-api","start_time":#T#,"trace_id":"#TRACE#","end_time":#T#5,"origin":"AWS::EC2::Instance",
            "http":{"request":{"method":"GET","url":"https://orders.example.com/orders/#N#","user_agent":"Mozilla/5.0 (X11; Linux x86_64)","client_ip":"10.0.#IP#.7"#HEADERS#},"response":{"status":#STATUS#,"content_length":512}},
            "aws":{"ec2":{"instance_id":"i-0abc123def4567890","availability_zone":"us-east-1a"},"xray":{"sdk":"X-Ray for Python","sdk_version":"2.15.0"}},
            "annotations":{"customer_tier":"gold","items":#ITEMS#},"subsegments":[
            {"id":"#SUB1#","name":"DynamoDB","start_time":#T#1,"end_time":#T#2,"namespace":"aws","aws":{"operation":"GetItem","region":"us-east-1","request_id":"#REQ#","table_name":"orders","retries":0},"http":{"response":{"status":200}}},
            {"id":"#SUB2#","name":"payments.example.com","start_time":#T#2,"end_time":#T#4,"namespace":"remote","http":{"request":{"method":"POST","url":"https://payments.example.com/charge"},"response":{"status":201}}}]}
            """.ReplaceLineEndings(string.Empty);
        var random = new Random(7);
        string Hex(int digits)
        {
            var bytes = new byte[digits / 2];
            random.NextBytes(bytes);
            return Convert.ToHexStringLower(bytes);
        }

        string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
        var start = (Now.ToUnixTimeMilliseconds() / 1000.0) - 60;
        return [.. Enumerable.Range(0, count).Select(i => Encoding.UTF8.GetBytes(template
            .Replace("#ID#", Hex(16), StringComparison.Ordinal)
            .Replace("#T#", (start + (i / 100.0)).ToString("F3", CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("#TRACE#", "1-" + ((long)start).ToString("x8", CultureInfo.InvariantCulture) + "-" + Hex(24), StringComparison.Ordinal)
            .Replace("#N#", Number(i), StringComparison.Ordinal)
            .Replace("#IP#", Number(i % 250), StringComparison.Ordinal)
            .Replace("#HEADERS#", i % 10 == 0 ? ""","headers":{"authorization":"Bearer abc.def"}""" : string.Empty, StringComparison.Ordinal)
            .Replace("#STATUS#", i % 50 == 0 ? "500" : "200", StringComparison.Ordinal)
            .Replace("#ITEMS#", Number(i % 7), StringComparison.Ordinal)
            .Replace("#SUB1#", Hex(16), StringComparison.Ordinal)
            .Replace("#REQ#", Hex(32).ToUpperInvariant(), StringComparison.Ordinal)
            .Replace("#SUB2#", Hex(16), StringComparison.Ordinal)))];
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private sealed class DiscardingStore : IObjectStore
    {
        public Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default) => Task.FromResult<byte[]?>(null);

        public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10_000, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<StoredObject>>([]);
    }

    private sealed class AcceptingXRay : IXRayClient
    {
        public Task<IReadOnlyList<UnprocessedTraceSegment>> PutTraceSegmentsAsync(IReadOnlyList<string> segmentDocuments, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<UnprocessedTraceSegment>>([]);

        public Task<SamplingRulesPage> GetSamplingRulesAsync(string? nextToken = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SamplingTargetsResult> GetSamplingTargetsAsync(IReadOnlyList<SamplingStatistics> statistics, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }

    private sealed class NullSink : IMetricsSink
    {
        public void WriteLine(ReadOnlySpan<byte> utf8Json)
        {
        }
    }
}
