using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Pipeline.Core.Archive;

namespace Pipeline.Bench.Harness;

/// <summary>
/// Writes one day of archive the way the ingest does (bucket key layout under a directory):
/// traces shaped like the demo's (service-a → service-b → DynamoDB, an independent render
/// subsegment, optionally service-c), started uniformly over the day, each segment arriving on the
/// shard its trace id hashes to a moment after it ends, cut into batches of <c>batch</c> records
/// per shard, one gzip NDJSON object per batch keyed by the batch's first record
/// (<see cref="ArchiveKeys.Segments"/>, <see cref="ArchiveLines.WriteSegment"/>,
/// <see cref="ArchiveObjects.Gzip"/>). Deterministic for a seed. About 1 % of traces fault,
/// 2 % have an error, 0.5 % a throttle.
/// </summary>
internal sealed class ArchiveDay
{
    public const int Shards = 2;

    private readonly Random _random;
    private readonly DateOnly _day;
    private readonly int _batch;
    private readonly string _root;
    private readonly Shard[] _shards;

    public ArchiveDay(string root, DateOnly day, int batch, int seed)
    {
        _root = root;
        _day = day;
        _batch = batch;
        _random = new Random(seed);
        _shards = Enumerable.Range(0, Shards).Select(i => new Shard($"shardId-{i:D12}")).ToArray();
    }

    /// <summary>What was written, and a few trace ids to look up (a faulted one first).</summary>
    public sealed record Written(long Segments, long Traces, long Objects, long Bytes, IReadOnlyList<string> FaultedTraces, IReadOnlyList<string> SampleTraces);

