using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// samconfig.toml: each environment deploys (stack, region, capabilities, S3 for artifacts) and
/// its parameter_overrides are parameters of template.yaml with values CloudFormation accepts.
/// </summary>
[Collection(SamTemplateGroup.Name)]
public sealed class SamConfigTests(TransformedTemplate template)
{
    public static TheoryData<string> Environments => new() { "default", "dev" };

    [Theory]
    [MemberData(nameof(Environments))]
    public async Task Environment_NamesStackRegionCapabilitiesAndArtifactBucket(string environment)
    {
        var config = await ConfigAsync(environment);
        var global = config["global"]!;
        var deploy = config["deploy"]!;

        ((string?)global["stack_name"]).Should().NotBeNullOrWhiteSpace();
        ((string?)global["region"]).Should().MatchRegex("^[a-z]{2}(-[a-z]+)+-[0-9]$");
        ((string?)deploy["capabilities"])!.Split(' ').Should().Contain(
            ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            "the template creates roles and nests the Athena application");
        ((bool?)deploy["resolve_s3"]).Should().BeTrue();
        ((bool?)config["build"]?["parallel"]).Should().BeTrue();
    }

    [Fact]
    public async Task DefaultEnvironment_ConfirmsTheChangeSet()
    {
        var config = await ConfigAsync("default");

        ((bool?)config["deploy"]!["confirm_changeset"]).Should().BeTrue();
    }

    [Fact]
    public async Task Environments_DeployDistinctStacksAndGlueDatabases()
    {
        var all = await SamScript.ReadSamConfigAsync(TestContext.Current.CancellationToken);
        var defaults = template.Template["Parameters"]!;

        var stacks = Environments.Select(e => (string?)all[e.Data]!["global"]!["stack_name"]).ToList();
        var databases = Environments.Select(e =>
            (string?)all[e.Data]!["deploy"]!["parameter_overrides"]!["GlueDatabaseName"]
            ?? (string?)defaults["GlueDatabaseName"]!["Default"]).ToList();

        stacks.Should().OnlyHaveUniqueItems();
        databases.Should().OnlyHaveUniqueItems("Glue database names are per account and region");
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public async Task ParameterOverrides_AreTemplateParametersWithAcceptedValues(string environment)
    {
        var overrides = (await ConfigAsync(environment))["deploy"]!["parameter_overrides"]!.AsObject();
        var parameters = template.Template["Parameters"]!.AsObject();

        foreach (var (name, value) in overrides)
        {
            var parameter = parameters[name];
            parameter.Should().NotBeNull($"{environment}: {name} is not a template parameter");
            AssertAccepted(name, (string)value!, parameter!.AsObject());
        }

        parameters.Where(p => p.Value!["Default"] is null && !p.Key.StartsWith("AWS::", StringComparison.Ordinal))
            .Select(p => p.Key)
            .Should().BeSubsetOf(overrides.Select(o => o.Key), $"{environment} must give every parameter without a default");
    }

    [Fact]
    public void TemplateDefaults_AreAcceptedByTheirOwnConstraints()
    {
        foreach (var (name, parameter) in template.Template["Parameters"]!.AsObject())
        {
            if (parameter!["Default"] is JsonValue value)
            {
                AssertAccepted(name, value.ToString(), parameter.AsObject());
            }
        }
    }

    private static void AssertAccepted(string name, string value, JsonObject parameter)
    {
        if (parameter["AllowedValues"] is JsonArray allowed)
        {
            allowed.Select(a => a!.ToString()).Should().Contain(value, name);
        }

        if ((string?)parameter["AllowedPattern"] is { } pattern)
        {
            Regex.IsMatch(value, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)).Should().BeTrue($"{name}={value} against {pattern}");
        }

        if ((string?)parameter["Type"] == "Number")
        {
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number).Should().BeTrue(name);
            if (parameter["MinValue"] is JsonValue min)
            {
                number.Should().BeGreaterThanOrEqualTo((double)min, name);
            }

            if (parameter["MaxValue"] is JsonValue max)
            {
                number.Should().BeLessThanOrEqualTo((double)max, name);
            }
        }
    }

    private static async Task<JsonObject> ConfigAsync(string environment)
    {
        var all = await SamScript.ReadSamConfigAsync(TestContext.Current.CancellationToken);
        return all[environment]?.AsObject() ?? throw new KeyNotFoundException($"samconfig.toml has no [{environment}.*] sections");
    }
}
