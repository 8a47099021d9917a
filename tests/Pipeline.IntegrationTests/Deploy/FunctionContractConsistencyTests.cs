using System.Text.Json.Nodes;
using Pipeline.Functions.Configuration;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// One source of truth: the template's Handler values and environment variables are exactly
/// what <see cref="FunctionContract"/> says the bootstrap dispatches on and each handler reads.
/// </summary>
[Collection(SamTemplateGroup.Name)]
public sealed class FunctionContractConsistencyTests(TransformedTemplate template)
{
    public static TheoryData<string> Handlers => [.. FunctionContract.HandlerNames];

    [Fact]
    public void TemplateHandlers_AreExactlyTheContractsHandlerNames()
    {
        var handlers = template.OfType(TransformedTemplate.FunctionType)
            .Select(f => (string?)f.Value["Properties"]!["Handler"])
            .ToList();

        handlers.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(FunctionContract.HandlerNames);
    }

    [Theory]
    [MemberData(nameof(Handlers))]
    public void TemplateEnvironment_OfEachHandler_IsExactlyWhatTheContractSaysItReads(string handler)
    {
        var functionId = template.FunctionsByHandler()[handler];
        var variables = template.Properties(functionId)["Environment"]?["Variables"]?.AsObject() ?? [];

        variables.Select(v => v.Key).Should().BeEquivalentTo(FunctionContract.Environment[handler], functionId);
        variables.Should().OnlyContain(v => v.Value != null, $"{functionId}: every variable has a value source");
    }

    [Fact]
    public void ContractEnvironment_CoversEveryHandler()
    {
        FunctionContract.Environment.Keys.Should().BeEquivalentTo(FunctionContract.HandlerNames);
    }

    [Fact]
    public void TemplateEnvironment_ArchiveBucket_IsTheArchiveBucketForEveryFunction()
    {
        foreach (var (id, function) in template.OfType(TransformedTemplate.FunctionType))
        {
            JsonNode? bucket = function["Properties"]!["Environment"]!["Variables"]![EnvironmentNames.ArchiveBucket];
            Json.IsRef(bucket, "ArchiveBucket").Should().BeTrue(id);
        }
    }

    [Fact]
    public void TemplateEnvironment_DecisionTable_IsTheDecisionTable()
    {
        var ingest = template.FunctionsByHandler()[FunctionContract.IngestHandler];

        Json.IsRef(template.Properties(ingest)["Environment"]!["Variables"]![EnvironmentNames.DecisionTable], "DecisionTable")
            .Should().BeTrue();
    }
}
