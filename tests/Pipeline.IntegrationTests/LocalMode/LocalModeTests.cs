using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Pipeline.Testing;
using Pipeline.LocalAws.Processes;

namespace Pipeline.IntegrationTests.LocalMode;

/// <summary>
/// Local mode end to end, as a new user meets it: `./pipeline up` (the script, which builds the
/// CLI and the relay on first use), segments from the Python X-Ray SDK and raw UDP, the archive
/// in moto S3, SIGTERM, exit code 0, no child process left.
/// </summary>
[Collection(LocalModeGroup.Name)]
public sealed class LocalModeTests
{
    private const string PythonSdkScript = """
        import sys
        from aws_xray_sdk.core import xray_recorder
        # sampling=False: record every segment (the relay's sampling rule would say the same).
        xray_recorder.configure(sampling=False, context_missing='LOG_ERROR', service='local-mode-python')
        for i in range(int(sys.argv[1])):
            segment = xray_recorder.begin_segment('local-mode-python')
            sub = xray_recorder.begin_subsegment('downstream-call')
            sub.put_annotation('attempt', i)
            xray_recorder.end_subsegment()
            xray_recorder.end_segment()
            print(segment.trace_id, sub.id, flush=True)
        """;

    private static readonly TimeSpan ArchiveTimeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Up_PythonSdkAndRawUdpSegments_ReachTheArchive_AndSigtermStopsEverything()
    {
        await using var up = await PipelineUp.StartAsync([]);
        up.Output.Split('\n').Count(l => l == "pipeline ready").Should().Be(1);
        var pids = up.RecordedPids;
        pids.Should().HaveCount(3).And.OnlyContain(pid => Signals.IsAlive(pid));

        var sdkTraces = await RunPythonSdkAsync(up.DaemonAddress, count: 5);
        var rawTraces = SendRawUdp(IPEndPoint.Parse(up.RelayUdp), count: 20);

        var expected = sdkTraces.Select(t => t.TraceId).Concat(rawTraces).ToHashSet(StringComparer.Ordinal);
        var archived = await up.WaitForArchiveAsync(s => expected.IsSubsetOf(s.Select(TraceId).OfType<string>()), ArchiveTimeout);
        archived.Select(TraceId).Should().Contain(expected, "every segment sent to the relay reaches the archive\n" + up.Output);
        foreach (var (traceId, subsegmentId) in sdkTraces)
        {
            var segment = archived.Single(s => TraceId(s) == traceId);
            segment.GetProperty("name").GetString().Should().Be("local-mode-python");
            segment.GetProperty("subsegments").EnumerateArray().Select(s => s.GetProperty("id").GetString()).Should().Contain(subsegmentId);
        }

        var (statusCode, status, _) = await PipelineUp.RunAsync(["status", "--state-dir", up.StateDir], TimeSpan.FromMinutes(2));
        statusCode.Should().Be(0);
        status.Should().Contain(up.RelayUdp).And.Contain("relay.forwarded");

        var exit = await up.TerminateAsync(StopTimeout);
        exit.Should().Be(0, up.Output);
        pids.Where(Signals.IsAlive).Should().BeEmpty("SIGTERM stops moto, the relay and `up` itself");
        File.Exists(Path.Combine(up.StateDir, "stack.json")).Should().BeFalse("a stopped stack leaves no stack.json behind");
        var (queryCode, counted, queryError) = await PipelineUp.RunAsync(
            ["query", "--data-dir", Path.Combine(up.StateDir, "archive"), "--format", "csv", "SELECT count(*) AS n FROM segments"], TimeSpan.FromMinutes(2));
        queryCode.Should().Be(0, queryError);
        counted.Split('\n', StringSplitOptions.TrimEntries).Should().ContainInOrder(new[] { "n", "25" }, "the archive is mirrored to --data-dir so `pipeline query` works after down");
    }

    [Fact]
    public async Task Up_UdpPortTaken_FailsAtOnceNamingTheFlag()
    {
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var taken = ((IPEndPoint)squatter.LocalEndPoint!).ToString();
        var stateDir = Directory.CreateTempSubdirectory("pipeline-up-").FullName;
        try
        {
            var (code, stdout, stderr) = await PipelineUp.RunAsync(["up", "--udp", taken, "--state-dir", stateDir], PipelineUp.ReadyTimeout);

            code.Should().Be(2);
            stderr.Should().Contain($"UDP {taken} is already in use").And.Contain("--udp");
            stdout.Should().NotContain("pipeline ready");
            File.Exists(Path.Combine(stateDir, "stack.json")).Should().BeFalse();
        }
        finally
        {
            Directory.Delete(stateDir, recursive: true);
        }
    }

