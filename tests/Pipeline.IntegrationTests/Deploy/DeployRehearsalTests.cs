using System.Text.Json.Nodes;
using Pipeline.Functions.Configuration;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// The deploy rehearsal: the stack that `sam deploy` would create, created in moto, exists and is
/// wired (stream → event source mapping → ingest, schedule rules → functions, functions → roles).
/// What moto skips or ignores is asserted over the transformed template in <see cref="SamTemplateTests"/>.
/// </summary>
[Collection(SamTemplateGroup.Name)]
public sealed class DeployRehearsalTests(TransformedTemplate template, DeployRehearsal rehearsal) : IClassFixture<DeployRehearsal>
{
    // moto 5.2.1 reports these CREATE_COMPLETE as nameless placeholders without creating
    // anything (../shared/MOTO.md; SNS::Subscription measured here: moto models only the topic).
    private static readonly string[] SkippedByMoto =
        ["AWS::S3::BucketPolicy", "AWS::CloudWatch::Alarm", "AWS::Scheduler::Schedule", "AWS::SNS::Subscription"];

    public static TheoryData<string, string> Schedules => new()
    {
        { "ServiceGraphFunction", DeployRehearsal.GraphSchedule },
        { "CostReportFunction", "cron(0 7 * * ? *)" },
        { "XRayReplayFunction", "rate(15 minutes)" },
    };

    [Fact]
    public void Stack_IsCreatedWithEveryResourceMotoSupports()
    {
        var created = rehearsal.Items("resources").Where(r => (string?)r["logicalId"] != "").ToList();
        var placeholders = rehearsal.Items("resources").Count(r => (string?)r["logicalId"] == "");
        // samconfig's parameters keep XRayForward's default, so the ForwardsOtlp condition is false
        // and its policy is not created (XRayOtlpTemplateTests checks what it would grant).
        var forwardsOtlp = rehearsal.Parameters.GetValueOrDefault("XRayForward") == "otlp";
        var expected = template.Resources
            .Where(r => !SkippedByMoto.Contains((string?)r.Value!["Type"]))
            .Where(r => forwardsOtlp || (string?)r.Value!["Condition"] != "ForwardsOtlp")
            .Select(r => r.Key);

        ((string?)rehearsal.Facts["stackStatus"]).Should().Be("CREATE_COMPLETE", (string?)rehearsal.Facts["stackStatusReason"]);
        created.Select(r => (string?)r["logicalId"]).Should().BeEquivalentTo(expected);
        created.Should().OnlyContain(r => (string?)r["status"] == "CREATE_COMPLETE");
        // moto gives Lambda permissions no physical id; Schedule_InvokesItsFunction reads them from the function's policy.
        created.Where(r => (string?)r["type"] != "AWS::Lambda::Permission")
            .Should().OnlyContain(r => (string?)r["physicalId"] != "");
        // moto lists what it skipped, and a resource whose condition is false, with an empty logical id.
        placeholders.Should().Be(template.Resources.Count(r => SkippedByMoto.Contains((string?)r.Value!["Type"])
            || (!forwardsOtlp && (string?)r.Value!["Condition"] == "ForwardsOtlp")));
    }

