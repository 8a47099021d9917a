using Pipeline.Functions.Configuration;
using Pipeline.Functions.Ingest;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.Functions.Tests.Ingest;

public sealed class IngestOptionsTests
{
    private static readonly DictionaryEnvironment Required = new()
    {
        [EnvironmentNames.ArchiveBucket] = "archive",
        [EnvironmentNames.DecisionTable] = "decisions",
    };

    [Fact]
    public void FromEnvironment_OnlyRequired_DocumentedDefaults()
    {
        var options = IngestOptions.FromEnvironment(Required);

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
    [InlineData("SAMPLING_RATE", "1.5", "SAMPLING_RATE: '1.5' is not a number from 0 to 1")]
    [InlineData("SAMPLING_RATE", "ten percent", "SAMPLING_RATE: 'ten percent' is not a number from 0 to 1")]
    [InlineData("TAIL_LATENCY_MS", "0", "TAIL_LATENCY_MS: '0' is not a whole number ≥ 1")]
    [InlineData("DECISION_TTL_HOURS", "721", "DECISION_TTL_HOURS: '721' is not a whole number from 1 to 720")]
    [InlineData("XRAY_FORWARD", "yes", "XRAY_FORWARD: 'yes' is not one of true, segments, otlp, false, off")]
    [InlineData("SAMPLING_RULES", "{\"RuleName\":\"x\"}", "SAMPLING_RULES: is not a JSON array")]
    [InlineData("SAMPLING_RULES", "[{\"RuleName\":\"x\",\"FixedRate\":2}]", "FixedRate must be 0..1")]
    [InlineData("REDACTION_RULES", "{\"header\":[\"x-secret\"]}", "REDACTION_RULES: is not a JSON object")]
    public void FromEnvironment_BadValue_ConfigurationErrorNamingTheVariable(string name, string? value, string message)
    {
        var act = () => IngestOptions.FromEnvironment(Required.With(name, value));

        act.Should().Throw<ConfigurationException>().Which.Message.Should().Contain(message);
    }

    [Fact]
    public void FromEnvironment_ReadsOnlyTheContractsVariablesAndLambdasOwn()
    {
        var environment = new RecordingEnvironment(Required);

        IngestOptions.FromEnvironment(environment);

        environment.Read.Distinct().Should().BeSubsetOf([.. FunctionContract.Environment[FunctionContract.IngestHandler], IngestOptions.FunctionMemoryVariable]);
    }

    [Fact]
    public void FromEnvironment_SeveralBadValues_ReportsEveryOne()
    {
        var environment = Required.With(EnvironmentNames.ArchiveBucket, null).With(EnvironmentNames.SamplingRate, "2");

        var act = () => IngestOptions.FromEnvironment(environment);

        act.Should().Throw<ConfigurationException>().Which.Problems.Should().HaveCount(2);
    }

    [Fact]
    public void FromEnvironment_SamplingRules_MatchedBeforeTheFallbackRate()
    {
        var variables = Required
            .With(EnvironmentNames.SamplingRate, "0.25")
            .With(EnvironmentNames.SamplingRules, """[{"RuleName":"checkout","Priority":1,"FixedRate":1,"ServiceName":"checkout-*","HTTPMethod":"POST","URLPath":"/pay*","RuleARN":"ignored"}]""");

        var rules = IngestOptions.FromEnvironment(variables).Sampling.Rules;

        rules.Select(r => (r.RuleName, r.FixedRate)).Should().Equal(("checkout", 1.0), ("Default", 0.25));
        rules[0].HttpMethod.Should().Be("POST");
        rules[0].UrlPath.Should().Be("/pay*");
    }

    [Fact]
    public void FromEnvironment_RedactionRules_AddedToTheBuiltInLists()
    {
        var variables = Required.With(EnvironmentNames.RedactionRules, """{"headers":["x-tenant-secret"],"keys":["*ssn*"]}""");

        var redaction = IngestOptions.FromEnvironment(variables).Redaction;

        redaction.HeaderNames.Should().Contain(["authorization", "x-tenant-secret"]);
        redaction.KeyPatterns.Should().Contain("*ssn*");
    }
}
