using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Storage;
using Pipeline.Aws.XRay;
using Pipeline.Core.Redaction;
using Pipeline.Core.Sampling;
using Pipeline.Functions.Ingest;
using Pipeline.IntegrationTests.Relay;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Resilience;
using Pipeline.Runtime.Telemetry;
using Pipeline.Testing;
using Pipeline.Testing.Faults;
using Pipeline.Testing.Telemetry;
using Pipeline.LocalAws.Moto;

namespace Pipeline.IntegrationTests.Proof;

/// <summary>
/// The whole data path for one test: the built relay binary → <see cref="FaultProxy"/> → moto
/// Kinesis; the harness's event-source mapping → the real <see cref="IngestHandler"/> whose S3 and
/// X-Ray calls also go through the proxy; an archive bucket of its own. The relay is the only
/// writer of its stream (MOTO.md: concurrent PutRecords lose records in moto).
/// </summary>
internal sealed class ProofPipeline : IAsyncDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly MotoFixture _moto;
    private readonly List<RelayProcess> _relays = [];

    private ProofPipeline(MotoFixture moto, FaultProxy proxy, AwsClients direct, AwsClients viaProxy, string stream, string bucket, string spool)
    {
        _moto = moto;
        Proxy = proxy;
        Direct = direct;
        ViaProxy = viaProxy;
        Stream = stream;
        Bucket = bucket;
        SpoolDir = spool;
        Store = new ObservedObjectStore(viaProxy.ObjectStore);
    }

    public FaultProxy Proxy { get; }

    /// <summary>Clients straight to moto: setup and read-back, never faulted.</summary>
    public AwsClients Direct { get; }

    /// <summary>Clients through the proxy: what the ingest uses.</summary>
    public AwsClients ViaProxy { get; }

    public string Stream { get; }

    public string Bucket { get; }

    public string SpoolDir { get; }

    /// <summary>The ingest's object store: journals every put that succeeded, can kill the "process".</summary>
    public ObservedObjectStore Store { get; }

    public RelayProcess Relay => _relays[^1];

    public static async Task<ProofPipeline> StartAsync(MotoFixture moto, int shards = 2, int seed = 12)
    {
        var ct = TestContext.Current.CancellationToken;
        var proxy = await FaultProxy.StartAsync(moto.Endpoint, seed, ct);
        var direct = AwsClients.Create(AwsSettings.FromEnvironment(new DictionaryEnvironment(moto.EnvironmentVariables)), Http);
        var proxied = new Dictionary<string, string>(moto.EnvironmentVariables.ToDictionary()) { [AwsSettings.EndpointUrlVariable] = proxy.Endpoint.ToString() };
        foreach (var key in proxied.Keys.Where(k => k.StartsWith(AwsSettings.ServiceEndpointUrlVariablePrefix, StringComparison.Ordinal)).ToList())
        {
            proxied.Remove(key);
        }

        // Short client-side retries so injected faults reach the handler's own failure paths.
        var viaProxy = AwsClients.Create(
            AwsSettings.FromEnvironment(new DictionaryEnvironment(proxied)) with { Retry = new BackoffOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) } },
            Http);
        var stream = MotoFixture.UniqueName("proof");
        var bucket = MotoFixture.UniqueName("proof-archive");
        await direct.Kinesis.CreateStreamAsync(stream, shards, ct);
        await direct.S3.PutBucketAsync(bucket, ct);
        var spool = Path.Combine(Path.GetTempPath(), $"proof-spool-{Guid.NewGuid():N}");
        return new ProofPipeline(moto, proxy, direct, viaProxy, stream, bucket, spool);
    }

    /// <summary>Starts (another) relay on this stream through the proxy, spooling to <see cref="SpoolDir"/>.</summary>
    public async Task<RelayProcess> StartRelayAsync(params string[] extra)
    {
        var relay = await RelayProcess.StartAsync(RelayProcess.Flags(Proxy.Endpoint, Stream, ["--spool-dir", SpoolDir, .. extra]));
        _relays.Add(relay);
        return relay;
    }

    /// <summary>The ingest handler as the function would build it, around the proxied clients.</summary>
    public IngestHandler Ingest(double samplingRate = IngestOptions.DefaultSamplingRate, bool forwardToXRay = true, IXRayClient? xray = null) =>
        new(
            new IngestOptions
            {
                ArchiveBucket = Bucket,
                Sampling = SamplingPolicy.Default with { Rules = [new Pipeline.Core.Sampling.SamplingRule { RuleName = "Default", Priority = 10000, FixedRate = samplingRate, ReservoirSize = 0 }] },
                Redaction = RedactionPolicy.Default,
                ForwardToXRay = forwardToXRay,
                XRayResend = new BackoffOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(40) },
                XRayDeadlineReserve = TimeSpan.FromSeconds(1),
            },
            Store,
            xray ?? ViaProxy.XRay,
            new InMemoryTraceDecisionStore(TimeProvider.System, 100_000),
            TimeProvider.System,
            new RecordingMetricsSink());

    /// <summary>The event-source mapping over this stream (moto directly), one handler from <paramref name="ingest"/> per shard.</summary>
    public ProofMapping Mapping(Func<IngestHandler> ingest, KillSwitch? kill = null, bool bisect = false, int batchSize = 100, int? retryBatchSize = null) =>
        new(Direct.Kinesis, Stream, ingest, kill, ProofMapping.Options(batchSize, bisect, retryBatchSize));

    /// <summary>
    /// Sends datagrams in chunks, waiting after each for the relay to have read them all, so the
    /// kernel's UDP buffer never overflows (UDP loss is outside the pipeline's promise).
    /// </summary>
    public static async Task SendAsync(RelayProcess relay, IReadOnlyList<byte[]> datagrams, int chunk = 200)
    {
        var before = await relay.MetricAsync("xray_relay_received_datagrams_total");
        for (var offset = 0; offset < datagrams.Count; offset += chunk)
        {
            var part = datagrams.Skip(offset).Take(chunk).ToList();
            relay.Send(part, pauseEvery: 50);
            var expected = before + offset + part.Count;
            await RelayData.WaitUntilAsync(async () => await relay.MetricAsync("xray_relay_received_datagrams_total") >= expected, TimeSpan.FromSeconds(20));
        }
    }

    /// <summary>Every line of every object under <paramref name="prefix"/>, with its key.</summary>
    public async Task<List<(string Key, string Line)>> ReadLinesAsync(string prefix)
    {
        var ct = TestContext.Current.CancellationToken;
        var lines = new List<(string, string)>();
        foreach (var entry in await Direct.ObjectStore.ListAsync(Bucket, prefix, cancellationToken: ct))
        {
            var bytes = await Direct.ObjectStore.GetAsync(Bucket, entry.Key, ct);
            lines.AddRange(Decode(entry.Key, bytes!).Select(l => (entry.Key, l)));
        }

        return lines;
    }

    public static IEnumerable<string> Decode(string key, byte[] bytes)
    {
        var text = key.EndsWith(".gz", StringComparison.Ordinal) ? Gunzip(bytes) : Encoding.UTF8.GetString(bytes);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>(trace_id, id) of an archive line.</summary>
    public static (string TraceId, string Id) Identity(string line)
    {
        using var json = JsonDocument.Parse(line);
        return (json.RootElement.GetProperty("trace_id").GetString()!, json.RootElement.GetProperty("id").GetString()!);
    }

    /// <summary>
    /// The "nothing lost" check: every expected segment is in segments/ exactly once; nothing else is
    /// there; and every time any segment was written (the journal of successful puts, retries
    /// included) its line was byte-identical, so a duplicate write can only be a same-content overwrite.
    /// </summary>
    public async Task AssertArchivedExactlyOnceAsync(IReadOnlyCollection<(string TraceId, string Id)> expected)
    {
        var archived = await ReadLinesAsync("segments/");
        var byIdentity = archived.GroupBy(l => Identity(l.Line)).ToDictionary(g => g.Key, g => g.ToList());
        var missing = expected.Where(e => !byIdentity.ContainsKey(e)).ToList();
        var duplicated = byIdentity.Where(g => g.Value.Count > 1).Select(g => $"{g.Key} in {string.Join(", ", g.Value.Select(v => v.Key))}").ToList();
        missing.Should().BeEmpty($"every valid segment sent reaches the archive ({expected.Count} sent, {archived.Count} archived)");
        duplicated.Should().BeEmpty("no segment is archived twice");
        var expectedSet = expected.ToHashSet();
        var extra = archived.Where(l => !expectedSet.Contains(Identity(l.Line))).Select(l => l.Line).ToList();
        extra.Should().BeEmpty("the archive holds exactly what was sent");

        var written = new Dictionary<(string, string), string>();
        foreach (var (key, content) in Store.Journal.Where(j => j.Key.StartsWith("segments/", StringComparison.Ordinal)))
        {
            foreach (var line in Decode(key, content))
            {
                var identity = Identity(line);
                if (written.TryGetValue(identity, out var earlier))
                {
                    line.Should().Be(earlier, $"a re-written segment {identity} has the same content");
                }
                else
                {
                    written[identity] = line;
                }
            }
        }
    }

    /// <summary>X-Ray's stored documents for these traces, read back with boto3's BatchGetTraces.</summary>
    public async Task<List<string>> XRayDocumentsAsync(IEnumerable<string> traceIds)
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "Pipeline.IntegrationTests", "Proof", "Scripts", "xray_documents.py");
        var start = new System.Diagnostics.ProcessStartInfo("python3") { ArgumentList = { script, _moto.Endpoint.ToString() }, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["AWS_ACCESS_KEY_ID"] = MotoServer.AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = MotoServer.SecretAccessKey;
        using var process = System.Diagnostics.Process.Start(start)!;
        await process.StandardInput.WriteAsync(string.Join('\n', traceIds));
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, await stderr);
        return [.. (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var relay in _relays)
        {
            await relay.DisposeAsync();
        }

        await Proxy.DisposeAsync();
        ViaProxy.Dispose();
        Direct.Dispose();
        if (Directory.Exists(SpoolDir))
        {
            Directory.Delete(SpoolDir, recursive: true);
        }
    }

    private static string Gunzip(byte[] bytes)
    {
        using var input = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var reader = new StreamReader(input, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

/// <summary>
/// The ingest's object store in these tests: journals every put that succeeded (to check that
/// re-writes are identical) and, through a <see cref="KillSwitch"/>, kills the "process" before or
/// after a chosen put, after which it refuses every call, as a dead sandbox would.
/// </summary>
internal sealed class ObservedObjectStore(IObjectStore inner) : IObjectStore
{
    private readonly ConcurrentQueue<(string Key, byte[] Content)> _journal = new();
    private int _puts;

    public IReadOnlyList<(string Key, byte[] Content)> Journal => [.. _journal];

    public KillSwitch? Kill { get; set; }

    /// <summary>Put number (1-based) and key → kill before the put reaches S3.</summary>
    public Func<int, string, bool>? KillBefore { get; set; }

    /// <summary>Put number (1-based) and key → kill right after S3 took the put.</summary>
    public Func<int, string, bool>? KillAfter { get; set; }

    public async Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        Kill?.ThrowIfDead();
        var number = Interlocked.Increment(ref _puts);
        if (KillBefore?.Invoke(number, key) == true)
        {
            Kill!.Trip();
            Kill.ThrowIfDead();
        }

        await inner.PutAsync(bucket, key, content, contentType, cancellationToken);
        _journal.Enqueue((key, content.ToArray()));
        if (KillAfter?.Invoke(number, key) == true)
        {
            Kill!.Trip();
            Kill.ThrowIfDead();
        }
    }

    public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        Kill?.ThrowIfDead();
        return inner.GetAsync(bucket, key, cancellationToken);
    }

    public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10_000, CancellationToken cancellationToken = default)
    {
        Kill?.ThrowIfDead();
        return inner.ListAsync(bucket, prefix, maxKeys, cancellationToken);
    }
}

