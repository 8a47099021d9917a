// Relay throughput harness. Runs child processes of itself so that the process measured (RSS,
// CPU) is only the receiver:
//   raw   : a bare UDP receive loop that counts datagrams (the baseline)
//   relay : RelayHost (the product's receive → buffer → batch → send path) into a counting
//           in-memory IKinesisClient
// and blasts bounded UDP traffic at them on loopback from this process.
//
//   dotnet run -c Release --project bench/relay-harness -- [options]
//     --blast-seconds N     length of each blast (default 5)
//     --blast-max N         cap on datagrams per blast (default 3,000,000)
//     --paced-rate N        rate of the no-loss run, segments/s (default 50,000)
//     --paced-seconds N     length of the no-loss run (default 3)
//     --steady-rate N       rate of the steady run (default 4,000)
//     --steady-seconds N    length of the steady run (default 60; 0 skips it)
//     --segment-bytes N     size of each segment document (default 700)
//     --aggregate           run the relay with KPL aggregation
//     --relay-binary PATH   measure this relay executable (e.g. the Native AOT publish) instead of
//                           the in-process RelayHost: it sends to a counting fake Kinesis endpoint
//                           served by this harness, so the real signed client is on the path too
//
// Every load loop is bounded by count and time; everything stays on 127.0.0.1.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pipeline.Aws.Kinesis;
using Relay;
using Relay.Config;
using Relay.Logging;
using Relay.Receive.Otlp;

if (args.Length > 0 && args[0] == "child")
{
    return await Child.RunAsync(args[1], args.Contains("--aggregate"));
}

return await Harness.RunAsync(args);

