using System.Text.RegularExpressions;
using Pipeline.LocalAws.Processes;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Athena;

/// <summary>
/// athena/template-athena.yaml passes cfn-lint and declares every table and named query with the
/// work group's guards. That it is current with the .sql files is checked where it is generated
/// (Pipeline.Cli.Tests, AthenaTemplateCommandTests).
/// </summary>
public sealed partial class AthenaTemplateTests
{
    private static readonly string AthenaDir = Path.Combine(RepoPaths.Root, "athena");
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Template_PassesCfnLint()
    {
        var (code, output) = await RunAsync("cfn-lint", Path.Combine(AthenaDir, "template-athena.yaml"));

        code.Should().Be(0, output);
    }

    [Fact]
    public void Template_HasOneNamedQueryPerFileAndTheWorkgroupGuards()
    {
        var template = File.ReadAllText(Path.Combine(AthenaDir, "template-athena.yaml"));
        var files = Directory.GetFiles(Path.Combine(AthenaDir, "queries"), "*.sql").Select(Path.GetFileNameWithoutExtension).ToList();
        var tables = Directory.GetFiles(Path.Combine(AthenaDir, "tables"), "*.sql").Select(Path.GetFileNameWithoutExtension).ToList();

        NamedQueryName().Matches(template).Select(m => m.Groups[1].Value).Should().BeEquivalentTo(files);
        TableName().Matches(template).Select(m => m.Groups[1].Value).Should().BeEquivalentTo(tables);
        template.Should().Contain("EnforceWorkGroupConfiguration: true")
            .And.Contain("EncryptionOption: SSE_S3")
            .And.Contain("BytesScannedCutoffPerQuery: !Ref AthenaBytesScannedCutoff")
            .And.Contain("\"storage.location.template\": !Sub \"s3://${ArchiveBucket}/segments/dt=${!dt}/hour=${!hour}/\"")
            .And.Contain("\"projection.hour.digits\": \"2\"");
    }

    private static async Task<(int Code, string Output)> RunAsync(string tool, params string[] args)
    {
        var result = await ChildProcess.RunAsync(tool, args, new Dictionary<string, string?>(), ToolTimeout, TestContext.Current.CancellationToken);
        return (result.ExitCode, result.StandardOutput + result.StandardError);
    }

    [GeneratedRegex(@"Type: AWS::Athena::NamedQuery\n    Properties:\n      Name: ""([^""]+)""")]
    private static partial Regex NamedQueryName();

    [GeneratedRegex(@"Type: AWS::Glue::Table\n(?:.*\n){4}        Name: ""([^""]+)""")]
    private static partial Regex TableName();
}
