using System.CommandLine;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Http;
using Pipeline.Cli.Commands;
using Pipeline.Cli.Graph;
using Pipeline.Cli.Query;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.Cli.Tests.Query;

/// <summary>
/// <c>pipeline athena-template</c>: athena/template-athena.yaml is what the .sql files generate
/// (the committed file is current), an edit to a .sql file makes it stale until regenerated, and a
/// malformed file is an error naming what is wrong.
/// </summary>
public sealed class AthenaTemplateCommandTests : IDisposable
{
    private static readonly HttpClient Http = AwsHttp.CreateClient();
    private static readonly string AthenaDir = Path.Combine(RepoPaths.Root, "athena");
    private readonly DirectoryInfo _copy = Directory.CreateTempSubdirectory("athena-template-");

    [Fact]
    public async Task Check_TheCommittedTemplate_IsCurrentWithTheSqlFiles()
    {
        var (code, output, error) = await InvokeAsync("athena-template", "--check", "--athena-dir", AthenaDir);

        code.Should().Be(0, error);
        output.Should().Contain("is current (6 tables, 9 named queries)");
    }

    [Fact]
    public async Task Check_AfterAQueryFileChanged_IsStaleUntilRegenerated()
    {
        var athena = CopyAthena();
        var query = Directory.GetFiles(Path.Combine(athena, "queries"), "*.sql").Order(StringComparer.Ordinal).First();
        await File.AppendAllTextAsync(query, "\n-- edited\n", TestContext.Current.CancellationToken);

        var (stale, _, error) = await InvokeAsync("athena-template", "--check", "--athena-dir", athena);
        stale.Should().Be(1);
        error.Should().Contain("is stale").And.Contain("pipeline athena-template");

        (await InvokeAsync("athena-template", "--athena-dir", athena)).Code.Should().Be(0);
        (await InvokeAsync("athena-template", "--check", "--athena-dir", athena)).Code.Should().Be(0);
        (await File.ReadAllTextAsync(Path.Combine(athena, "template-athena.yaml"), TestContext.Current.CancellationToken))
            .Should().Contain("        -- edited").And.NotBe(await File.ReadAllTextAsync(Path.Combine(AthenaDir, "template-athena.yaml"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Generate_ATableChange_ReachesTheGlueColumns()
    {
        var athena = CopyAthena();
        var table = Path.Combine(athena, "tables", "usage_raw.sql");
        var ddl = await File.ReadAllTextAsync(table, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(table, ddl.Replace("line string", "line string,\n  extra_column   array<struct<a:int, b : string>>", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        (await InvokeAsync("athena-template", "--athena-dir", athena)).Code.Should().Be(0);

        (await File.ReadAllTextAsync(Path.Combine(athena, "template-athena.yaml"), TestContext.Current.CancellationToken))
            .Should().Contain("- Name: \"extra_column\"\n              Type: \"array<struct<a:int,b:string>>\"");
    }

    [Theory]
    [InlineData("tables/usage_raw.sql", "CREATE TABLE usage_raw (line string)", "no CREATE EXTERNAL TABLE")]
    [InlineData("tables/usage_raw.sql", "CREATE EXTERNAL TABLE IF NOT EXISTS usage_raw (line string)\nROW FORMAT SERDE 'x'\nLOCATION 's3://b/usage/'", "missing STORED AS INPUTFORMAT")]
    [InlineData("queries/daily-usage.sql", "SELECT 1", "the header comment must say what the query answers")]
    public async Task Generate_AMalformedFile_IsAnErrorNamingWhatIsWrong(string file, string text, string message)
    {
        var athena = CopyAthena();
        await File.WriteAllTextAsync(Path.Combine(athena, file), text, TestContext.Current.CancellationToken);
        var before = await File.ReadAllTextAsync(Path.Combine(athena, "template-athena.yaml"), TestContext.Current.CancellationToken);

        var (code, _, error) = await InvokeAsync("athena-template", "--athena-dir", athena);

        code.Should().Be(1);
        error.Should().StartWith("pipeline athena-template: ").And.Contain(message);
        (await File.ReadAllTextAsync(Path.Combine(athena, "template-athena.yaml"), TestContext.Current.CancellationToken)).Should().Be(before, "nothing is written on an error");
    }

    public void Dispose() => _copy.Delete(recursive: true);

    private string CopyAthena()
    {
        var target = Path.Combine(_copy.FullName, "athena");
        foreach (var file in Directory.EnumerateFiles(AthenaDir, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(AthenaDir, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
    }

    private async Task<(int Code, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        var environment = new DictionaryEnvironment();
        var root = PipelineCommand.Create(
            new CliContext(time, environment, Http, _copy.FullName, outputIsTerminal: false),
            new QueryCommandContext(time, environment, Http, _copy.FullName, outputIsTerminal: false),
            new GraphCommandContext(time, environment, Http, _copy.FullName));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }
}