    public Written Write(long segments)
    {
        var start = new DateTimeOffset(_day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        // Four documents per trace on average (three or five): 1M segments is about 250k traces.
        var traces = segments / 4;
        var step = TimeSpan.FromDays(1).TotalMilliseconds / traces;
        long written = 0;
        long count = 0;
        var faulted = new List<string>();
        var samples = new List<string>();
        for (long t = 0; written < segments; t++)
        {
            // Evenly spread with jitter, ending a little before midnight so that arrivals stay in the day.
            var at = start.AddMilliseconds(Math.Min((t + _random.NextDouble()) * step, TimeSpan.FromDays(1).TotalMilliseconds - 10_000));
            var fault = _random.NextDouble() < 0.01;
            var error = !fault && _random.NextDouble() < 0.02;
            var throttle = !fault && !error && _random.NextDouble() < 0.005;
            var traceId = string.Create(CultureInfo.InvariantCulture, $"1-{at.ToUnixTimeSeconds():x8}-{Hex(12)}");
            var docs = Trace(traceId, at, fault, error, throttle, withServiceC: _random.NextDouble() < 0.5);
            var shard = _shards[(int)(Pipeline.Core.Sampling.TraceHash.Hash64(System.Text.Encoding.ASCII.GetBytes(traceId)) % Shards)];
            foreach (var (doc, arrival) in docs)
            {
                shard.Add(doc, arrival, this);
                written++;
            }

            count++;
            if (fault && faulted.Count < 16)
            {
                faulted.Add(traceId);
            }

            if (t % (traces / 16 + 1) == 0)
            {
                samples.Add(traceId);
            }
        }

        foreach (var shard in _shards)
        {
            shard.Flush(this);
        }

        return new Written(written, count, _shards.Sum(s => s.Objects), _shards.Sum(s => s.Bytes), faulted, samples);
    }

    private List<(byte[] Doc, DateTimeOffset Arrival)> Trace(string traceId, DateTimeOffset at, bool fault, bool error, bool throttle, bool withServiceC)
    {
        var t0 = at.ToUnixTimeMilliseconds() / 1000.0;
        var total = 0.040 + (_random.NextDouble() * _random.NextDouble() * 0.900);
        var aId = Hex(8);
        var callB = Hex(8);
        var bId = Hex(8);
        var dynamo = Hex(8);
        var status = fault ? 500 : error ? 404 : throttle ? 429 : 200;
        var docs = new List<(byte[], DateTimeOffset)>(5);
        var bStart = t0 + 0.004;
        var bEnd = t0 + total - 0.006;
        docs.Add((Segment(traceId, aId, parentId: null, "service-a", t0, t0 + total, "POST", "http://service-a/checkout", status, fault, error, throttle,
            sub: (callB, "service-b", bStart - 0.001, bEnd + 0.001, "remote", "http://service-b/pay", null)), Arrive(t0 + total)));
        docs.Add((Segment(traceId, bId, callB, "service-b", bStart, bEnd, "POST", "http://service-b/pay", status, fault, error, throttle,
            sub: (dynamo, "DynamoDB", bStart + 0.001, bEnd - 0.002, "aws", null, "payments")), Arrive(bEnd)));
        if (withServiceC)
        {
            var callC = Hex(8);
            var cStart = t0 + 0.002;
            docs.Add((Segment(traceId, Hex(8), callC, "service-c", cStart, cStart + 0.003, "GET", "http://service-c/price", 200, false, false, false, sub: null), Arrive(cStart + 0.003)));
            docs.Add((Independent(traceId, callC, aId, "service-c", cStart - 0.0005, cStart + 0.0035), Arrive(cStart + 0.004)));
        }

        docs.Add((Independent(traceId, Hex(8), aId, "render", t0 + total - 0.004, t0 + total - 0.001), Arrive(t0 + total)));
        return docs;
    }

    /// <summary>Arrival at Kinesis: the SDK's emitter and the relay's batching add a moment (0.2-2.2 s).</summary>
    private DateTimeOffset Arrive(double end) => DateTimeOffset.FromUnixTimeMilliseconds((long)((end + 0.2 + (_random.NextDouble() * 2)) * 1000));

    private static byte[] Segment(
        string traceId, string id, string? parentId, string name, double start, double end, string method, string url, int status,
        bool fault, bool error, bool throttle, (string Id, string Name, double Start, double End, string Namespace, string? Url, string? Table)? sub)
    {
        var buffer = new ArrayBufferWriter<byte>(768);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("trace_id", traceId);
            json.WriteString("id", id);
            if (parentId is not null)
            {
                json.WriteString("parent_id", parentId);
            }

            json.WriteString("name", name);
            json.WriteNumber("start_time", Math.Round(start, 6));
            json.WriteNumber("end_time", Math.Round(end, 6));
            json.WriteString("origin", "AWS::EC2::Instance");
            json.WriteStartObject("http");
            json.WriteStartObject("request");
            json.WriteString("method", method);
            json.WriteString("url", url);
            json.WriteString("client_ip", "10.0.1.17");
            json.WriteString("user_agent", "node-fetch/1.0");
            json.WriteEndObject();
            json.WriteStartObject("response");
            json.WriteNumber("status", status);
            json.WriteNumber("content_length", 187);
            json.WriteEndObject();
            json.WriteEndObject();
            WriteFlags(json, fault, error, throttle);
            json.WriteStartObject("annotations");
            json.WriteString("tenant", "t-" + ((uint)id.GetHashCode(StringComparison.Ordinal) % 50).ToString(CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.WriteStartObject("aws");
            json.WriteStartObject("xray");
            json.WriteString("sdk", "X-Ray for Node.js");
            json.WriteString("sdk_version", "3.10.1");
            json.WriteEndObject();
            json.WriteEndObject();
            if (sub is { } s)
            {
                json.WriteStartArray("subsegments");
                json.WriteStartObject();
                json.WriteString("id", s.Id);
                json.WriteString("name", s.Name);
                json.WriteNumber("start_time", Math.Round(s.Start, 6));
                json.WriteNumber("end_time", Math.Round(s.End, 6));
                json.WriteString("namespace", s.Namespace);
                if (s.Url is not null)
                {
                    json.WriteStartObject("http");
                    json.WriteStartObject("request");
                    json.WriteString("method", method);
                    json.WriteString("url", s.Url);
                    json.WriteEndObject();
                    json.WriteStartObject("response");
                    json.WriteNumber("status", status);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                if (s.Table is not null)
                {
                    json.WriteStartObject("aws");
                    json.WriteString("operation", "PutItem");
                    json.WriteString("region", "us-east-1");
                    json.WriteString("table_name", s.Table);
                    json.WriteEndObject();
                }

                WriteFlags(json, fault, error, throttle);
                json.WriteEndObject();
                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Independent(string traceId, string id, string parentId, string name, double start, double end)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "subsegment");
            json.WriteString("trace_id", traceId);
            json.WriteString("id", id);
            json.WriteString("parent_id", parentId);
            json.WriteString("name", name);
            json.WriteNumber("start_time", Math.Round(start, 6));
            json.WriteNumber("end_time", Math.Round(end, 6));
            json.WriteString("namespace", "remote");
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteFlags(Utf8JsonWriter json, bool fault, bool error, bool throttle)
    {
        if (fault)
        {
            json.WriteBoolean("fault", true);
        }

        if (error || throttle)
        {
            json.WriteBoolean("error", true);
        }

        if (throttle)
        {
            json.WriteBoolean("throttle", true);
        }
    }

    private string Hex(int bytes)
    {
        Span<byte> data = stackalloc byte[bytes];
        _random.NextBytes(data);
        return Convert.ToHexStringLower(data);
    }

    /// <summary>One shard's current batch; the sequence number grows with every record.</summary>
    private sealed class Shard(string id)
    {
        private readonly ArrayBufferWriter<byte> _ndjson = new(1 << 20);
        private long _sequence = 49_650_000_000_000_000;
        private int _records;
        private string? _firstSequence;
        private DateTimeOffset _firstArrival;

        public long Objects { get; private set; }

        public long Bytes { get; private set; }

        public void Add(byte[] document, DateTimeOffset arrival, ArchiveDay day)
        {
            _sequence++;
            if (_records == 0)
            {
                _firstSequence = _sequence.ToString(CultureInfo.InvariantCulture);
                _firstArrival = arrival;
            }

            ArchiveLines.WriteSegment(_ndjson, document);
            if (++_records == day._batch)
            {
                Flush(day);
            }
        }

        public void Flush(ArchiveDay day)
        {
            if (_records == 0)
            {
                return;
            }

            var key = ArchiveKeys.Segments(id, _firstSequence!, _firstArrival);
            var path = Path.Combine(day._root, key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var gz = ArchiveObjects.Gzip(_ndjson.WrittenSpan))
            {
                File.WriteAllBytes(path, gz.WrittenSpan);
                Bytes += gz.WrittenSpan.Length;
            }

            Objects++;
            _ndjson.ResetWrittenCount();
            _records = 0;
        }
    }
}
