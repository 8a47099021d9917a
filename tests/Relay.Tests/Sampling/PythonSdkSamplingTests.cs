using System.Diagnostics;
using System.Text.Json;
using Pipeline.Testing;
using Relay.Tests.Support;

namespace Relay.Tests.Sampling;

/// <summary>
/// The real Python aws-xray-sdk (machine image) against the relay: with the relay's rule, every
/// request is traced; with the SDK's local fallback (1/s + 5 %) most of 200 would not be.
/// </summary>
public sealed class PythonSdkSamplingTests
{
    private const int Requests = 200;

    [Fact]
    public async Task PythonSdk_CentralizedSamplingAgainstRelay_TracesEveryRequest()
    {
        var kinesis = new FakeKinesis();
        await using var host = await TestRelay.StartAsync(TestRelay.Options(), kinesis);
        var address = $"udp:{host.UdpEndpoint} tcp:{host.TcpEndpoint}";

        var (exitCode, output, error) = await RunPythonAsync(address);

        exitCode.Should().Be(0, error);
        using var result = JsonDocument.Parse(output);
        var root = result.RootElement;
        root.GetProperty("rule").GetString().Should().Be("pipeline-record-all");
        root.GetProperty("sampled").GetInt32().Should().Be(Requests, "the relay's rule records every request");
        root.GetProperty("target").GetProperty("rate").GetDouble().Should().Be(1.0);
        root.GetProperty("last_rule_modification").GetInt64().Should().BeGreaterThan(0);

        var traceIds = root.GetProperty("trace_ids").EnumerateArray().Select(t => t.GetString()!).ToHashSet();
        await TestRelay.WaitUntilAsync(() => host.Metrics.Forwarded >= Requests);
        kinesis.Stored.Select(r => r.PartitionKey).Should().BeEquivalentTo(traceIds, "every traced request reached Kinesis keyed by its trace id");
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunPythonAsync(string daemonAddress)
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "Relay.Tests", "Scripts", "sdk_sampling.py");
        var start = new ProcessStartInfo("python3")
        {
            ArgumentList = { script, Requests.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["AWS_XRAY_DAEMON_ADDRESS"] = daemonAddress;
        start.Environment["AWS_XRAY_SDK_ENABLED"] = "true";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, (await output).Trim(), await error);
    }
}
