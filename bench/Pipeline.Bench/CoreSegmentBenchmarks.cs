using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Pipeline.Core.Archive;
using Pipeline.Core.Redaction;
using Pipeline.Core.Sampling;
using Pipeline.Core.Segments;

namespace Pipeline.Bench;

/// <summary>
/// The ingest's per-segment path (parse+validate, redact, sample, NDJSON line) against a
/// JsonDocument.Parse parse-only baseline over the same documents. Each benchmark processes the
/// whole corpus once; OperationsPerInvoke makes every figure per segment.
/// Corpora: "sdk" = the Python SDK documents checked in under tests plus the valid real-segments
/// documents; "1kb" = 256 SDK-shaped ~1 KB segments (http, ec2, annotations, DynamoDB and HTTP
/// subsegments) with distinct trace ids.
/// Run: dotnet run -c Release --project bench/Pipeline.Bench -- --filter '*Core*'
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class CoreSegmentBenchmarks
{
    private const int Docs = 256;
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private byte[][] _documents = [];
    private ParsedSegment[] _parsed = [];
    private Redactor _redactor = null!;
    private TraceSampler _sampler = null!;
    private ArrayBufferWriter<byte> _output = null!;

    [Params("1kb", "sdk")]
    public string Corpus { get; set; } = "1kb";

    [GlobalSetup]
    public void Setup()
    {
        var distinct = Corpus == "1kb" ? OneKilobyteDocuments() : SdkAndRealDocuments();
        _documents = [.. Enumerable.Range(0, Docs).Select(i => distinct[i % distinct.Length])];
        _parsed = [.. _documents.Select(d => SegmentValidator.ParseAndValidate(d, Now).Segment ?? throw new InvalidOperationException("corpus document is invalid"))];
        _redactor = new Redactor(RedactionPolicy.Default);
        _sampler = new TraceSampler(SamplingPolicy.Default);
        _output = new ArrayBufferWriter<byte>(64 * 1024);
        Console.WriteLine($"// corpus {Corpus}: {_documents.Length} documents, mean {_documents.Average(d => d.Length):F0} bytes");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Docs)]
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

    [Benchmark(OperationsPerInvoke = Docs)]
    public int ParseAndValidate()
    {
        var count = 0;
        foreach (var doc in _documents)
        {
            count += SegmentValidator.ParseAndValidate(doc, Now).IsOk ? 1 : 0;
        }

        return count;
    }

    [Benchmark(OperationsPerInvoke = Docs)]
    public int Redact()
    {
        var bytes = 0;
        foreach (var segment in _parsed)
        {
            bytes += _redactor.Redact(segment).Document.Length;
        }

        return bytes;
    }

    [Benchmark(OperationsPerInvoke = Docs)]
    public int Sample()
    {
        var kept = 0;
        foreach (var segment in _parsed)
        {
            kept += _sampler.Decide(segment, null, Now).Keep ? 1 : 0;
        }

        return kept;
    }

    [Benchmark(OperationsPerInvoke = Docs)]
    public int WholePath()
    {
        _output.ResetWrittenCount();
        var kept = 0;
        foreach (var doc in _documents)
        {
            var result = SegmentValidator.ParseAndValidate(doc, Now);
            if (!result.IsOk)
            {
                continue;
            }

            var redacted = _redactor.Redact(result.Segment);
            kept += _sampler.Decide(result.Segment, null, Now).Keep ? 1 : 0;
            ArchiveLines.WriteSegment(_output, redacted.Document.Span);
        }

        return kept;
    }

    private const string Template = """{"id": "@0@", "name": "orders-api", "start_time": @1@, "trace_id": "@2@", "end_time": @3@5, "in_progress": false, "origin": "AWS::EC2::Instance", "http": {"request": {"method": "GET", "url": "https://orders.example.com/orders/@4@", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "client_ip": "10.0.@5@.7"}, "response": {"status": @6@, "content_length": 512}}, "aws": {"ec2": {"instance_id": "i-0abc123def4567890", "availability_zone": "us-east-1a"}, "xray": {"sdk": "X-Ray for Python", "sdk_version": "2.15.0"}}, "annotations": {"customer_tier": "gold", "items": @7@}, "subsegments": [{"id": "@8@", "name": "DynamoDB", "start_time": @9@1, "end_time": @10@2, "namespace": "aws", "in_progress": false, "aws": {"operation": "GetItem", "region": "us-east-1", "request_id": "@11@", "table_name": "orders", "retries": 0}, "http": {"response": {"status": 200}}}, {"id": "@12@", "name": "payments.example.com", "start_time": @13@2, "end_time": @14@4, "namespace": "remote", "in_progress": false, "http": {"request": {"method": "POST", "url": "https://payments.example.com/charge"}, "response": {"status": 201}}}]}""";

    private static byte[][] OneKilobyteDocuments()
    {
        var random = new Random(42);
        string Hex(int digits)
        {
            var bytes = new byte[digits / 2];
            random.NextBytes(bytes);
            return Convert.ToHexStringLower(bytes);
        }

        var start = Now.ToUnixTimeMilliseconds() / 1000.0 - 60;
        return [.. Enumerable.Range(0, Docs).Select(i =>
        {
            var t = (start + i).ToString("F3", CultureInfo.InvariantCulture);
            var trace = $"1-{(long)(start + i):x8}-{Hex(24)}";
            var status = i % 50 == 0 ? 500 : 200;
            var doc = Template
                .Replace("@0@", Hex(16), StringComparison.Ordinal)
                .Replace("@1@", t, StringComparison.Ordinal)
                .Replace("@2@", trace, StringComparison.Ordinal)
                .Replace("@3@", t, StringComparison.Ordinal)
                .Replace("@4@", i.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("@5@", (i % 250).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("@6@", status.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("@7@", (i % 7).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("@8@", Hex(16), StringComparison.Ordinal)
                .Replace("@9@", t, StringComparison.Ordinal)
                .Replace("@10@", t, StringComparison.Ordinal)
                .Replace("@11@", Hex(32).ToUpperInvariant(), StringComparison.Ordinal)
                .Replace("@12@", Hex(16), StringComparison.Ordinal)
                .Replace("@13@", t, StringComparison.Ordinal)
                .Replace("@14@", t, StringComparison.Ordinal);
            return Encoding.UTF8.GetBytes(doc);
        })];
    }

    private static byte[][] SdkAndRealDocuments()
    {
        var root = FindRoot();
        var sdk = Directory.GetFiles(Path.Combine(root, "tests", "Pipeline.Core.Tests", "Corpus", "sdk"), "*.json");
        var real = Path.Combine(root, "..", "shared", "corpus", "real-segments", "docs");
        var realFiles = Directory.Exists(real) ? Directory.GetFiles(real, "*.json") : [];
        return [.. sdk.Concat(realFiles)
            .Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes)
            .Where(d => SegmentValidator.ParseAndValidate(d, Now).IsOk)];
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Pipeline.sln not found: run the benchmarks from the repository.");
    }
}