/// <summary>Valid segments with counted identities, as the SDKs would send them.</summary>
internal static class ProofTraffic
{
    public const string Header = "{\"format\":\"json\",\"version\":1}";

    /// <summary>
    /// <paramref name="count"/> segments of count/4 traces: roots and child segments, some faulted,
    /// some with secrets in headers, URLs and metadata (redaction is exercised on the way).
    /// </summary>
    public static List<Sent> Segments(int count, int seed)
    {
        var random = new Random(seed);
        var epoch = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var run = random.Next().ToString("x8", CultureInfo.InvariantCulture);
        var sent = new List<Sent>(count);
        for (var i = 0; i < count; i++)
        {
            var trace = $"1-{epoch:x8}-{run}{i / 4:x16}";
            var id = $"{seed & 0xffff:x4}{i:x12}";
            var start = epoch - 5 + (i % 1000) / 1000.0;
            var parent = i % 4 == 0 ? string.Empty : $"\"parent_id\":\"{seed & 0xffff:x4}{i - i % 4:x12}\",";
            var fault = i % 29 == 0 ? "\"fault\":true," : string.Empty;
            var document = string.Create(
                CultureInfo.InvariantCulture,
                $"{{\"trace_id\":\"{trace}\",\"id\":\"{id}\",{parent}\"name\":\"service-{(char)('a' + i % 4)}\",\"start_time\":{start:0.000},\"end_time\":{start + 0.05:0.000},{fault}"
                + $"\"http\":{{\"request\":{{\"method\":\"GET\",\"url\":\"https://api.example.com/items/{i}?X-Amz-Signature=sig{i}secret&page=2\",\"headers\":{{\"Authorization\":\"Bearer tok{i}secret\",\"Cookie\":\"session=ck{i}secret\"}}}},\"response\":{{\"status\":200}}}},"
                + $"\"annotations\":{{\"n\":{i}}}}}");
            sent.Add(new Sent(trace, id, Encoding.UTF8.GetBytes(Header + "\n" + document)));
        }

        return sent;
    }

    public static List<(string TraceId, string Id)> Identities(IEnumerable<Sent> sent) => [.. sent.Select(s => (s.TraceId, s.Id))];

    public sealed record Sent(string TraceId, string Id, byte[] Datagram);
}
