namespace Pipeline.IntegrationTests.Relay;

/// <summary>The binary's exit codes and messages for help, version and bad input.</summary>
public sealed class RelayCommandLineTests
{
    [Theory]
    [InlineData("unknown option '--bogus'", "--bogus")]
    [InlineData("needs a value", "--stream")]
    [InlineData("no stream", "-n", "us-east-1")]
    [InlineData("not a loopback address", "--stream", "s", "-n", "us-east-1", "-b", "0.0.0.0:2000")]
    [InlineData("is not a whole number", "--stream", "s", "-n", "us-east-1", "-m", "big")]
    [InlineData("cannot read (Could not find file", "--stream", "s", "-n", "us-east-1", "-c", "/nonexistent.yaml")]
    [InlineData("too long", "--stream", "s", "-n", "us-east-1", "--drain-timeout", "99999999999999999999d")]
    [InlineData("unknown unit", "--stream", "s", "-n", "us-east-1", "--drain-timeout", "1e12")]
    [InlineData("has no unit", "--stream", "s", "-n", "us-east-1", "--drain-timeout", "5")]
    [InlineData("larger than 1024 KiB", "--stream", "s", "-n", "us-east-1", "-c", "/dev/zero")]
    public async Task Relay_BadFlags_ExitTwoWithAMessage(string message, params string[] args)
    {
        var (exitCode, _, stderr) = await RelayProcess.RunToExitAsync(args);

        exitCode.Should().Be(2);
        stderr.Should().Contain("xray-relay: ").And.Contain(message);
    }

    [Fact]
    public async Task Relay_BadConfigFile_ExitsTwo()
    {
        var config = Path.Combine(Path.GetTempPath(), $"relay-bad-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(config, "Socket:\n  UDPAddress: nowhere\n", TestContext.Current.CancellationToken);
        try
        {
            var (exitCode, _, stderr) = await RelayProcess.RunToExitAsync(["-c", config, "--stream", "s", "-n", "us-east-1"]);

            exitCode.Should().Be(2);
            stderr.Should().Contain("Socket.UDPAddress");
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task Relay_Help_PrintsEveryFlagAndExitsZero()
    {
        var (exitCode, stdout, _) = await RelayProcess.RunToExitAsync(["--help"]);

        exitCode.Should().Be(0);
        foreach (var flag in new[] { "--bind", "--bind-tcp", "--buffer-memory", "--region", "--endpoint", "--config", "--log-level", "--local-mode", "--role-arn", "--version", "--stream", "--aggregate", "--spool-dir", "--spool-max-mb", "--drain-timeout", "--metrics", "--sdk-sampling", "--sdk-max-per-second", "--allow-non-loopback" })
        {
            stdout.Should().Contain(flag);
        }
    }

    [Fact]
    public async Task Relay_Version_PrintsItAndExitsZero()
    {
        var (exitCode, stdout, _) = await RelayProcess.RunToExitAsync(["-v"]);

        exitCode.Should().Be(0);
        stdout.Should().StartWith("xray-relay ");
    }

    [Fact]
    public async Task Relay_StreamFromEnvironment_Starts()
    {
        await using var relay = await RelayProcess.StartAsync(
            ["-b", "127.0.0.1:0", "-t", "127.0.0.1:0", "--metrics", "off", "-n", "us-east-1", "-e", "http://127.0.0.1:9"],
            new Dictionary<string, string> { ["RELAY_STREAM"] = "from-env" });

        relay.Stdout.Should().Contain("\"stream\":\"from-env\"");
        relay.MetricsEndpoint.Should().BeNull();
    }
}
