// Relay throughput harness. Runs the measured receivers as child processes so that the process
// measured (RSS, CPU from /proc) is only the receiver:
//   raw        : a bare UDP receive loop that counts datagrams (the baseline of every ratio)
//   AOT / JIT  : the published relay executables (--aot, --jit), each forwarding with the real
//                SigV4-signed Kinesis client to a loopback Kinesis-compatible HTTP sink served by
//                this harness (KinesisSink.cs: PutRecords answered per record, optional latency,
//                partial failures and whole-call throttling)
//   in-process : RelayHost into a counting in-memory IKinesisClient (when no binary is given, or
//                with --inproc): receive, buffer, batch and encode, without the HTTP client
// and sends bounded UDP traffic at them on loopback from this process.
//
//   dotnet run -c Release --project bench/relay-harness -- [options]
//     --aot PATH             the Native AOT relay (dotnet publish -r linux-x64 -p:PublishAot=true);
//                            --relay-binary PATH is the same option under its old name
//     --jit PATH             the JIT relay (bin/Release/net10.0/xray-relay or xray-relay.dll)
//     --inproc               also measure the in-process RelayHost
//     --repeat N             blast rounds (raw, then each relay), 1-10 (default 1)
//     --blast-seconds N      length of each blast (default 5)
//     --blast-max N          cap on datagrams per blast (default 3,000,000)
//     --paced-rate N         rate of the no-loss run, segments/s (default 50,000)
//     --paced-seconds N      length of the no-loss run (default 3)
//     --steady-rate N        rate of the steady run (default 4,000)
//     --steady-seconds N     length of the steady run (default 60; 0 skips it)
//     --segment-bytes N      size of each segment document (default 700)
//     --aggregate            run the relay with KPL aggregation
//     --relay-args "A B"     extra relay flags (e.g. "--max-in-flight 4")
//     --sink-latency-ms N    the sink waits N ms before each PutRecords answer
//     --sink-fail-every N    every Nth record answers ProvisionedThroughputExceededException
//     --sink-throttle-every N every Nth PutRecords call is throttled whole (HTTP 400)
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
        var repeat = Math.Clamp(Option(args, "--repeat", 1), 1, 10);
        var aggregate = args.Contains("--aggregate");
        ChildProcess.Faults = new SinkFaults
        {
            Latency = TimeSpan.FromMilliseconds(Option(args, "--sink-latency-ms", 0)),
            FailEvery = Option(args, "--sink-fail-every", 0),
            ThrottleCallEvery = Option(args, "--sink-throttle-every", 0),
        };
        ChildProcess.ExtraRelayArgs = StringOption(args, "--relay-args")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

        // The relays measured: published binaries against the loopback sink (real signed client),
        // else the in-process RelayHost into an in-memory Kinesis.
        var relays = new List<RelayUnderTest>();
        if ((StringOption(args, "--aot") ?? StringOption(args, "--relay-binary")) is { } aot)
        {
            relays.Add(new RelayUnderTest("AOT", Path.GetFullPath(aot)));
        }

        if (StringOption(args, "--jit") is { } jit)
        {
            relays.Add(new RelayUnderTest("JIT", Path.GetFullPath(jit)));
        }

        if (relays.Count == 0 || args.Contains("--inproc"))
        {
            relays.Add(new RelayUnderTest("in-process", null));
        }

        var datagrams = Datagrams.Build(segmentBytes, count: 4096);
        Console.WriteLine($"relay harness: {Environment.ProcessorCount} cores, segment {datagrams[0].Length} bytes, aggregate={aggregate}, repeat={repeat}, relay args [{string.Join(' ', ChildProcess.ExtraRelayArgs)}], sink {ChildProcess.Faults}");
        foreach (var relay in relays)
        {
            Console.WriteLine($"  relay {relay.Name}: {relay.Binary ?? "in-process RelayHost (JIT) into an in-memory Kinesis"}");
        }

        // Blast rounds: the raw loop, then each relay, `repeat` times, so every ratio is against a
        // baseline taken minutes (not hours) before it on the same shared machine.
        var ratios = relays.ToDictionary(r => r.Name, _ => new List<double>());
        var perCore = relays.ToDictionary(r => r.Name, _ => new List<double>());
        for (var round = 1; round <= repeat; round++)
        {
            RunResult rawResult;
            await using (var raw = await ChildProcess.StartAsync("raw", null, aggregate))
            {
                rawResult = await Blast(raw, datagrams, blastSeconds, blastMax);
                Report($"raw receive loop (blast, round {round})", rawResult, raw);
            }

            foreach (var relay in relays)
            {
                await using var child = await ChildProcess.StartAsync("relay", relay.Binary, aggregate);
                var relayed = await Blast(child, datagrams, blastSeconds, blastMax);
                Report($"relay {relay.Name} (blast, round {round})", relayed, child);
                var ratio = relayed.Rate / rawResult.Rate;
                ratios[relay.Name].Add(ratio);
                if (relayed.Cpu > 0)
                {
                    perCore[relay.Name].Add(relayed.Forwarded / relayed.Cpu);
                }

                Console.WriteLine($"  relay {relay.Name} / raw throughput: {ratio:0.00}x; {relayed.Forwarded / Math.Max(0.001, relayed.Cpu):N0} segments per CPU-second (CPU {relayed.Cpu:0.00} s){child.SinkSummary()}");
            }
        }

        foreach (var relay in relays)
        {
            await using var child = await ChildProcess.StartAsync("relay", relay.Binary, aggregate);
            var paced = await Paced(child, datagrams, pacedRate, pacedSeconds);
            Report($"relay {relay.Name} (paced {pacedRate}/s for {pacedSeconds}s)", paced, child);
            Console.WriteLine($"  {child.SinkSummary().TrimStart(';', ' ')}");
        }

        var steadyCpu = new Dictionary<string, double>();
        if (steadySeconds > 0)
        {
            foreach (var relay in relays.Prepend(new RelayUnderTest("raw", null)))
            {
                await using var child = await ChildProcess.StartAsync(relay.Name == "raw" ? "raw" : "relay", relay.Binary, aggregate);
                // Warm up (JIT, pools) before the measured window.
                await Paced(child, datagrams, steadyRate, 2);
                var cpuBefore = child.CpuTime();
                var steady = await Paced(child, datagrams, steadyRate, steadySeconds);
                var cpu = child.CpuTime() - cpuBefore;
                var title = relay.Name == "raw" ? "raw" : $"relay {relay.Name}";
                Report($"{title} (steady {steadyRate}/s for {steadySeconds}s)", steady, child);
                var micros = cpu.TotalMicroseconds / Math.Max(1, steady.Sent);
                steadyCpu[relay.Name] = micros;
                Console.WriteLine($"  CPU {cpu.TotalSeconds:0.000} s = {cpu.TotalSeconds / steadySeconds * 100:0.0}% of a core, {micros:0.00} µs/segment");
            }
        }

        Console.WriteLine("summary:");
        foreach (var relay in relays)
        {
            var r = ratios[relay.Name];
            var c = perCore[relay.Name];
            Console.WriteLine($"  {relay.Name}: blast relay/raw median {Median(r):0.00}x (min {r.Min():0.00}, max {r.Max():0.00}, n={r.Count}); segments per CPU-second median {(c.Count > 0 ? Median(c) : 0):N0} (min {(c.Count > 0 ? c.Min() : 0):N0}, max {(c.Count > 0 ? c.Max() : 0):N0}){(steadyCpu.TryGetValue(relay.Name, out var us) ? $"; steady {us:0.00} µs/segment" : "")}");
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string? StringOption(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
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
        var cpuBefore = child.CpuTime();
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
        var cpu = (child.CpuTime() - cpuBefore).TotalSeconds;
        // The receiver's rate: what it took in over the sending window (it drains its socket
        // buffer, at most a few thousand datagrams, just after).
        return new RunResult(sent, stats.Received, stats.Forwarded, stats.Dropped, elapsed.TotalSeconds, stats.Forwarded > 0 ? stats.Forwarded / elapsed.TotalSeconds : stats.Received / elapsed.TotalSeconds, cpu);
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
        return new RunResult(sent, after.Received - before.Received, forwarded, after.Dropped - before.Dropped, elapsed.TotalSeconds, counted / elapsed.TotalSeconds, 0);
    }
}

