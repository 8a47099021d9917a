namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// XRayForward=otlp in the transformed template: the mode is a parameter value (today's default
/// kept), and the one grant it needs exists only under its condition, so every other deployment's
/// roles are unchanged (the least-privilege run deploys the defaults).
/// </summary>
[Collection(SamTemplateGroup.Name)]
public sealed class XRayOtlpTemplateTests(TransformedTemplate template)
{
    [Fact]
    public void XRayForward_KeepsTrueAsTheDefault_AndOffersOtlp()
    {
        var parameter = template.Template["Parameters"]!["XRayForward"]!;

        ((string?)parameter["Default"]).Should().Be("true");
        parameter["AllowedValues"]!.AsArray().Select(v => (string?)v).Should().BeEquivalentTo(["true", "segments", "otlp", "false", "off"]);
        Json.IsRef(template.Properties("IngestFunction")["Environment"]!["Variables"]!["XRAY_FORWARD"], "XRayForward").Should().BeTrue();
    }

    [Fact]
    public void ForwardsOtlp_IsTrueOnlyForOtlp()
    {
        var condition = template.Template["Conditions"]!["ForwardsOtlp"]!["Fn::Equals"]!.AsArray();

        condition.Should().HaveCount(2);
        Json.IsRef(condition[0], "XRayForward").Should().BeTrue();
        ((string?)condition[1]).Should().Be("otlp");
    }

    [Fact]
    public void XRayOtlpPolicy_GrantsOnlyPutSpans_ToTheIngestAndReplayRoles_UnderTheCondition()
    {
        var policy = template.Resource("XRayOtlpPolicy");

        ((string?)policy["Type"]).Should().Be("AWS::IAM::Policy");
        ((string?)policy["Condition"]).Should().Be("ForwardsOtlp");
        var properties = policy["Properties"]!.AsObject();
        properties["Roles"]!.AsArray().Select(r => Json.IsRef(r, out var id) ? id : null).Should().BeEquivalentTo(["IngestRole", "XRayReplayRole"]);
        var statement = properties["PolicyDocument"]!["Statement"]!.AsArray().Should().ContainSingle().Subject!.AsObject();
        ((string?)statement["Effect"]).Should().Be("Allow");
        ((string?)statement["Sid"]).Should().Be("XRayNoResourceLevelPermissions");
        Json.Strings(statement["Action"]).Should().Equal("xray:PutSpans");
        Json.Strings(statement["Resource"]).Should().Equal("*");
    }

    [Fact]
    public void NoOtherResource_DependsOnTheOtlpMode()
    {
        var conditioned = template.Resources
            .Where(r => (string?)r.Value!["Condition"] == "ForwardsOtlp")
            .Select(r => r.Key);

        conditioned.Should().Equal("XRayOtlpPolicy");
        template.Properties("IngestRole")["Policies"]!.AsArray()
            .SelectMany(p => p!["PolicyDocument"]!["Statement"]!.AsArray())
            .SelectMany(s => Json.Strings(s!["Action"]))
            .Should().NotContain("xray:PutSpans", "the default deployment grants nothing the OTLP mode needs");
    }
}