internal static class Harness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var blastSeconds = Option(args, "--blast-seconds", 5);
        var blastMax = Option(args, "--blast-max", 3_000_000);
        var pacedRate = Option(args, "--paced-rate", 50_000);
        var pacedSeconds = Option(args, "--paced-seconds", 3);
        var steadyRate = Option(args, "--steady-rate", 4_000);
        var steadySeconds = Option(args, "--steady-seconds", 60);
        var segmentBytes = Option(args, "--segment-bytes", 700);
        var aggregate = args.Contains("--aggregate");
        var binaryIndex = Array.IndexOf(args, "--relay-binary");
        ChildProcess.RelayBinary = binaryIndex >= 0 ? Path.GetFullPath(args[binaryIndex + 1]) : null;
        var datagrams = Datagrams.Build(segmentBytes, count: 4096);

        Console.WriteLine($"relay harness: {Environment.ProcessorCount} cores, segment {datagrams[0].Length} bytes, aggregate={aggregate}, relay={ChildProcess.RelayBinary ?? "in-process RelayHost (JIT)"}");

        await using (var raw = await ChildProcess.StartAsync("raw", aggregate))
        {
            var result = await Blast(raw, datagrams, blastSeconds, blastMax);
            Report("raw receive loop (blast)", result, raw);
            await using var relay = await ChildProcess.StartAsync("relay", aggregate);
            var relayed = await Blast(relay, datagrams, blastSeconds, blastMax);
            Report("relay (blast)", relayed, relay);
            Console.WriteLine($"  relay / raw throughput: {relayed.Rate / result.Rate:0.00}x");
        }

        await using (var relay = await ChildProcess.StartAsync("relay", aggregate))
        {
            var paced = await Paced(relay, datagrams, pacedRate, pacedSeconds);
            Report($"relay (paced {pacedRate}/s for {pacedSeconds}s)", paced, relay);
        }

        if (steadySeconds > 0)
        {
            foreach (var mode in new[] { "raw", "relay" })
            {
                await using var child = await ChildProcess.StartAsync(mode, aggregate);
                // Warm up (JIT, pools) before the measured window.
                await Paced(child, datagrams, steadyRate, 2);
                var cpuBefore = child.CpuTime();
                var steady = await Paced(child, datagrams, steadyRate, steadySeconds);
                var cpu = child.CpuTime() - cpuBefore;
                Report($"{mode} (steady {steadyRate}/s for {steadySeconds}s)", steady, child);
                Console.WriteLine($"  CPU {cpu.TotalSeconds:0.000} s = {cpu.TotalSeconds / steadySeconds * 100:0.0}% of a core, {cpu.TotalMicroseconds / Math.Max(1, steady.Sent):0.00} µs/segment");
            }
        }

        return 0;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static void Report(string name, RunResult result, ChildProcess child)
    {
        var (rss, hwm) = child.Memory();
        Console.WriteLine($"{name}:");
        Console.WriteLine($"  sent {result.Sent:N0}, received {result.Received:N0}, forwarded {result.Forwarded:N0}, dropped by relay {result.Dropped:N0}, lost {result.Sent - result.Received:N0} ({(double)(result.Sent - result.Received) / Math.Max(1, result.Sent):P2})");
        Console.WriteLine($"  {result.Rate:N0} segments/s over {result.Seconds:0.00}s; RSS {rss / 1024.0 / 1024:0.0} MB (peak {hwm / 1024.0 / 1024:0.0} MB)");
    }

    /// <summary>As fast as one sender thread can go, bounded by count and time.</summary>
    private static async Task<RunResult> Blast(ChildProcess child, byte[][] datagrams, int seconds, int max)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(child.Endpoint);
        var watch = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(seconds);
        var sent = 0;
        while (sent < max && (sent & 1023) != 0 || watch.Elapsed < limit && sent < max)
        {
            socket.Send(datagrams[sent & (datagrams.Length - 1)]);
            sent++;
        }

        var elapsed = watch.Elapsed;
        var stats = await child.SettledStatsAsync();
        // The receiver's rate: what it took in over the sending window (it drains its socket
        // buffer, at most a few thousand datagrams, just after).
        return new RunResult(sent, stats.Received, stats.Forwarded, stats.Dropped, elapsed.TotalSeconds, stats.Forwarded > 0 ? stats.Forwarded / elapsed.TotalSeconds : stats.Received / elapsed.TotalSeconds);
    }

    /// <summary>A fixed rate in 1 ms ticks, bounded by time.</summary>
    private static async Task<RunResult> Paced(ChildProcess child, byte[][] datagrams, int rate, int seconds)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(child.Endpoint);
        var before = await child.StatsAsync();
        var watch = Stopwatch.StartNew();
        long sent = 0;
        var total = (long)rate * seconds;
        while (sent < total && watch.Elapsed < TimeSpan.FromSeconds(seconds + 5))
        {
            var due = Math.Min(total, (long)(watch.Elapsed.TotalSeconds * rate));
            while (sent < due)
            {
                socket.Send(datagrams[sent & (datagrams.Length - 1)]);
                sent++;
            }

            Thread.Sleep(1);
        }

        var elapsed = watch.Elapsed;
        var after = await child.SettledStatsAsync();
        var forwarded = after.Forwarded - before.Forwarded;
        var counted = forwarded > 0 ? forwarded : after.Received - before.Received;
        return new RunResult(sent, after.Received - before.Received, forwarded, after.Dropped - before.Dropped, elapsed.TotalSeconds, counted / elapsed.TotalSeconds);
    }
}

internal sealed record RunResult(long Sent, long Received, long Forwarded, long Dropped, double Seconds, double Rate);

internal sealed record ChildStats(long Received, long Forwarded, long Dropped);

internal static class Datagrams
{
    public static byte[][] Build(int documentBytes, int count)
    {
        var result = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            // Five segments per trace, as a small service call tree would send.
            var traceId = $"1-5f84c7a4-{i / 5:x24}";
            var head = $"{{\"format\":\"json\",\"version\":1}}\n{{\"trace_id\":\"{traceId}\",\"id\":\"{i:x16}\",\"name\":\"service-a\",\"start_time\":1700000000.123,\"end_time\":1700000000.456,\"http\":{{\"request\":{{\"method\":\"GET\",\"url\":\"http://service-a/orders\"}},\"response\":{{\"status\":200}}}},\"metadata\":{{\"pad\":\"";
            var pad = Math.Max(0, documentBytes - head.Length - 4);
            result[i] = Encoding.UTF8.GetBytes(head + new string('x', pad) + "\"}}");
        }

        return result;
    }
}

