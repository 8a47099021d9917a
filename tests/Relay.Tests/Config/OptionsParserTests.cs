using System.Net;
using Pipeline.Aws.Configuration;
using Pipeline.Runtime.Configuration;
using Relay.Config;

namespace Relay.Tests.Config;

public sealed class OptionsParserTests
{
    private static readonly DictionaryEnvironment NoEnvironment = new(new Dictionary<string, string>());

    private static RelayOptions Parse(params string[] args) => Parse(NoEnvironment, args);

    private static RelayOptions Parse(IEnvironment environment, params string[] args) =>
        OptionsParser.Parse(args, environment).Options!;

    [Theory]
    [InlineData("--drain-timeout", "1e12", "unknown unit 'e'")]
    [InlineData("--drain-timeout", "99999999999999999999d", "too long")]
    [InlineData("--drain-timeout", "9999d", "--drain-timeout must be between")]
    [InlineData("--drain-timeout", "5", "has no unit")]
    [InlineData("--send-timeout", "10m", "--send-timeout must be between")]
    [InlineData("--receive-buffer-kb", "1", "--receive-buffer-kb must be between")]
    public void Parse_OutOfRangeValues_AreOptionErrors(string flag, string value, string message)
    {
        var act = () => Parse("--stream", "s", "-n", "us-east-1", flag, value);

        act.Should().Throw<OptionsException>().WithMessage($"*{message}*");
    }

