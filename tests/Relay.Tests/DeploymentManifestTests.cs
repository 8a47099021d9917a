using Pipeline.Aws.Configuration;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Relay.Config;
using YamlDotNet.RepresentationModel;

namespace Relay.Tests;

/// <summary>The shipped k8s and systemd files agree with what the relay accepts.</summary>
public sealed class DeploymentManifestTests
{
    private static readonly string Deploy = Path.Combine(RepoPaths.Root, "daemon-relay");

    private static List<YamlMappingNode> Documents(string file)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Deploy, file))));
        return [.. yaml.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    private static YamlNode At(YamlNode node, params object[] path)
    {
        foreach (var step in path)
        {
            node = step is int index ? ((YamlSequenceNode)node)[index] : ((YamlMappingNode)node)[new YamlScalarNode((string)step)];
        }

        return node;
    }

    [Fact]
    public void ConfigMap_CfgYaml_IsAcceptedByTheRelay()
    {
        var configMap = Documents("k8s/configmap.yaml").Single();
        var cfg = ((YamlScalarNode)At(configMap, "data", "cfg.yaml")).Value!;
        var path = Path.Combine(Path.GetTempPath(), $"relay-cm-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, cfg);
        try
        {
            var options = OptionsParser.Parse(["-c", path, "--allow-non-loopback"], new DictionaryEnvironment(new Dictionary<string, string>())).Options!;

            options.UdpEndpoint.Port.Should().Be(2000);
            options.TcpEndpoint.Port.Should().Be(2000);
            options.Otlp.HttpEndpoint!.Port.Should().Be(4318, "OTel SDKs on the node reach the relay at the OTLP/HTTP default port");
            options.Otlp.GrpcEndpoint!.Port.Should().Be(4317, "and at the OTLP/gRPC default port");
            options.SpoolDir.Should().Be("/var/lib/xray-relay/spool");
            options.DrainTimeout.Should().BeLessThan(TimeSpan.FromSeconds(30), "the drain must finish within terminationGracePeriodSeconds");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Dockerfile_ExposesTheDaemonAndOtlpPorts()
    {
        var expose = File.ReadAllLines(Path.Combine(Deploy, "Dockerfile")).Single(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal));

        expose.Split(' ')[1..].Should().Contain(["2000/udp", "2000/tcp", "4317/tcp", "4318/tcp"]);
    }

    [Fact]
    public void DaemonSet_HasHostPortsLivenessIrsaAndLimits()
    {
        var documents = Documents("k8s/daemonset.yaml");
        var daemonSet = documents.Single(d => ((YamlScalarNode)d["kind"]).Value == "DaemonSet");
        var serviceAccount = documents.Single(d => ((YamlScalarNode)d["kind"]).Value == "ServiceAccount");
        var container = At(daemonSet, "spec", "template", "spec", "containers", 0);

        var ports = ((YamlSequenceNode)At(container, "ports")).Cast<YamlMappingNode>()
            .Where(p => p.Children.ContainsKey(new YamlScalarNode("hostPort")))
            .Select(p => (((YamlScalarNode)p["hostPort"]).Value, ((YamlScalarNode)p["protocol"]).Value)).ToList();
        ports.Should().BeEquivalentTo([("2000", "UDP"), ("2000", "TCP"), ("4318", "TCP"), ("4317", "TCP")]);
        ((YamlScalarNode)At(container, "livenessProbe", "httpGet", "path")).Value.Should().Be("/healthz");
        ((YamlScalarNode)At(container, "readinessProbe", "httpGet", "path")).Value.Should().Be("/readyz");
        ((YamlMappingNode)At(container, "resources", "limits")).Children.Should().ContainKey(new YamlScalarNode("memory"));
        ((YamlMappingNode)At(serviceAccount, "metadata", "annotations")).Children.Should().ContainKey(new YamlScalarNode("eks.amazonaws.com/role-arn"));
        ((YamlSequenceNode)At(container, "args")).Select(a => ((YamlScalarNode)a).Value).Should().Contain("--allow-non-loopback");
        var grace = int.Parse(((YamlScalarNode)At(daemonSet, "spec", "template", "spec", "terminationGracePeriodSeconds")).Value!, System.Globalization.CultureInfo.InvariantCulture);
        grace.Should().BeGreaterThan(20);
    }

    [Fact]
    public void DaemonSet_HostPathSpool_IsGivenToTheRelaysUserBeforeItStarts()
    {
        var daemonSet = Documents("k8s/daemonset.yaml").Single(d => ((YamlScalarNode)d["kind"]).Value == "DaemonSet");
        var pod = At(daemonSet, "spec", "template", "spec");
        var uid = ((YamlScalarNode)At(pod, "securityContext", "runAsUser")).Value;
        var spoolVolume = ((YamlSequenceNode)At(pod, "volumes")).Cast<YamlMappingNode>().Single(v => ((YamlScalarNode)v["name"]).Value == "spool");
        spoolVolume.Children.Should().ContainKey(new YamlScalarNode("hostPath"), "the spool outlives the pod");

        var init = ((YamlSequenceNode)At(pod, "initContainers")).Cast<YamlMappingNode>().Single();
        var command = string.Join(' ', ((YamlSequenceNode)init["command"]).Select(c => ((YamlScalarNode)c).Value));
        command.Should().Contain($"chown {uid}:{uid} /spool");
        ((YamlSequenceNode)init["volumeMounts"]).Cast<YamlMappingNode>().Should().Contain(m => ((YamlScalarNode)m["name"]).Value == "spool");
    }

    [Fact]
    public void SystemdUnit_RunsTheRelayWithItsConfigAndDoesNotRestartOnConfigErrors()
    {
        var unit = File.ReadAllText(Path.Combine(Deploy, "systemd", "xray-relay.service"));

        unit.Should().Contain("ExecStart=/usr/local/bin/xray-relay -c /etc/xray-relay/cfg.yaml")
            .And.Contain("RestartPreventExitStatus=2")
            .And.Contain("KillSignal=SIGTERM");
    }

    [Fact]
    public void Dockerfile_CopiesEveryProjectTheRelayReferences()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Deploy, "Dockerfile"));
        var projects = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>([Path.Combine(Deploy, "Relay", "Relay.csproj")]);
        while (pending.TryDequeue(out var project))
        {
            var relative = Path.GetRelativePath(RepoPaths.Root, project).Replace('\\', '/');
            if (!projects.Add(relative))
            {
                continue;
            }

            foreach (var reference in System.Xml.Linq.XDocument.Load(project).Descendants("ProjectReference"))
            {
                pending.Enqueue(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, reference.Attribute("Include")!.Value)));
            }
        }

        projects.Should().HaveCountGreaterThan(3);
        foreach (var project in projects)
        {
            var directory = Path.GetDirectoryName(project)!.Replace('\\', '/') + "/";
            dockerfile.Should().Contain($"COPY {project} {directory}", "the restore layer needs {0}", project)
                .And.Contain($"COPY {directory} {directory}", "the publish needs the sources of {0}", project);
        }
    }

    [Fact]
    public void Dockerfile_BuildsForTheTargetArchitectureOnTheBuildersOwn()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Deploy, "Dockerfile"));

        dockerfile.Should().Contain("FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:")
            .And.Contain("ARG TARGETARCH")
            .And.Contain("amd64) echo linux-x64").And.Contain("arm64) echo linux-arm64")
            .And.Contain("-r \"$(cat /tmp/rid)\" --no-restore")
            .And.Contain("docker buildx build -f daemon-relay/Dockerfile --platform linux/amd64,linux/arm64");
        File.ReadAllText(Path.Combine(Deploy, "Dockerfile.dockerignore")).Should().Contain("**/bin/").And.Contain("**/obj/");
    }
}
