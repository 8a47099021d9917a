using Pipeline.Cli.Local;

namespace Pipeline.Cli.Tests.Local;

/// <summary>Local mode's OTLP pieces that need no running stack: the summary's OTLP counters and when the demo is installed again.</summary>
public sealed class OtlpLocalModeTests : IDisposable
{
    private readonly DirectoryInfo _demo = Directory.CreateTempSubdirectory("pipeline-demo-");

    public void Dispose() => _demo.Delete(recursive: true);

    [Fact]
    public void Summary_CountsOtlpSpansNextToUdpSegments_AndRefusalsOnlyWhenThereAreAny()
    {
        var quiet = StackSummary.Sample(
            new Dictionary<string, double>
            {
                ["xray_relay_received_datagrams_total"] = 393,
                ["xray_relay_forwarded_segments_total"] = 586,
                ["xray_relay_otlp_spans_accepted_total"] = 579,
                ["xray_relay_otlp_spans_retry_total"] = 0,
            },
            null, new MetricTotals(), [], null);

        quiet.ToLine().Should().StartWith("relay received=393 otlp_spans=579 forwarded=586 dropped=0 |");

        var refusing = StackSummary.Sample(
            new Dictionary<string, double>
            {
                ["xray_relay_otlp_spans_accepted_total"] = 10,
                ["xray_relay_otlp_spans_refused_total{reason=\"otlp_invalid_trace_id\"}"] = 2,
                ["xray_relay_otlp_spans_refused_total{reason=\"otlp_end_before_start\"}"] = 1,
                ["xray_relay_otlp_spans_retry_total"] = 200,
            },
            null, new MetricTotals(), [], null);

        refusing.Get("relay.otlp_refused").Should().Be(3, "refusals are summed over their reasons");
        refusing.ToLine().Should().Contain("otlp_spans=10").And.Contain("otlp_refused=3 otlp_retried=200");
    }

    [Fact]
    public void DemoNeedsInstall_WhenNodeModulesIsMissingOrOlderThanTheLockFile()
    {
        var lockFile = Path.Combine(_demo.FullName, "package-lock.json");
        File.WriteAllText(lockFile, "{}");
        DemoApps.NeedsInstall(_demo.FullName).Should().BeTrue("nothing is installed");

        var installed = Path.Combine(_demo.FullName, "node_modules", ".package-lock.json");
        Directory.CreateDirectory(Path.GetDirectoryName(installed)!);
        File.WriteAllText(installed, "{}");
        var t0 = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(lockFile, t0);
        File.SetLastWriteTimeUtc(installed, t0.AddMinutes(1));
        DemoApps.NeedsInstall(_demo.FullName).Should().BeFalse("npm ci ran after the lock file was written");

        File.SetLastWriteTimeUtc(lockFile, t0.AddMinutes(2));
        DemoApps.NeedsInstall(_demo.FullName).Should().BeTrue("the lock file changed since (new packages such as service-c's)");

        Directory.Delete(Path.Combine(_demo.FullName, "node_modules"), recursive: true);
        Directory.CreateDirectory(Path.Combine(_demo.FullName, "node_modules"));
        DemoApps.NeedsInstall(_demo.FullName).Should().BeTrue("a node_modules that npm did not fill is not an install");
    }
}