    [Fact]
    public async Task Up_MotoMissing_FailsSayingWhatToInstall_AndLeavesNothingRunning()
    {
        var stateDir = Directory.CreateTempSubdirectory("pipeline-up-").FullName;
        try
        {
            var (code, stdout, stderr) = await PipelineUp.RunAsync(
                ["up", "--moto", "no-such-moto-server", "--udp", $"127.0.0.1:{LoopbackPorts.FreeUdp()}", "--tcp", "127.0.0.1:0", "--state-dir", stateDir], PipelineUp.ReadyTimeout);

            code.Should().Be(1, stderr);
            stderr.Should().Contain("moto_server did not start").And.Contain("--moto");
            stdout.Should().NotContain("pipeline ready");
            File.Exists(Path.Combine(stateDir, "stack.json")).Should().BeFalse();
        }
        finally
        {
            Directory.Delete(stateDir, recursive: true);
        }
    }

    [Fact]
    public async Task UpDemo_MixedFleet_TracesCrossAwsXRaySdkAndOpenTelemetry_InTheArchiveQueryAndGraph()
    {
        // 60 requests at 20/s; service-b fails a quarter of its calls so a fault is all but certain.
        await using var up = await PipelineUp.StartAsync(
            ["--demo", "--demo-requests", "60", "--demo-rps", "20"],
            new Dictionary<string, string> { ["DEMO_FAULT_RATE"] = "0.25" });

        var archived = await up.WaitForArchiveAsync(
            s => CrossServiceCalls(s, "service-a", "service-b").Any(c => c.Fault) && CrossServiceCalls(s, "service-b", "service-c").Count >= 10,
            TimeSpan.FromMinutes(3));

        var calls = CrossServiceCalls(archived, "service-a", "service-b");
        calls.Should().NotBeEmpty("a service-a subsegment's id is the parent_id of a service-b segment\n" + up.Output);
        calls.Should().Contain(c => c.Fault, "some service-b calls answer 500\n" + up.Output);

        // service-c runs the OpenTelemetry JS SDK: its SERVER span joins service-b's trace through the
        // X-Ray propagator, arrives over OTLP and is converted into a segment whose parent is service-b's call.
        var mixed = CrossServiceCalls(archived, "service-b", "service-c");
        mixed.Should().HaveCountGreaterThanOrEqualTo(10, "service-b (aws-xray-sdk) calls service-c (OpenTelemetry) on every request\n" + up.Output);
        var serviceC = archived.Where(s => Name(s) == "service-c").ToList();
        serviceC.Should().OnlyContain(s => s.GetProperty("aws").GetProperty("xray").GetProperty("sdk").GetString() == "opentelemetry for nodejs");
        serviceC.Should().OnlyContain(s => Subsegments(s).Any(sub => Name(sub) == "price lookup"), "the INTERNAL span is nested in its SERVER span's document");
        var traceId = mixed[0].TraceId;
        archived.Where(s => TraceId(s) == traceId).Select(Name).Should().Contain(["service-a", "service-b", "service-c"], "one trace id across both SDK generations");

        var (queryCode, query, queryError) = await PipelineUp.RunAsync(
            ["query", "--state-dir", up.StateDir, "--format", "csv", $"SELECT name FROM segments WHERE trace_id = '{traceId}' ORDER BY start_time"], TimeSpan.FromMinutes(2));
        queryCode.Should().Be(0, queryError);
        query.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Should().Equal("name", "service-a", "service-b", "service-c");

        var (graphCode, graph, graphError) = await PipelineUp.RunAsync(["graph", "--state-dir", up.StateDir], TimeSpan.FromMinutes(2));
        graphCode.Should().Be(0, graphError);
        var edges = graph.Split('\n').Select(l => l.Trim()).Where(l => l.Contains(" -> ", StringComparison.Ordinal)).ToList();
        foreach (var (from, to) in new[] { ("client", "service-a"), ("service-a", "service-b"), ("service-b", "service-c") })
        {
            var edge = edges.SingleOrDefault(l => l.StartsWith($"{from} -> {to} ", StringComparison.Ordinal));
            edge.Should().NotBeNull($"`pipeline graph` draws {from} -> {to}\n{graph}");
            int.Parse(edge!.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], CultureInfo.InvariantCulture).Should().BePositive("the edge carries its request count");
        }