    [Theory]
    [InlineData("DrainTimeout: 99999999999999999999d\n")]
    [InlineData("FlushInterval: 9999999999999999999999999h\n")]
    [InlineData("SendTimeout: 999999999999999999999999999ms\n")]
    public void Parse_ConfigDurationsThatOverflow_AreOptionErrors(string yaml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"relay-big-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        try
        {
            var act = () => Parse("-c", path, "--stream", "s", "-n", "us-east-1");

            act.Should().Throw<OptionsException>().WithMessage("*too long*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Parse_ConfigLargerThanTheCap_IsRefusedWithoutReadingItAll()
    {
        var path = Path.Combine(Path.GetTempPath(), $"relay-huge-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "# " + new string('x', OptionsParser.MaxConfigBytes) + "\n");
        try
        {
            var act = () => Parse("-c", path, "--stream", "s", "-n", "us-east-1");

            act.Should().Throw<OptionsException>().WithMessage("*larger than 1024 KiB*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Parse_SendTimeoutAndReceiveBuffer_AreBound()
    {
        var options = Parse("--stream", "s", "-n", "us-east-1", "--send-timeout", "750ms", "--receive-buffer-kb", "8192");

        options.SendTimeout.Should().Be(TimeSpan.FromMilliseconds(750));
        options.ReceiveBufferKb.Should().Be(8192);
    }

    [Fact]
    public void Parse_MinimalFlags_GivesDaemonDefaults()
    {
        var options = Parse("--stream", "s", "-n", "us-east-1");

        options.UdpEndpoint.Should().Be(new IPEndPoint(IPAddress.Loopback, 2000));
        options.TcpEndpoint.Should().Be(new IPEndPoint(IPAddress.Loopback, 2000));
        options.MetricsEndpoint.Should().Be(new IPEndPoint(IPAddress.Loopback, 2112));
        options.BufferMemoryMb.Should().Be(16);
        options.SdkSampling.Should().Be(SdkSamplingMode.All);
        options.SpoolDir.Should().BeNull();
        options.DrainTimeout.Should().Be(TimeSpan.FromSeconds(5));
        options.Aggregate.Should().BeFalse();
        options.Otlp.HttpEndpoint.Should().Be(new IPEndPoint(IPAddress.Loopback, 4318));
        options.Otlp.GrpcEndpoint.Should().Be(new IPEndPoint(IPAddress.Loopback, 4317));
    }

    [Fact]
    public void Parse_OtlpGrpcFlagAndKey_MoveOrDisableTheReceiver()
    {
        using var file = new TempFile("Otlp:\n  GRPCAddress: \"127.0.0.1:24317\"\n");

        Parse("--otlp-grpc", "127.0.0.1:14317", "--stream", "s", "-n", "us-east-1").Otlp.GrpcEndpoint.Should().Be(new IPEndPoint(IPAddress.Loopback, 14317));
        Parse("--otlp-grpc=off", "--stream", "s", "-n", "us-east-1").Otlp.GrpcEndpoint.Should().BeNull();
        Parse("-c", file.Path, "--stream", "s", "-n", "us-east-1").Otlp.GrpcEndpoint!.Port.Should().Be(24317);
        Parse("-c", file.Path, "--otlp-grpc", "127.0.0.1:34317", "--stream", "s", "-n", "us-east-1").Otlp.GrpcEndpoint!.Port.Should().Be(34317);
        Parse("--otlp-grpc", "0.0.0.0:4317", "--allow-non-loopback", "--stream", "s", "-n", "us-east-1").Otlp.GrpcEndpoint.Should().Be(new IPEndPoint(IPAddress.Any, 4317));
    }

    [Fact]
    public void Parse_OtlpHttpFlag_MovesOrDisablesTheReceiver()
    {
        Parse("--otlp-http", "127.0.0.1:14318", "--stream", "s", "-n", "us-east-1").Otlp.HttpEndpoint.Should().Be(new IPEndPoint(IPAddress.Loopback, 14318));
        Parse("--otlp-http=off", "--stream", "s", "-n", "us-east-1").Otlp.HttpEndpoint.Should().BeNull();
        Parse("--otlp-http", "OFF", "--stream", "s", "-n", "us-east-1").Otlp.HttpEndpoint.Should().BeNull();
    }

    [Fact]
    public void Parse_OtlpConfigKey_IsReadAndTheFlagOverridesIt()
    {
        using var file = new TempFile("Otlp:\n  HTTPAddress: \"127.0.0.1:24318\"\n");

        Parse("-c", file.Path, "--stream", "s", "-n", "us-east-1").Otlp.HttpEndpoint!.Port.Should().Be(24318);
        Parse("-c", file.Path, "--otlp-http", "127.0.0.1:34318", "--stream", "s", "-n", "us-east-1").Otlp.HttpEndpoint!.Port.Should().Be(34318);
    }

    [Fact]
    public void Parse_OtlpConfigKeyOff_DisablesTheReceiver()
    {
        using var file = new TempFile("Otlp:\n  HTTPAddress: off\n");

        Parse("-c", file.Path, "--stream", "s", "-n", "us-east-1").Otlp.HttpEndpoint.Should().BeNull();
    }

    [Fact]
    public void Parse_OtlpNonLoopbackWithAllowFlag_IsAccepted()
    {
        var options = Parse("--otlp-http", "0.0.0.0:4318", "--allow-non-loopback", "--stream", "s", "-n", "us-east-1");

        options.Otlp.HttpEndpoint.Should().Be(new IPEndPoint(IPAddress.Any, 4318));
    }

    [Fact]
    public void Parse_EveryFlag_IsBound()
    {
        var options = Parse(
            "-b", "127.0.0.1:3000", "-t", "127.0.0.2:3001", "-m", "32", "-n", "eu-west-1",
            "-e", "http://127.0.0.1:5000", "-l", "debug", "-o", "-r", "arn:aws:iam::123456789012:role/x",
            "--stream", "traces", "--aggregate", "--spool-dir", "/tmp/spool", "--spool-max-mb", "10",
            "--drain-timeout", "750ms", "--metrics", "127.0.0.1:9100", "--sdk-sampling", "proxy",
            "--sdk-max-per-second", "250");

        options.UdpEndpoint.Should().Be(IPEndPoint.Parse("127.0.0.1:3000"));
        options.TcpEndpoint.Should().Be(IPEndPoint.Parse("127.0.0.2:3001"));
        options.BufferMemoryMb.Should().Be(32);
        options.Region.Should().Be("eu-west-1");
        options.Endpoint.Should().Be(new Uri("http://127.0.0.1:5000"));
        options.LogLevel.Should().Be(RelayLogLevel.Debug);
        options.LocalMode.Should().BeTrue();
        options.RoleArn.Should().Be("arn:aws:iam::123456789012:role/x");
        options.Stream.Should().Be("traces");
        options.Aggregate.Should().BeTrue();
        options.SpoolDir.Should().Be("/tmp/spool");
        options.SpoolMaxMb.Should().Be(10);
        options.DrainTimeout.Should().Be(TimeSpan.FromMilliseconds(750));
        options.MetricsEndpoint.Should().Be(IPEndPoint.Parse("127.0.0.1:9100"));
        options.SdkSampling.Should().Be(SdkSamplingMode.Proxy);
        options.SdkMaxPerSecond.Should().Be(250);
    }

    [Fact]
    public void Parse_LongFlagsWithEquals_AreBound()
    {
        var options = Parse("--stream=s", "--region=us-east-1", "--buffer-memory=8", "--metrics=off");

        options.BufferMemoryMb.Should().Be(8);
        options.MetricsEndpoint.Should().BeNull();
    }

    [Fact]
    public void Parse_BindInSdkForm_SetsUdpAndTcp()
    {
        var options = Parse("--stream", "s", "-n", "us-east-1", "-b", "tcp:127.0.0.1:4000 udp:127.0.0.1:4001");

        options.UdpEndpoint.Port.Should().Be(4001);
        options.TcpEndpoint.Port.Should().Be(4000);
    }

    [Fact]
    public void Parse_Environment_SuppliesStreamRegionAndDaemonAddress()
    {
        var environment = new DictionaryEnvironment(new Dictionary<string, string>
        {
            ["RELAY_STREAM"] = "from-env",
            ["AWS_REGION"] = "ap-south-1",
            ["AWS_XRAY_DAEMON_ADDRESS"] = "udp:127.0.0.1:2200 tcp:127.0.0.1:2300",
        });

        var options = Parse(environment);

        options.Stream.Should().Be("from-env");
        options.Region.Should().Be("ap-south-1");
        options.UdpEndpoint.Port.Should().Be(2200);
        options.TcpEndpoint.Port.Should().Be(2300);
    }

    [Fact]
    public void Parse_FlagsOverrideEnvironment()
    {
        var environment = new DictionaryEnvironment(new Dictionary<string, string> { ["RELAY_STREAM"] = "env", ["AWS_REGION"] = "ap-south-1" });

        var options = Parse(environment, "--stream", "flag", "-n", "us-west-2");

        options.Stream.Should().Be("flag");
        options.Region.Should().Be("us-west-2");
    }

    [Fact]
    public void Parse_ConfigFile_ReadsDaemonAndRelayKeys()
    {
        using var file = new TempFile("""
            TotalBufferSizeMB: 24
            Region: "eu-central-1"
            Endpoint: "http://127.0.0.1:5001"
            Socket:
              UDPAddress: "127.0.0.1:2100"
              TCPAddress: "127.0.0.1:2101"
            Logging:
              LogLevel: "warn"
              LogRotation: true
            LocalMode: true
            Concurrency: 8
            Version: 2
            Stream: "cfg-stream"
            Aggregate: true
            SpoolDir: "/var/spool/x"
            SpoolMaxMB: 64
            DrainTimeout: "2s"
            MetricsAddress: "off"
            SdkSampling: "proxy"
            SdkMaxPerSecond: 50
            """);

        var parsed = OptionsParser.Parse(["-c", file.Path], NoEnvironment);
        var options = parsed.Options!;

        options.BufferMemoryMb.Should().Be(24);
        options.Region.Should().Be("eu-central-1");
        options.Endpoint.Should().Be(new Uri("http://127.0.0.1:5001"));
        options.UdpEndpoint.Port.Should().Be(2100);
        options.TcpEndpoint.Port.Should().Be(2101);
        options.LogLevel.Should().Be(RelayLogLevel.Warn);
        options.LocalMode.Should().BeTrue();
        options.Stream.Should().Be("cfg-stream");
        options.Aggregate.Should().BeTrue();
        options.SpoolDir.Should().Be("/var/spool/x");
        options.SpoolMaxMb.Should().Be(64);
        options.DrainTimeout.Should().Be(TimeSpan.FromSeconds(2));
        options.MetricsEndpoint.Should().BeNull();
        options.SdkSampling.Should().Be(SdkSamplingMode.Proxy);
        options.SdkMaxPerSecond.Should().Be(50);
        parsed.Warnings.Should().Contain(w => w.Contains("Concurrency", StringComparison.Ordinal))
            .And.Contain(w => w.Contains("Logging.LogRotation", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_ShippedCfgYaml_GivesTheDocumentedDefaults()
    {
        var shipped = Path.Combine(Pipeline.Testing.RepoPaths.Root, "daemon-relay", "Relay", "cfg.yaml");

        var fromFile = Parse("-c", shipped, "--stream", "s", "-n", "us-east-1");
        var defaults = Parse("--stream", "s", "-n", "us-east-1");

        fromFile.Should().BeEquivalentTo(defaults, o => o.Excluding(x => x.ConfigPath));
    }

    [Fact]
    public void Parse_FlagsOverrideConfigFile()
    {
        using var file = new TempFile("Stream: cfg\nRegion: us-east-1\nTotalBufferSizeMB: 24\n");

        var options = Parse("-c", file.Path, "-m", "4", "--stream", "flag");

        options.BufferMemoryMb.Should().Be(4);
        options.Stream.Should().Be("flag");
    }

    [Theory]
    [InlineData("unknown option '--nope'", "--nope")]
    [InlineData("option --bind needs a value", "-b")]
    [InlineData("is not a whole number", "-m", "lots")]
    [InlineData("is not an address", "-b", "127.0.0.1")]
    [InlineData("is not an address", "-b", "nonsense:abc")]
    [InlineData("is not an http(s) URL", "-e", "ftp://x")]
    [InlineData("is not one of dev", "-l", "loud")]
    [InlineData("is not 'all' or 'proxy'", "--sdk-sampling", "some")]
    [InlineData("is not a duration", "--drain-timeout", "soon")]
    [InlineData("--buffer-memory must be between", "-m", "0")]
    [InlineData("--sdk-max-per-second must be", "--sdk-max-per-second", "-1")]
    [InlineData("takes no value", "--aggregate=yes")]
    [InlineData("not a loopback address", "-b", "0.0.0.0:2000")]
    [InlineData("not a loopback address", "-t", "0.0.0.0:2000")]
    [InlineData("not a loopback address", "--metrics", "0.0.0.0:2112")]
    [InlineData("--otlp-http 0.0.0.0:4318 is not a loopback address", "--otlp-http", "0.0.0.0:4318")]
    [InlineData("--otlp-grpc 0.0.0.0:4317 is not a loopback address", "--otlp-grpc", "0.0.0.0:4317")]
    [InlineData("option --otlp-grpc needs a value", "--otlp-grpc")]
    [InlineData("is not an address", "--otlp-http", "4318")]
    [InlineData("option --otlp-http needs a value", "--otlp-http")]
    public void Parse_BadFlag_ThrowsWithClearMessage(string message, params string[] flags)
    {
        var act = () => Parse([.. flags, "--stream", "s", "-n", "us-east-1"]);

        act.Should().Throw<OptionsException>().WithMessage($"*{message}*");
    }

    [Fact]
    public void Parse_NonLoopbackWithAllowFlag_IsAccepted()
    {
        var options = Parse("-b", "0.0.0.0:2000", "-t", "0.0.0.0:2000", "--allow-non-loopback", "--stream", "s", "-n", "us-east-1");

        options.UdpEndpoint.Address.Should().Be(IPAddress.Any);
        options.AllowNonLoopback.Should().BeTrue();
    }

    [Fact]
    public void Parse_NoStream_Throws()
    {
        var act = () => Parse("-n", "us-east-1");

        act.Should().Throw<OptionsException>().WithMessage("*--stream*RELAY_STREAM*");
    }

    [Fact]
    public void Parse_NoRegionInLocalMode_Throws()
    {
        var act = () => Parse("--stream", "s", "-o");

        act.Should().Throw<OptionsException>().WithMessage("*region*local mode*");
    }

    [Fact]
    public void Parse_NoRegionOutsideLocalMode_LeavesItToInstanceMetadata()
    {
        var options = Parse("--stream", "s");

        options.Region.Should().BeEmpty();
        options.LocalMode.Should().BeFalse();
    }

    [Theory]
    [InlineData("Stream: [a, b]\n", "must be a single value")]
    [InlineData("Streem: s\n", "unknown key 'Streem'")]
    [InlineData("Stream: s\n  bad: indent: here\n", "not valid YAML")]
    [InlineData("- a\n- b\n", "must be a mapping")]
    [InlineData("Version: 3\n", "only versions 1 and 2")]
    [InlineData("LocalMode: maybe\n", "is not true or false")]
    [InlineData("Otlp:\n  Port: 4318\n", "unknown key 'Otlp.Port'")]
    [InlineData("Otlp:\n  HTTPAddress: \"0.0.0.0:4318\"\n", "not a loopback address")]
    [InlineData("Otlp:\n  GRPCAddress: \"0.0.0.0:4317\"\n", "not a loopback address")]
    public void Parse_BadConfig_ThrowsWithClearMessage(string yaml, string message)
    {
        using var file = new TempFile(yaml);

        var act = () => Parse("-c", file.Path, "--stream", "s", "-n", "us-east-1");

        act.Should().Throw<OptionsException>().WithMessage($"*{message}*");
    }

    [Fact]
    public void Parse_MissingConfigFile_Throws()
    {
        var act = () => Parse("-c", "/nonexistent/relay.yaml", "--stream", "s", "-n", "us-east-1");

        act.Should().Throw<OptionsException>().WithMessage("*cannot read*");
    }

    [Fact]
    public void Parse_HelpAndVersion_AreRecognised()
    {
        OptionsParser.Parse(["-h"], NoEnvironment).ShowHelp.Should().BeTrue();
        OptionsParser.Parse(["--version"], NoEnvironment).ShowVersion.Should().BeTrue();
        OptionsParser.HelpText.Should().Contain("--spool-dir").And.Contain("--allow-non-loopback");
    }

    [Fact]
    public void Parse_RoleArn_IsKeptWithoutWarning()
    {
        var parsed = OptionsParser.Parse(["-r", "arn:aws:iam::123456789012:role/team/relay", "--stream", "s", "-n", "us-east-1"], NoEnvironment);

        parsed.Options!.RoleArn.Should().Be("arn:aws:iam::123456789012:role/team/relay");
        parsed.Warnings.Should().BeEmpty();
    }

    [Theory]
    [InlineData("arn:aws:iam::1:role/r")]
    [InlineData("arn:aws:iam::123456789012:user/u")]
    [InlineData("arn:aws:iam::123456789012:role/")]
    [InlineData("arn:aws:sts::123456789012:role/r")]
    [InlineData("role/r")]
    public void Parse_RoleArnThatIsNoRole_Throws(string arn)
    {
        var act = () => Parse("-r", arn, "--stream", "s", "-n", "us-east-1");

        act.Should().Throw<OptionsException>().WithMessage("*--role-arn*not an IAM role ARN*");
    }

    private sealed class TempFile : IDisposable
    {
        public TempFile(string content)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"relay-cfg-{Guid.NewGuid():N}.yaml");
            File.WriteAllText(Path, content);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
