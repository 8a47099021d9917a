using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Bootstrap;
using Pipeline.Testing;
using Pipeline.LocalAws.Processes;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// The Makefile that `sam build` runs (BuildMethod: makefile): a build-&lt;LogicalId&gt; target per
/// function, and what it produces is a linux-arm64 `bootstrap`.
/// </summary>
[Collection(SamTemplateGroup.Name)]
public sealed partial class MakefileTests(TransformedTemplate template) : IDisposable
{
    // ELF header facts (System V ABI): magic, EI_CLASS at 4 (2 = 64-bit), e_machine at 18 (183 = AArch64).
    private static readonly byte[] ElfMagic = [0x7F, (byte)'E', (byte)'L', (byte)'F'];
    private const int ElfClass64 = 2;
    private const ushort MachineAArch64 = 183;

    private static readonly TimeSpan DryRunTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(8);

    private readonly DirectoryInfo _artifacts = Directory.CreateTempSubdirectory("sam-artifacts-");

    private static string MakefilePath => Path.Combine(RepoPaths.Root, "Makefile");

    public void Dispose() => _artifacts.Delete(recursive: true);

    [Fact]
    public async Task Makefile_HasABuildTargetForEveryMakefileFunction()
    {
        var functions = template.OfType(TransformedTemplate.FunctionType)
            .Where(f => (string?)f.Value["Metadata"]?["BuildMethod"] == "makefile")
            .Select(f => f.Key)
            .ToList();

        functions.Should().HaveCount(4);
        foreach (var id in functions)
        {
            var result = await MakeAsync(["-n", $"build-{id}"], DryRunTimeout);
            result.ExitCode.Should().Be(0, result.Describe($"make -n build-{id}"));
            result.StandardOutput.Should().Contain(_artifacts.FullName, id);
        }
    }

    [Fact]
    public async Task Makefile_UnknownFunction_HasNoTarget()
    {
        var result = await MakeAsync(["-n", "build-NoSuchFunction"], DryRunTimeout);

        result.ExitCode.Should().NotBe(0);
    }

    [Fact]
    public void Makefile_FunctionList_IsTheTemplatesFunctions()
    {
        var match = FunctionsLine().Match(File.ReadAllText(MakefilePath));

        match.Success.Should().BeTrue("the Makefile names its functions in FUNCTIONS :=");
        match.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Should().BeEquivalentTo(template.OfType(TransformedTemplate.FunctionType).Select(f => f.Key));
    }

    [Fact]
    public async Task BuildIngestFunction_PublishesAnArm64BootstrapAtTheArtifactsRoot()
    {
        var result = await MakeAsync(["build-IngestFunction"], PublishTimeout);

        result.ExitCode.Should().Be(0, result.Describe("make build-IngestFunction"));
        var bootstrap = Path.Combine(_artifacts.FullName, "bootstrap");
        File.Exists(bootstrap).Should().BeTrue();
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(bootstrap).Should().HaveFlag(UnixFileMode.UserExecute);
        }

        var header = new byte[20];
        await using (var stream = File.OpenRead(bootstrap))
        {
            await stream.ReadExactlyAsync(header, TestContext.Current.CancellationToken);
        }

        header[..4].Should().Equal(ElfMagic);
        header[4].Should().Be(ElfClass64);
        BitConverter.ToUInt16(header, 18).Should().Be(MachineAArch64);
        // Self-contained: the runtime ships beside the executable.
        File.Exists(Path.Combine(_artifacts.FullName, "libcoreclr.so")).Should().BeTrue();
    }

    private static readonly Dictionary<string, string?> NoExtraEnvironment = [];

    private Task<ProcessResult> MakeAsync(IEnumerable<string> arguments, TimeSpan timeout) =>
        ChildProcess.RunAsync(
            "make",
            ["--makefile", MakefilePath, .. arguments, $"ARTIFACTS_DIR={_artifacts.FullName}"],
            NoExtraEnvironment,
            timeout,
            TestContext.Current.CancellationToken,
            workingDirectory: RepoPaths.Root);

    [GeneratedRegex(@"^FUNCTIONS\s*:=\s*(.+)$", RegexOptions.Multiline)]
    private static partial Regex FunctionsLine();
}