        var (reportCode, report, reportError) = await PipelineUp.RunAsync(["report", "--state-dir", up.StateDir], TimeSpan.FromMinutes(2));
        reportCode.Should().Be(0, reportError);
        var reportPath = report.Split('\n').Single(l => l.StartsWith("report: ", StringComparison.Ordinal))["report: ".Length..].Trim();
        File.ReadAllText(reportPath).Should().Contain("<html", "`pipeline report` runs the cost report against the running stack");

        up.RefreshStack();
        var pids = up.RecordedPids;
        pids.Should().HaveCount(7, "up, moto, relay, service-a, service-b, service-c, traffic");

        var exit = await up.TerminateAsync(StopTimeout);
        exit.Should().Be(0, up.Output);
        pids.Where(Signals.IsAlive).Should().BeEmpty("SIGTERM stops the demo processes too");
    }

    /// <summary>Calls from <paramref name="caller"/> to <paramref name="callee"/>: a caller subsegment whose id is the parent_id of a callee segment of the same trace.</summary>
    private static List<(string TraceId, bool Fault)> CrossServiceCalls(List<JsonElement> segments, string caller, string callee)
    {
        var callees = segments
            .Where(s => Name(s) == callee && s.TryGetProperty("parent_id", out _))
            .ToLookup(s => (TraceId(s), s.GetProperty("parent_id").GetString()));
        var calls = new List<(string, bool)>();
        foreach (var a in segments.Where(s => Name(s) == caller))
        {
            foreach (var sub in Subsegments(a))
            {
                foreach (var b in callees[(TraceId(a), sub.GetProperty("id").GetString())])
                {
                    calls.Add((TraceId(a)!, Flag(a, "fault") || Flag(b, "fault")));
                }
            }
        }

        return calls;
    }

    private static IEnumerable<JsonElement> Subsegments(JsonElement segment) =>
        segment.TryGetProperty("subsegments", out var subs)
            ? subs.EnumerateArray().SelectMany(s => Subsegments(s).Prepend(s))
            : [];

    private static string? Name(JsonElement s) => s.TryGetProperty("name", out var n) ? n.GetString() : null;

    private static string? TraceId(JsonElement s) => s.TryGetProperty("trace_id", out var t) ? t.GetString() : null;

    private static bool Flag(JsonElement s, string name) => s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static async Task<List<(string TraceId, string SubsegmentId)>> RunPythonSdkAsync(string daemonAddress, int count)
    {
        var script = Path.Combine(Path.GetTempPath(), $"local-mode-sdk-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(script, PythonSdkScript, TestContext.Current.CancellationToken);
        try
        {
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(script);
            start.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
            start.Environment["AWS_XRAY_DAEMON_ADDRESS"] = daemonAddress;
            start.Environment["AWS_XRAY_SDK_ENABLED"] = "true";
            using var python = Process.Start(start)!;
            var stdout = python.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = python.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            await python.WaitForExitAsync(timeout.Token);
            python.ExitCode.Should().Be(0, await stderr);
            var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            lines.Should().HaveCount(count);
            return [.. lines.Select(l => l.Split(' ')).Select(p => (p[0], p[1]))];
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary>Datagrams as an SDK writes them: the daemon header line, a newline, one segment document.</summary>
    private static List<string> SendRawUdp(IPEndPoint relay, int count)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var now = DateTimeOffset.UtcNow;
        var epoch = now.ToUnixTimeSeconds();
        var start = now.ToUnixTimeMilliseconds() / 1000.0;
        var traces = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var traceId = $"1-{epoch:x8}-{Guid.NewGuid():N}"[..35];
            var id = Guid.NewGuid().ToString("N")[..16];
            var document = string.Create(CultureInfo.InvariantCulture,
                $$$"""{"trace_id":"{{{traceId}}}","id":"{{{id}}}","name":"raw-udp","start_time":{{{start}}},"end_time":{{{start + 0.01}}},"http":{"response":{"status":200}} }""");
            socket.SendTo(Encoding.UTF8.GetBytes("{\"format\":\"json\",\"version\":1}\n" + document), relay);
            traces.Add(traceId);
        }

        return traces;
    }
}

/// <summary>One `pipeline up` at a time: each runs moto, a relay and node processes on a 2-core machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LocalModeGroup
{
    public const string Name = "local mode";
}