    [Fact]
    public void Stream_FeedsIngestThroughOneEventSourceMapping()
    {
        var stream = rehearsal.Item("streams", "TraceStream");
        var ingest = rehearsal.Item("functions", "IngestFunction");

        ((string?)stream["status"]).Should().Be("ACTIVE");
        var mapping = rehearsal.Items("eventSourceMappings").Should().ContainSingle().Subject;
        ((string?)mapping["eventSourceArn"]).Should().Be((string?)stream["arn"]);
        ((string?)mapping["functionArn"]).Should().Be((string?)ingest["arn"]);
        ((string?)mapping["startingPosition"]).Should().Be("TRIM_HORIZON");
        ((string?)mapping["state"]).Should().Be("Enabled");
        ((int?)mapping["batchSize"]).Should().Be(1000);
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Schedule_InvokesItsFunction(string functionId, string expression)
    {
        var function = rehearsal.Item("functions", functionId);

        var rule = rehearsal.Items("rules")
            .Where(r => r["targetArns"]!.AsArray().Any(t => (string?)t == (string?)function["arn"]))
            .Should().ContainSingle(functionId).Subject;
        ((string?)rule["scheduleExpression"]).Should().Be(expression);
        ((string?)rule["state"]).Should().Be("ENABLED");
        function["invokePermissions"]!.AsArray().Should().Contain(p =>
            (string?)p!["principal"] == "events.amazonaws.com" && (string?)p["sourceArn"] == (string?)rule["arn"]);
    }

    [Fact]
    public void Ingest_HasNoScheduleAndNoInvokePermission()
    {
        var ingest = rehearsal.Item("functions", "IngestFunction");

        rehearsal.Items("rules").Should().NotContain(r => r["targetArns"]!.AsArray().Any(t => (string?)t == (string?)ingest["arn"]));
        ingest["invokePermissions"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public void Functions_RunAsTheirOwnRoles()
    {
        var functions = rehearsal.Items("functions").ToList();

        functions.Should().HaveCount(FunctionContract.HandlerNames.Count);
        foreach (var function in functions)
        {
            var id = (string)function["logicalId"]!;
            var role = rehearsal.Item("roles", template.RoleOf(id));
            ((string?)function["role"]).Should().Be((string?)role["arn"], id);
            role["inlinePolicies"]!.AsArray().Should().ContainSingle(id);
        }

        functions.Select(f => (string?)f["role"]).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Functions_HaveTheContractsHandlerAndEnvironmentWithTheStacksNames()
    {
        var bucket = (string?)rehearsal.Item("resources", "ArchiveBucket")["physicalId"];
        var table = (string?)rehearsal.Item("resources", "DecisionTable")["physicalId"];

        foreach (var function in rehearsal.Items("functions"))
        {
            var handler = (string)function["handler"]!;
            ((string?)function["runtime"]).Should().Be("provided.al2023");
            FunctionContract.HandlerNames.Should().Contain(handler);
            var environment = function["environment"]!.AsObject();
            environment.Select(e => e.Key).Should().BeEquivalentTo(FunctionContract.Environment[handler], handler);
            ((string?)environment[EnvironmentNames.ArchiveBucket]).Should().Be(bucket, handler);
        }

        var ingest = rehearsal.Item("functions", "IngestFunction")["environment"]!;
        ((string?)ingest[EnvironmentNames.DecisionTable]).Should().Be(table);
        ((string?)ingest[EnvironmentNames.SamplingRate]).Should().Be(rehearsal.Parameters["SamplingRate"]);
        var report = rehearsal.Item("functions", "CostReportFunction")["environment"]!;
        ((string?)report[EnvironmentNames.ReportRecipients]).Should().Be(rehearsal.Parameters["ReportRecipients"]);
    }

    [Fact]
    public void RelayRole_IsAssumableOnlyByTheRelayServiceAccountOfTheGivenProvider()
    {
        var trust = rehearsal.Item("roles", "RelayRole")["assumeRolePolicy"]!;

        var statement = trust["Statement"]!.AsArray().Should().ContainSingle().Subject!;
        ((string?)statement["Action"]).Should().Be("sts:AssumeRoleWithWebIdentity");
        ((string?)statement["Principal"]!["Federated"]).Should().Be(DeployRehearsal.OidcProviderArn);
        var equals = statement["Condition"]!["StringEquals"]!.AsObject();
        equals.Select(e => e.Key).Should().BeEquivalentTo([$"{DeployRehearsal.OidcIssuer}:sub", $"{DeployRehearsal.OidcIssuer}:aud"]);
        ((string?)equals[$"{DeployRehearsal.OidcIssuer}:sub"]).Should().Be("system:serviceaccount:pipeline:xray-relay");
        ((string?)equals[$"{DeployRehearsal.OidcIssuer}:aud"]).Should().Be("sts.amazonaws.com");
    }

    [Fact]
    public void AthenaStack_IsCreatedWithTheStacksBuckets()
    {
        var nested = rehearsal.Item("nestedStacks", "AthenaStack");
        var parameters = nested["parameters"]!;

        ((string?)nested["status"]).Should().Be("CREATE_COMPLETE");
        ((string?)parameters["ArchiveBucket"]).Should().Be((string?)rehearsal.Item("resources", "ArchiveBucket")["physicalId"]);
        ((string?)parameters["AthenaResultsBucket"]).Should().Be((string?)rehearsal.Item("resources", "AthenaResultsBucket")["physicalId"]);
        // Glue and Athena resources are placeholders in moto; their shape is checked in the template tests.
        nested["resources"]!.AsArray().Should().HaveCount(template.AthenaTemplate["Resources"]!.AsObject().Count);
    }

    [Fact]
    public void Outputs_NameTheCreatedStreamBucketsTableAndRelayPolicy()
    {
        var outputs = rehearsal.Facts["outputs"]!;

        ((string?)outputs["StreamName"]).Should().Be((string?)rehearsal.Item("streams", "TraceStream")["name"]);
        rehearsal.Facts["buckets"]!.AsArray().Select(b => (string?)b).Should().Contain(
            [(string?)outputs["ArchiveBucketName"], (string?)outputs["AthenaResultsBucketName"]]);
        rehearsal.Facts["tables"]!.AsArray().Select(t => (string?)t).Should().Contain((string?)outputs["DecisionTableName"]);
        ((string?)outputs["RelayPolicyArn"]).Should().MatchRegex(@"^arn:aws:iam::\d{12}:policy/.+");
        ((string?)outputs["RelayRoleArn"]).Should().Be((string?)rehearsal.Item("roles", "RelayRole")["arn"]);
    }
}
