using System.Text.Json.Nodes;
using Pipeline.IntegrationTests.Bootstrap;
using Pipeline.Testing;
using Pipeline.LocalAws.Processes;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// The Python side of the deploy tests (Scripts/sam_rehearsal.py): the SAM transform with the
/// samtranslator package and the moto CloudFormation rehearsal, each answering JSON.
/// </summary>
internal static class SamScript
{
    public const string Region = "us-east-1";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static string TemplatePath => Path.Combine(RepoPaths.Root, "template.yaml");

    public static string AthenaTemplatePath => Path.Combine(RepoPaths.Root, "athena", "template-athena.yaml");

    private static string ScriptPath =>
        Path.Combine(RepoPaths.Root, "tests", "Pipeline.IntegrationTests", "Deploy", "Scripts", "sam_rehearsal.py");

    /// <summary>Parameters without defaults in template.yaml, as a user gives them to `sam deploy`.</summary>
    public static IReadOnlyDictionary<string, string> RequiredParameters { get; } = new Dictionary<string, string>
    {
        ["ReportRecipients"] = "ops@example.com,finance@example.com",
        ["ReportSender"] = "pipeline@example.com",
    };

    public static string SamConfigPath => Path.Combine(RepoPaths.Root, "samconfig.toml");

    public static Task<JsonObject> ReadSamConfigAsync(CancellationToken cancellationToken) =>
        RunAsync(["samconfig", "--config", SamConfigPath], cancellationToken);

    public static Task<JsonObject> DecodeAsync(string templatePath, CancellationToken cancellationToken) =>
        RunAsync(["decode", "--template", templatePath], cancellationToken);

    public static Task<JsonObject> TransformAsync(CancellationToken cancellationToken) =>
        RunAsync(["transform", "--template", TemplatePath, "--region", Region, .. ParameterArguments(RequiredParameters)], cancellationToken);

    public static Task<JsonObject> RehearseAsync(
        Uri endpoint, string stackName, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken) =>
        RunAsync(
            ["rehearse", "--template", TemplatePath, "--endpoint", endpoint.ToString().TrimEnd('/'), "--region", Region,
             "--stack", stackName, .. ParameterArguments(parameters)],
            cancellationToken);

    private static IEnumerable<string> ParameterArguments(IReadOnlyDictionary<string, string> parameters) =>
        parameters.SelectMany(p => new[] { "--param", $"{p.Key}={p.Value}" });

    private static async Task<JsonObject> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string?>
        {
            ["AWS_DEFAULT_REGION"] = Region,
            // Never reach for instance metadata or a real account from a test.
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_ACCESS_KEY_ID"] = "rehearsal",
            ["AWS_SECRET_ACCESS_KEY"] = "rehearsal",
            ["PYTHONDONTWRITEBYTECODE"] = "1",
        };
        var result = await ChildProcess.RunAsync(
            "python3", [ScriptPath, .. arguments], environment, Timeout, cancellationToken, workingDirectory: RepoPaths.Root);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(result.Describe("sam_rehearsal.py"));
        }

        return JsonNode.Parse(result.StandardOutput)?.AsObject()
            ?? throw new InvalidOperationException("sam_rehearsal.py printed no JSON");
    }
}