/// <summary>
/// A measured process: a child of this harness (stdin "stats"/"quit"), or the relay binary given
/// with --relay-binary (stats from its /metrics, SIGTERM to stop).
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false });
    private readonly Process _process;
    private readonly Uri? _metrics;
    private readonly FakeKinesisEndpoint? _sink;

    private ChildProcess(Process process, IPEndPoint endpoint, Uri? metrics, FakeKinesisEndpoint? sink)
    {
        _process = process;
        Endpoint = endpoint;
        _metrics = metrics;
        _sink = sink;
    }

    public static string? RelayBinary { get; set; }

    public IPEndPoint Endpoint { get; }

    public static async Task<ChildProcess> StartAsync(string mode, bool aggregate)
    {
        if (mode == "relay" && RelayBinary is not null)
        {
            return await StartBinaryAsync(RelayBinary, aggregate);
        }

        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

        start.ArgumentList.Add("child");
        start.ArgumentList.Add(mode);
        if (aggregate)
        {
            start.ArgumentList.Add("--aggregate");
        }

        var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("child exited");
        var port = int.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        return new ChildProcess(process, new IPEndPoint(IPAddress.Loopback, port), null, null);
    }

    private static async Task<ChildProcess> StartBinaryAsync(string binary, bool aggregate)
    {
        var sink = new FakeKinesisEndpoint();
        var udpPort = FreeUdpPort();
        var metricsPort = FreeTcpPort();
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-b", $"127.0.0.1:{udpPort}", "-t", "127.0.0.1:0", "--metrics", $"127.0.0.1:{metricsPort}", "--otlp-http", "off", "-n", "us-east-1", "-e", sink.Endpoint.ToString(), "--stream", "bench", "-l", "warn" })
        {
            start.ArgumentList.Add(arg);
        }

        if (aggregate)
        {
            start.ArgumentList.Add("--aggregate");
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = "bench";
        start.Environment["AWS_SECRET_ACCESS_KEY"] = "bench";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var child = new ChildProcess(process, new IPEndPoint(IPAddress.Loopback, udpPort), new Uri($"http://127.0.0.1:{metricsPort}/metrics"), sink);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await child.StatsAsync();
                return child;
            }
            catch (HttpRequestException) when (watch.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task<ChildStats> StatsAsync()
    {
        if (_metrics is not null)
        {
            var text = await Http.GetStringAsync(_metrics);
            long Metric(string name) => text.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal) && !l.StartsWith('#'))
                .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
            return new ChildStats(Metric("xray_relay_received_datagrams_total"), Metric("xray_relay_forwarded_segments_total"), Metric("xray_relay_dropped_segments_total"));
        }

        await _process.StandardInput.WriteLineAsync("stats");
        await _process.StandardInput.FlushAsync();
        var parts = (await _process.StandardOutput.ReadLineAsync())!.Split(' ');
        return new ChildStats(long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>Stats once the counts have stopped moving (bounded: 15 s), so in-flight batches count.</summary>
    public async Task<ChildStats> SettledStatsAsync()
    {
        var last = await StatsAsync();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(300);
            var next = await StatsAsync();
            if (next == last && (next.Forwarded == 0 || next.Forwarded + next.Dropped >= next.Received))
            {
                return next;
            }

            last = next;
        }

        return last;
    }

    /// <summary>utime + stime of the child from /proc (clock ticks of 10 ms).</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>VmRSS and VmHWM of the child, bytes.</summary>
    public (long Rss, long Peak) Memory()
    {
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line) * 1024;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = Kilobytes(line) * 1024;
            }
        }

        return (rss, hwm);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_metrics is not null)
            {
                using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
            }
            else
            {
                await _process.StandardInput.WriteLineAsync("quit");
                await _process.StandardInput.FlushAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
        if (_sink is not null)
        {
            await _sink.DisposeAsync();
        }
    }

    private static long Kilobytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static int FreeTcpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}

/// <summary>A Kinesis JSON 1.1 endpoint that accepts every PutRecords record and only counts them.</summary>
internal sealed class FakeKinesisEndpoint : IAsyncDisposable
{
    private readonly Relay.Http.HttpServer _server;
    private long _records;

    public FakeKinesisEndpoint()
    {
        _server = new Relay.Http.HttpServer("fake-kinesis", new IPEndPoint(IPAddress.Loopback, 0), HandleAsync, new Relay.Http.HttpListenerLimits { MaxBodyBytes = 16 * 1024 * 1024 }, new Relay.Http.HttpServerMetrics("fake-kinesis"), JsonLog.Null, TimeProvider.System);
        _server.Start();
    }

    public Uri Endpoint => new($"http://{_server.LocalEndpoint}/");

