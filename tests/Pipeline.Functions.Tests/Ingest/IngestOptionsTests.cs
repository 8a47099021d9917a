using Pipeline.Functions.Configuration;
using Pipeline.Functions.Ingest;
using Pipeline.Lambda;

namespace Pipeline.Functions.Tests.Ingest;

public sealed class IngestOptionsTests
{
    private static readonly Dictionary<string, string?> Required = new()
    {
        [EnvironmentNames.ArchiveBucket] = "archive",
        [EnvironmentNames.DecisionTable] = "decisions",
    };

    [Fact]
    public void FromEnvironment_OnlyRequired_DocumentedDefaults()
    {
        var options = IngestOptions.FromEnvironment(Env(Required));

        options.ArchiveBucket.Should().Be("archive");
        options.DecisionTable.Should().Be("decisions");
        options.ForwardToXRay.Should().BeTrue();
        options.Sampling.Rules.Should().ContainSingle().Which.FixedRate.Should().Be(IngestOptions.DefaultSamplingRate);
        options.Sampling.Tail.SlowThreshold.Should().Be(TimeSpan.FromMilliseconds(IngestOptions.DefaultTailLatencyMs));
        options.Sampling.DecisionTimeToLive.Should().Be(TimeSpan.FromHours(IngestOptions.DefaultDecisionTtlHours));
    }

    [Theory]
    [InlineData("ARCHIVE_BUCKET", null, "ARCHIVE_BUCKET is required")]
    [InlineData("DECISION_TABLE", "  ", "DECISION_TABLE is required")]
    [InlineData("SAMPLING_RATE", "1.5", "SAMPLING_RATE must be a number from 0 to 1")]
    [InlineData("SAMPLING_RATE", "ten percent", "SAMPLING_RATE must be a number from 0 to 1")]
    [InlineData("TAIL_LATENCY_MS", "0", "TAIL_LATENCY_MS must be")]
    [InlineData("DECISION_TTL_HOURS", "721", "DECISION_TTL_HOURS must be")]
    [InlineData("XRAY_FORWARD", "yes", "XRAY_FORWARD must be 'true' or 'false'")]
    [InlineData("SAMPLING_RULES", "{\"RuleName\":\"x\"}", "SAMPLING_RULES is not a JSON array")]
    [InlineData("SAMPLING_RULES", "[{\"RuleName\":\"x\",\"FixedRate\":2}]", "FixedRate must be 0..1")]
    [InlineData("REDACTION_RULES", "{\"header\":[\"x-secret\"]}", "REDACTION_RULES is not a JSON object")]
    public void FromEnvironment_BadValue_InitErrorNamingTheVariable(string name, string? value, string message)
    {
        var variables = new Dictionary<string, string?>(Required) { [name] = value };

        var act = () => IngestOptions.FromEnvironment(Env(variables));

        var error = act.Should().Throw<LambdaInitException>().Which;
        error.ErrorType.Should().Be(LambdaError.Types.ConfigInvalid);
        error.Message.Should().Contain(message);
    }

    [Fact]
    public void FromEnvironment_SamplingRules_MatchedBeforeTheFallbackRate()
    {
        var variables = new Dictionary<string, string?>(Required)
        {
            [EnvironmentNames.SamplingRate] = "0.25",
            [EnvironmentNames.SamplingRules] = """[{"RuleName":"checkout","Priority":1,"FixedRate":1,"ServiceName":"checkout-*","HTTPMethod":"POST","URLPath":"/pay*","RuleARN":"ignored"}]""",
        };

        var rules = IngestOptions.FromEnvironment(Env(variables)).Sampling.Rules;

        rules.Select(r => (r.RuleName, r.FixedRate)).Should().Equal(("checkout", 1.0), ("Default", 0.25));
        rules[0].HttpMethod.Should().Be("POST");
        rules[0].UrlPath.Should().Be("/pay*");
    }

    [Fact]
    public void FromEnvironment_RedactionRules_AddedToTheBuiltInLists()
    {
        var variables = new Dictionary<string, string?>(Required)
        {
            [EnvironmentNames.RedactionRules] = """{"headers":["x-tenant-secret"],"keys":["*ssn*"]}""",
        };

        var redaction = IngestOptions.FromEnvironment(Env(variables)).Redaction;

        redaction.HeaderNames.Should().Contain(["authorization", "x-tenant-secret"]);
        redaction.KeyPatterns.Should().Contain("*ssn*");
    }

    private static FakeEnvironment Env(Dictionary<string, string?> variables) => new(variables);

    private sealed class FakeEnvironment(Dictionary<string, string?> variables) : IEnvironmentVariables
    {
        public string? GetEnvironmentVariable(string name) => variables.GetValueOrDefault(name);

        public void SetEnvironmentVariable(string name, string? value) => variables[name] = value;
    }
}