internal sealed record RelayUnderTest(string Name, string? Binary);

internal sealed record RunResult(long Sent, long Received, long Forwarded, long Dropped, double Seconds, double Rate, double Cpu);

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
    private readonly KinesisSink? _sink;

    private ChildProcess(Process process, IPEndPoint endpoint, Uri? metrics, KinesisSink? sink)
    {
        _process = process;
        Endpoint = endpoint;
        _metrics = metrics;
        _sink = sink;
    }

    public static SinkFaults Faults { get; set; } = new();

    public static string[] ExtraRelayArgs { get; set; } = [];

    public IPEndPoint Endpoint { get; }

    public static async Task<ChildProcess> StartAsync(string mode, string? binary, bool aggregate)
    {
        if (mode == "relay" && binary is not null)
        {
            return await StartBinaryAsync(binary, aggregate);
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
        var sink = new KinesisSink(Faults);
        var udpPort = FreeUdpPort();
        var metricsPort = FreeTcpPort();
        var start = new ProcessStartInfo(binary.EndsWith(".dll", StringComparison.Ordinal) ? "dotnet" : binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (binary.EndsWith(".dll", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(binary);
        }

        foreach (var arg in new[] { "-b", $"127.0.0.1:{udpPort}", "-t", "127.0.0.1:0", "--metrics", $"127.0.0.1:{metricsPort}", "--otlp-http", "off", "--otlp-grpc", "off", "-n", "us-east-1", "-e", sink.Endpoint.ToString(), "--stream", "bench", "-l", "warn" })
        {
            start.ArgumentList.Add(arg);
        }

        if (aggregate)
        {
            start.ArgumentList.Add("--aggregate");
        }

        foreach (var arg in ExtraRelayArgs)
        {
            start.ArgumentList.Add(arg);
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

    /// <summary>What the loopback sink saw (empty for the in-process relay).</summary>
    public string SinkSummary() => _sink is null ? "" :
        $"; sink: {_sink.Calls:N0} PutRecords, {_sink.Records:N0} records written, {_sink.FailedRecords:N0} failed on purpose, {_sink.ThrottledCalls:N0} calls throttled, at most {_sink.MaxConcurrentCalls} at once, {_sink.Unsigned} unsigned";

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