    public long Records => Interlocked.Read(ref _records);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
    }

    private Task<Relay.Http.HttpResponse> HandleAsync(Relay.Http.HttpRequest request, CancellationToken cancellationToken)
    {
        request.Headers.TryGetValue("x-amz-target", out var target);
        var body = target switch
        {
            "Kinesis_20131202.PutRecords" => PutRecords(request.Body.Span),
            "Kinesis_20131202.ListShards" => """{"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}""",
            _ => "{}",
        };
        return Task.FromResult(new Relay.Http.HttpResponse(200, "application/x-amz-json-1.1", Encoding.UTF8.GetBytes(body)));
    }

    private string PutRecords(ReadOnlySpan<byte> body)
    {
        var reader = new System.Text.Json.Utf8JsonReader(body);
        var count = 0;
        while (reader.Read())
        {
            if (reader.TokenType == System.Text.Json.JsonTokenType.PropertyName && reader.ValueTextEquals("PartitionKey"u8))
            {
                count++;
            }
        }

        Interlocked.Add(ref _records, count);
        var text = new StringBuilder("{\"FailedRecordCount\":0,\"Records\":[");
        for (var i = 0; i < count; i++)
        {
            text.Append(i == 0 ? "" : ",").Append("{\"SequenceNumber\":\"1\",\"ShardId\":\"shardId-000000000000\"}");
        }

        return text.Append("]}").ToString();
    }
}

/// <summary>The measured side: a raw receive loop or the relay, answering "stats" on stdin.</summary>
internal static class Child
{
    public static async Task<int> RunAsync(string mode, bool aggregate)
    {
        Func<ChildStats> stats;
        Func<Task> stop;
        int port;
        if (mode == "raw")
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 * 1024 * 1024 };
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            long received = 0;
            var thread = new Thread(() =>
            {
                var buffer = new byte[64 * 1024];
                try
                {
                    while (true)
                    {
                        socket.Receive(buffer);
                        Interlocked.Increment(ref received);
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // Closed by "quit".
                }
            }) { IsBackground = true };
            thread.Start();
            stats = () => new ChildStats(Interlocked.Read(ref received), 0, 0);
            stop = () =>
            {
                socket.Dispose();
                return Task.CompletedTask;
            };
        }
        else
        {
            var sink = new CountingKinesis();
            var options = new RelayOptions
            {
                UdpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
                TcpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
                MetricsEndpoint = null,
                Otlp = OtlpReceiverOptions.Off,
                Region = "us-east-1",
                Stream = "bench",
                Aggregate = aggregate,
            };
            var host = new RelayHost(options, sink, JsonLog.Null, TimeProvider.System);
            await host.StartAsync();
            port = host.UdpEndpoint.Port;
            stats = () => new ChildStats(host.Metrics.Received, host.Metrics.Forwarded, host.Metrics.DroppedTotal);
            stop = async () =>
            {
                await host.StopAsync();
                await host.DisposeAsync();
            };
        }

        Console.WriteLine($"READY {port}");
        while (await Console.In.ReadLineAsync() is { } command)
        {
            if (command == "stats")
            {
                var s = stats();
                Console.WriteLine($"{s.Received} {s.Forwarded} {s.Dropped}");
            }
            else if (command == "quit")
            {
                break;
            }
        }

        await stop();
        return 0;
    }

    /// <summary>A Kinesis that accepts everything and only counts (the local sink).</summary>
    private sealed class CountingKinesis : IKinesisClient
    {
        private long _records;

        public long Records => Interlocked.Read(ref _records);

        public Task<PutRecordsResult> PutRecordsAsync(string streamName, IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref _records, records.Count);
            var results = new PutRecordsResultEntry[records.Count];
            Array.Fill(results, Ok);
            return Task.FromResult(new PutRecordsResult(0, results));
        }

        private static readonly PutRecordsResultEntry Ok = new("1", "shardId-000000000000", null, null);

        public Task<IReadOnlyList<Shard>> ListShardsAsync(string streamName, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Shard>>([new Shard("shardId-000000000000", "0", "340282366920938463463374607431768211455")]);

        public Task CreateStreamAsync(string streamName, int shardCount, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<StreamSummary> DescribeStreamSummaryAsync(string streamName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<string> GetShardIteratorAsync(string streamName, string shardId, ShardIteratorType type, string? startingSequenceNumber = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<GetRecordsResult> GetRecordsAsync(string shardIterator, int limit = 10000, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
