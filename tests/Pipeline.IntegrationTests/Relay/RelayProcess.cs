using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Pipeline.LocalAws.Processes;
using Pipeline.LocalAws.Relay;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>
/// The built relay binary (xray-relay, copied next to this test assembly by the project
/// reference) run as a child process through the one runner (<see cref="ChildProcess"/>): what we
/// ship is what we test. Start it with free loopback ports (port 0) and read the bound ones from
/// its "relay ready" log line (<see cref="RelayReadyLine"/>, as <c>pipeline up</c> does).
/// </summary>
internal sealed class RelayProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);
    private readonly TaskCompletionSource<RelayReadyLine> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ChildProcess _child = null!;

    private RelayProcess()
    {
    }

    public IPEndPoint UdpEndpoint { get; private set; } = null!;

    public IPEndPoint TcpEndpoint { get; private set; } = null!;

    public IPEndPoint? MetricsEndpoint { get; private set; }

    /// <summary>The OTLP/HTTP receiver (a free port unless the test passed --otlp-http), or null when off.</summary>
    public IPEndPoint? OtlpHttpEndpoint { get; private set; }

    /// <summary>The OTLP/gRPC receiver (a free port unless the test passed --otlp-grpc), or null when off.</summary>
    public IPEndPoint? OtlpGrpcEndpoint { get; private set; }

    /// <summary>The relay's own process id (signals, /proc reads).</summary>
    public int Id => _child.Id;

    public string Stdout => _child.StandardOutput.TrimEnd('\n');

    public string Stderr => _child.StandardError.TrimEnd('\n');

    /// <summary>The program and leading arguments that run the relay: the apphost beside the tests, else `dotnet xray-relay.dll`.</summary>
    private static (string FileName, List<string> Arguments) Command(IEnumerable<string> args)
    {
        var dir = AppContext.BaseDirectory;
        var apphost = Path.Combine(dir, "xray-relay");
        return File.Exists(apphost) ? (apphost, [.. args]) : ("dotnet", [Path.Combine(dir, "xray-relay.dll"), .. args]);
    }

    /// <summary>Nothing from the test runner's environment decides where the relay listens or sends.</summary>
    private static Dictionary<string, string?> RelayEnvironment(IReadOnlyDictionary<string, string>? extra)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["AWS_XRAY_DAEMON_ADDRESS"] = null,
            ["RELAY_STREAM"] = null,
            ["AWS_ENDPOINT_URL"] = null,
            ["AWS_ENDPOINT_URL_KINESIS"] = null,
            ["AWS_ENDPOINT_URL_XRAY"] = null,
            ["AWS_PROFILE"] = null,
            ["AWS_ACCESS_KEY_ID"] = "testing",
            ["AWS_SECRET_ACCESS_KEY"] = "testing",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        return environment;
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

        var relay = new RelayProcess();
        var (fileName, arguments) = Command(list);
        relay._child = ChildProcess.Start(
            "xray-relay", fileName, arguments, RelayEnvironment(environment), workingDirectory: null, logPath: null,
            line =>
            {
                if (RelayReadyLine.TryParse(line, out var ready))
                {
                    relay._ready.TrySetResult(ready);
                }
            },
            new ChildProcessOptions { CaptureOutput = true });
        var first = await Task.WhenAny(relay._ready.Task, relay._child.Exited, Task.Delay(StartTimeout, TestContext.Current.CancellationToken));
        if (first != relay._ready.Task)
        {
            var output = relay.Stdout + "\n" + relay.Stderr;
            await relay.DisposeAsync();
            throw new InvalidOperationException("relay did not become ready:\n" + output);
        }

        var started = await relay._ready.Task;
        relay.UdpEndpoint = started.Udp;
        relay.TcpEndpoint = started.Tcp;
        relay.MetricsEndpoint = started.Metrics;
        relay.OtlpHttpEndpoint = started.OtlpHttp;
        relay.OtlpGrpcEndpoint = started.OtlpGrpc;
        return relay;
    }

    /// <summary>Runs the relay to completion (flag errors, --help): exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (fileName, arguments) = Command(args);
        var result = await ChildProcess.RunAsync(fileName, arguments, RelayEnvironment(environment), RunTimeout, TestContext.Current.CancellationToken);
        return (result.ExitCode, result.StandardOutput, result.StandardError);
    }

    /// <summary>Sends SIGTERM (as Kubernetes and systemd do) and waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        await Signals.TerminateAsync(_child.Id);
        return await _child.Exited.WaitAsync(timeout, TestContext.Current.CancellationToken);
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

    /// <summary>SIGKILL if it still runs: a test that is done with a relay does not wait for its drain.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_child.HasExited)
        {
            _child.Kill();
        }

        await _child.DisposeAsync();
    }
}
