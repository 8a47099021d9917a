using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>
/// The built relay binary (xray-relay, copied next to this test assembly by the project
/// reference) run as a child process: what we ship is what we test. Start it with free loopback
/// ports (port 0) and read the bound ones from its "relay ready" log line.
/// </summary>
internal sealed class RelayProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<JsonElement> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RelayProcess(Process process)
    {
        _process = process;
    }

    public IPEndPoint UdpEndpoint { get; private set; } = null!;

    public IPEndPoint TcpEndpoint { get; private set; } = null!;

    public IPEndPoint? MetricsEndpoint { get; private set; }

    /// <summary>The OTLP/HTTP receiver (a free port unless the test passed --otlp-http), or null when off.</summary>
    public IPEndPoint? OtlpHttpEndpoint { get; private set; }

    /// <summary>The OTLP/gRPC receiver (a free port unless the test passed --otlp-grpc), or null when off.</summary>
    public IPEndPoint? OtlpGrpcEndpoint { get; private set; }

    public int Id => _process.Id;

    public string Stdout => string.Join('\n', _stdout);

    public string Stderr => string.Join('\n', _stderr);

    /// <summary>The command to run the relay: the apphost beside the tests, else `dotnet xray-relay.dll`.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dir = AppContext.BaseDirectory;
        var apphost = Path.Combine(dir, "xray-relay");
        var start = File.Exists(apphost) ? new ProcessStartInfo(apphost) : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(dir, "xray-relay.dll") } };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        // Nothing from the test runner's environment decides where the relay listens or sends.
        foreach (var name in new[] { "AWS_XRAY_DAEMON_ADDRESS", "RELAY_STREAM", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_XRAY", "AWS_PROFILE" })
        {
            start.Environment.Remove(name);
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = "testing";
        start.Environment["AWS_SECRET_ACCESS_KEY"] = "testing";
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return start;
    }

    /// <summary>Flags for a relay on free loopback ports sending to <paramref name="kinesis"/>.</summary>
    public static List<string> Flags(Uri kinesis, string stream, params string[] extra) =>
        ["-b", "127.0.0.1:0", "-t", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "-n", "us-east-1", "-e", kinesis.ToString(), "--stream", stream, "-l", "debug", .. extra];

    /// <summary>
    /// Starts the relay; the OTLP receivers get free ports unless <paramref name="args"/> name them,
    /// so parallel tests never compete for 4318 or 4317.
    /// </summary>
    public static async Task<RelayProcess> StartAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var list = args.ToList();
        if (!list.Contains("--otlp-http"))
        {
            list.AddRange(["--otlp-http", "127.0.0.1:0"]);
        }

        if (!list.Contains("--otlp-grpc"))
        {
            list.AddRange(["--otlp-grpc", "127.0.0.1:0"]);
        }

        if (!list.Contains("--max-in-flight"))
        {
            // moto's Kinesis is not safe for concurrent writes to one shard: it numbers each record
            // "last sequence number + 1", so two PutRecords calls in flight can overwrite each
            // other's records while both answer success (moto/kinesis/models.py, Shard.put_record).
            // Against moto the relay sends one call at a time; several in flight are tested against
            // FakeKinesis (Relay.Tests) and the bench's KinesisSink.
            list.AddRange(["--max-in-flight", "1"]);
        }

        var process = Process.Start(StartInfo(list, environment))!;
        var relay = new RelayProcess(process);
        process.OutputDataReceived += (_, e) => relay.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                relay._stderr.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = await relay._ready.Task.WaitAsync(StartTimeout, TestContext.Current.CancellationToken);
            relay.UdpEndpoint = IPEndPoint.Parse(ready.GetProperty("udp").GetString()!);
            relay.TcpEndpoint = IPEndPoint.Parse(ready.GetProperty("tcp").GetString()!);
            relay.MetricsEndpoint = ready.GetProperty("metrics").GetString() is { } metrics ? IPEndPoint.Parse(metrics) : null;
            relay.OtlpHttpEndpoint = ready.TryGetProperty("otlp_http", out var otlpHttp) && otlpHttp.GetString() is { } http ? IPEndPoint.Parse(http) : null;
            relay.OtlpGrpcEndpoint = ready.TryGetProperty("otlp_grpc", out var otlpGrpc) && otlpGrpc.GetString() is { } grpc ? IPEndPoint.Parse(grpc) : null;
            return relay;
        }
        catch (TimeoutException)
        {
            var output = relay.Stdout + "\n" + relay.Stderr;
            await relay.DisposeAsync();
            throw new InvalidOperationException("relay did not become ready:\n" + output);
        }
    }

    /// <summary>Runs the relay to completion (flag errors, --help): exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Process.Start(StartInfo(args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Sends SIGTERM (as Kubernetes and systemd do) and waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) } })!)
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Send(IEnumerable<byte[]> datagrams, int pauseEvery = 50)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var sent = 0;
        foreach (var datagram in datagrams)
        {
            socket.SendTo(datagram, UdpEndpoint);
            if (++sent % pauseEvery == 0)
            {
                Thread.Sleep(2);
            }
        }
    }

    /// <summary>One sample of a Prometheus metric from /metrics (labels included in the name).</summary>
    public async Task<long> MetricAsync(string name)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var text = await http.GetStringAsync(new Uri($"http://{MetricsEndpoint}/metrics"), TestContext.Current.CancellationToken);
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return (long)double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"metric {name} not found in:\n{text}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            return;
        }

        _stdout.Enqueue(line);
        if (line.Contains("\"relay ready\"", StringComparison.Ordinal))
        {
            using var json = JsonDocument.Parse(line);
            _ready.TrySetResult(json.RootElement.Clone());
        }
    }
}
