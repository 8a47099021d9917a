using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// Assertions over the transformed template: what CloudFormation will create, including what
/// moto skips or ignores in the deploy rehearsal (bucket policies, lifecycle, encryption, TTL,
/// arm64, tracing, alarms, Glue/Athena).
/// </summary>
[Collection(SamTemplateGroup.Name)]
public sealed class SamTemplateTests(TransformedTemplate template)
{
    private const string IngestFunction = "IngestFunction";

    public static TheoryData<string, string> ScheduledFunctions => new()
    {
        { "ServiceGraphFunction", "GraphSchedule" },
        { "CostReportFunction", "ReportSchedule" },
        { "XRayReplayFunction", "ReplaySchedule" },
    };

    public static TheoryData<string> Buckets => new() { "ArchiveBucket", "AthenaResultsBucket" };

    [Fact]
    public void Functions_AllFour_AreProvidedAl2023OnArm64BuiltByTheMakefile()
    {
        var functions = template.OfType(TransformedTemplate.FunctionType);

        functions.Select(f => f.Key).Should().BeEquivalentTo(
            [IngestFunction, "ServiceGraphFunction", "CostReportFunction", "XRayReplayFunction"]);
        foreach (var (id, function) in functions)
        {
            var properties = function["Properties"]!;
            ((string?)properties["Runtime"]).Should().Be("provided.al2023", id);
            properties["Architectures"]!.AsArray().Select(a => (string?)a).Should().Equal(["arm64"], id);
            ((string?)function["Metadata"]?["BuildMethod"]).Should().Be("makefile", id);
        }
    }

    [Fact]
    public void Tracing_ScheduledFunctionsActive_IngestPassThrough()
    {
        foreach (var (id, function) in template.OfType(TransformedTemplate.FunctionType))
        {
            var mode = (string?)function["Properties"]!["TracingConfig"]?["Mode"];
            mode.Should().Be(id == IngestFunction ? "PassThrough" : "Active", id);
        }
    }

    [Fact]
    public void IngestEventSource_ReadsTheStreamFromTrimHorizonWithPartialBatchResponses()
    {
        var mappings = template.OfType("AWS::Lambda::EventSourceMapping");

        mappings.Should().ContainSingle();
        var esm = mappings[0].Value["Properties"]!;
        Json.IsRef(esm["FunctionName"], IngestFunction).Should().BeTrue();
        Json.IsGetAtt(esm["EventSourceArn"], "TraceStream", "Arn").Should().BeTrue();
        ((string?)esm["StartingPosition"]).Should().Be("TRIM_HORIZON");
        esm["FunctionResponseTypes"]!.AsArray().Select(t => (string?)t).Should().Equal(["ReportBatchItemFailures"]);
        ((bool?)esm["BisectBatchOnFunctionError"]).Should().BeTrue();
        Json.IsRef(esm["BatchSize"], "IngestBatchSize").Should().BeTrue();
        Json.IsRef(esm["MaximumBatchingWindowInSeconds"], "IngestBatchingWindowSeconds").Should().BeTrue();
        Json.IsRef(esm["MaximumRetryAttempts"], "IngestMaximumRetryAttempts").Should().BeTrue();
        Json.IsGetAtt(esm["DestinationConfig"]?["OnFailure"]?["Destination"], "IngestFailureQueue", "Arn").Should().BeTrue();
        ((string?)template.Resource("IngestFailureQueue")["Type"]).Should().Be("AWS::SQS::Queue");
    }

    [Fact]
    public void IngestRetries_AreBoundedByParameterLimits()
    {
        var retries = template.Template["Parameters"]!["IngestMaximumRetryAttempts"]!;
        var batch = template.Template["Parameters"]!["IngestBatchSize"]!;

        // Lambda rejects Kinesis mappings outside these (-1 = infinite is deliberately not allowed).
        ((int)retries["MinValue"]!).Should().BeGreaterThanOrEqualTo(0);
        ((int)retries["MaxValue"]!).Should().BeLessThanOrEqualTo(10000);
        ((int)batch["MaxValue"]!).Should().BeLessThanOrEqualTo(10000);
    }

    [Theory]
    [MemberData(nameof(ScheduledFunctions))]
    public void ScheduledFunction_HasAScheduleRuleFromItsParameterAndAnInvokePermission(string functionId, string parameter)
    {
        var rules = template.OfType("AWS::Events::Rule")
            .Where(r => r.Value["Properties"]!["Targets"]!.AsArray().Any(t => Json.IsGetAtt(t!["Arn"], functionId, "Arn")))
            .ToList();

        rules.Should().ContainSingle(functionId);
        var (ruleId, rule) = rules[0];
        Json.IsRef(rule["Properties"]!["ScheduleExpression"], parameter).Should().BeTrue();
        template.Template["Parameters"]![parameter].Should().NotBeNull();
        template.OfType("AWS::Lambda::Permission").Should().Contain(p =>
            Json.IsRef(p.Value["Properties"]!["FunctionName"], functionId)
            && (string?)p.Value["Properties"]!["Principal"] == "events.amazonaws.com"
            && Json.IsGetAtt(p.Value["Properties"]!["SourceArn"], ruleId, "Arn"));
    }

    [Fact]
    public void Ingest_IsNotScheduled()
    {
        template.OfType("AWS::Events::Rule").Should().NotContain(r =>
            r.Value["Properties"]!["Targets"]!.AsArray().Any(t => Json.IsGetAtt(t!["Arn"], IngestFunction, "Arn")));
    }

    [Theory]
    [MemberData(nameof(Buckets))]
    public void Bucket_PolicyDeniesEveryRequestWithoutTls(string bucketId)
    {
        var policies = template.OfType("AWS::S3::BucketPolicy")
            .Where(p => Json.IsRef(p.Value["Properties"]!["Bucket"], bucketId))
            .ToList();

        policies.Should().ContainSingle(bucketId);
        var statements = policies[0].Value["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray();
        statements.Should().Contain(s =>
            (string?)s!["Effect"] == "Deny"
            && (string?)s["Principal"] == "*"
            && Json.Strings(s["Action"]).SequenceEqual(new[] { "s3:*" })
            && (string?)s["Condition"]!["Bool"]!["aws:SecureTransport"] == "false"
            && Json.List(s["Resource"]).Any(r => Json.IsGetAtt(r, bucketId, "Arn"))
            && Json.List(s["Resource"]).Any(r => Json.SubText(r) == "${" + bucketId + ".Arn}/*"));
    }

    [Fact]
    public void Buckets_AllBlockPublicAccessEnforceOwnershipAndEncrypt()
    {
        var buckets = template.OfType("AWS::S3::Bucket");

        buckets.Select(b => b.Key).Should().BeEquivalentTo(Buckets.Select(b => b.Data));
        foreach (var (id, bucket) in buckets)
        {
            var properties = bucket["Properties"]!;
            var block = properties["PublicAccessBlockConfiguration"]!.AsObject();
            block.Select(p => p.Key).Should().BeEquivalentTo(
                ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], id);
            block.Should().OnlyContain(p => (bool)p.Value! == true, id);
            ((string?)properties["BucketEncryption"]!["ServerSideEncryptionConfiguration"]![0]!["ServerSideEncryptionByDefault"]!["SSEAlgorithm"])
                .Should().BeOneOf(["AES256", "aws:kms"], id);
            ((string?)properties["OwnershipControls"]!["Rules"]![0]!["ObjectOwnership"]).Should().Be("BucketOwnerEnforced", id);
            // A retried batch overwrites its own key; versioning would keep every superseded copy.
            properties["VersioningConfiguration"].Should().BeNull(id);
        }
    }

    [Fact]
    public void StatefulResources_HaveExplicitDeletionPolicies_AndTheArchiveIsRetained()
    {
        string[] stateful =
        [
            "AWS::S3::Bucket", "AWS::Kinesis::Stream", "AWS::DynamoDB::Table", "AWS::SQS::Queue",
            "AWS::Logs::LogGroup", "AWS::CloudFormation::Stack",
        ];

        foreach (var (id, resource) in template.Resources.Where(r => stateful.Contains((string?)r.Value!["Type"])))
        {
            ((string?)resource!["DeletionPolicy"]).Should().BeOneOf(["Delete", "Retain", "Snapshot"], id);
            ((string?)resource["UpdateReplacePolicy"]).Should().Be((string?)resource["DeletionPolicy"], id);
        }

        ((string?)template.Resource("ArchiveBucket")["DeletionPolicy"]).Should().Be("Retain", "the archive is the source of truth");
    }

    [Fact]
    public void ArchiveLifecycle_ExpiresQuarantineAndMovesOldSegmentsToIntelligentTiering()
    {
        var rules = template.Properties("ArchiveBucket")["LifecycleConfiguration"]!["Rules"]!.AsArray()
            .Select(r => r!.AsObject())
            .Where(r => (string?)r["Status"] == "Enabled")
            .ToList();

        rules.Should().Contain(r => (string?)r["Prefix"] == "quarantine/"
            && Json.IsRef(r["ExpirationInDays"], "QuarantineRetentionDays"));
        var segments = rules.Should().ContainSingle(r => (string?)r["Prefix"] == "segments/").Subject;
        segments["ExpirationInDays"].Should().BeNull("the archive is the source of truth");
        var transition = segments["Transitions"]!.AsArray().Should().ContainSingle().Subject!;
        ((string?)transition["StorageClass"]).Should().Be("INTELLIGENT_TIERING", "Athena cannot read Glacier objects");
        Json.IsRef(transition["TransitionInDays"], "ArchiveTieringDays").Should().BeTrue();
    }

    [Fact]
    public void Stream_IsEncryptedWithTheAwsManagedKinesisKey()
    {
        var stream = template.Properties("TraceStream");

        ((string?)stream["StreamEncryption"]!["EncryptionType"]).Should().Be("KMS");
        ((string?)stream["StreamEncryption"]!["KeyId"]).Should().Be("alias/aws/kinesis");
        Json.IsRef(stream["StreamModeDetails"]!["StreamMode"], "StreamMode").Should().BeTrue();
        template.Template["Parameters"]!["StreamMode"]!["AllowedValues"]!.AsArray().Select(v => (string?)v)
            .Should().BeEquivalentTo(["ON_DEMAND", "PROVISIONED"]);
    }

    [Fact]
    public void DecisionTable_IsOnDemandKeyedByTraceIdWithExpiresAtTtl()
    {
        var table = template.Properties("DecisionTable");

        ((string?)table["BillingMode"]).Should().Be("PAY_PER_REQUEST");
        var key = table["KeySchema"]!.AsArray().Should().ContainSingle().Subject!;
        ((string?)key["AttributeName"]).Should().Be("trace_id");
        ((string?)key["KeyType"]).Should().Be("HASH");
        ((string?)table["TimeToLiveSpecification"]!["AttributeName"]).Should().Be("expires_at");
        ((bool?)table["TimeToLiveSpecification"]!["Enabled"]).Should().BeTrue();
    }

    [Fact]
    public void FunctionRoles_AllowNoWildcardResourceExceptTheXRayActions()
    {
        foreach (var (functionId, _) in template.OfType(TransformedTemplate.FunctionType))
        {
            var roleId = template.RoleOf(functionId);
            var role = template.Properties(roleId);
            role["ManagedPolicyArns"].Should().BeNull($"{roleId}: AWS managed policies grant \"*\" resources");
            role["Policies"]!.AsArray().Should().NotBeEmpty();
            foreach (var statement in Statements(role))
            {
                AssertLeastPrivilege(roleId, statement);
            }
        }
    }

    [Fact]
    public void RelayPolicy_PutsOnlyToTheStreamAndReadsSamplingRules()
    {
        var statements = template.Properties("RelayPolicy")["PolicyDocument"]!["Statement"]!.AsArray()
            .Select(s => s!.AsObject()).ToList();

        statements.ForEach(s => AssertLeastPrivilege("RelayPolicy", s));
        statements.SelectMany(s => Json.Strings(s["Action"])).Should().BeEquivalentTo(
            ["kinesis:PutRecords", "kinesis:PutRecord", "kinesis:DescribeStreamSummary",
             "xray:GetSamplingRules", "xray:GetSamplingTargets"]);
        statements.Where(s => Json.Strings(s["Action"]).Any(a => a.StartsWith("kinesis:", StringComparison.Ordinal)))
            .Should().OnlyContain(s => Json.IsGetAtt(s["Resource"], "TraceStream", "Arn"));
    }

    [Fact]
    public void RelayRole_TrustsOnlyTheRelayServiceAccountThroughTheClusterOidcProvider()
    {
        var role = template.Resource("RelayRole");
        var parameters = template.Template["Parameters"]!;

        ((string?)role["Condition"]).Should().Be("HasRelayOidcProvider");
        template.Properties("RelayRole")["ManagedPolicyArns"]!.AsArray().Should().ContainSingle(p => Json.IsRef(p, "RelayPolicy"));
        using var trust = JsonDocument.Parse(Json.SubText(template.Properties("RelayRole")["AssumeRolePolicyDocument"])!);
        var statement = trust.RootElement.GetProperty("Statement").EnumerateArray().Should().ContainSingle().Subject;
        statement.GetProperty("Action").GetString().Should().Be("sts:AssumeRoleWithWebIdentity");
        statement.GetProperty("Principal").GetProperty("Federated").GetString().Should().Be("${RelayOidcProviderArn}");
        var equals = statement.GetProperty("Condition").GetProperty("StringEquals");
        equals.GetProperty("${Issuer}:sub").GetString()
            .Should().Be("system:serviceaccount:${RelayServiceAccountNamespace}:${RelayServiceAccountName}");
        equals.GetProperty("${Issuer}:aud").GetString().Should().Be("sts.amazonaws.com");
        ((string?)parameters["RelayServiceAccountNamespace"]!["Default"]).Should().Be("pipeline");
        ((string?)parameters["RelayServiceAccountName"]!["Default"]).Should().Be("xray-relay");
    }

    [Fact]
    public void IngestRole_WritesOnlyUnderTheIngestPrefixes()
    {
        var s3 = Statements(template.Properties(template.RoleOf(IngestFunction)))
            .Where(s => Json.Strings(s["Action"]).Any(a => a.StartsWith("s3:", StringComparison.Ordinal)))
            .ToList();

        s3.SelectMany(s => Json.Strings(s["Action"])).Distinct().Should().Equal(["s3:PutObject"]);
        s3.SelectMany(s => Json.List(s["Resource"])).Select(Json.SubText).Should().BeEquivalentTo(
            ["${ArchiveBucket.Arn}/segments/*", "${ArchiveBucket.Arn}/quarantine/*",
             "${ArchiveBucket.Arn}/usage/*", "${ArchiveBucket.Arn}/xray-retry/*"]);
    }

    [Fact]
    public void XRayReplayRole_ReadsAndDeletesOnlyRetries()
    {
        var s3 = Statements(template.Properties(template.RoleOf("XRayReplayFunction")))
            .Where(s => Json.Strings(s["Action"]).Any(a => a.StartsWith("s3:", StringComparison.Ordinal)))
            .ToList();

        var objects = s3.Should().ContainSingle(s => Json.Strings(s["Action"]).Contains("s3:DeleteObject")).Subject;
        Json.SubText(objects["Resource"]).Should().Be("${ArchiveBucket.Arn}/xray-retry/*");
        // Without a condition: a parked object another run already took must answer 404, not 403.
        var list = s3.Should().ContainSingle(s => Json.Strings(s["Action"]).Contains("s3:ListBucket")).Subject;
        Json.IsGetAtt(list["Resource"], "ArchiveBucket", "Arn").Should().BeTrue();
        list["Condition"].Should().BeNull();
    }

    [Fact]
    public void FunctionLogs_GoToTheirOwnLogGroupWithRetention()
    {
        foreach (var (functionId, function) in template.OfType(TransformedTemplate.FunctionType))
        {
            var logGroup = function["Properties"]!["LoggingConfig"]!["LogGroup"];
            Json.IsRef(logGroup, out var groupId).Should().BeTrue(functionId);
            Json.IsRef(template.Properties(groupId)["RetentionInDays"], "LogRetentionDays").Should().BeTrue(groupId);
            var logs = Statements(template.Properties(template.RoleOf(functionId)))
                .Where(s => Json.Strings(s["Action"]).Any(a => a.StartsWith("logs:", StringComparison.Ordinal)))
                .ToList();
            logs.Should().ContainSingle(functionId);
            Json.IsGetAtt(logs[0]["Resource"], groupId, "Arn").Should().BeTrue(functionId);
        }
    }

    [Fact]
    public void Alarms_CoverLagErrorsFailedBatchesAndQuarantine_AndNotifyTheAlarmTopic()
    {
        var alarms = template.OfType("AWS::CloudWatch::Alarm").Select(a => a.Value["Properties"]!).ToList();

        alarms.Should().OnlyContain(a => a["AlarmActions"]!.AsArray().Any(t => Json.IsRef(t, "AlarmTopic")));
        alarms.Should().Contain(a => (string?)a["MetricName"] == "IteratorAge"
            && Json.IsRef(a["Dimensions"]![0]!["Value"], IngestFunction));
        foreach (var (functionId, _) in template.OfType(TransformedTemplate.FunctionType))
        {
            alarms.Should().Contain(a => (string?)a["MetricName"] == "Errors"
                && (string?)a["Namespace"] == "AWS/Lambda"
                && Json.IsRef(a["Dimensions"]![0]!["Value"], functionId), functionId);
        }

        alarms.Should().Contain(a => (string?)a["MetricName"] == "ApproximateNumberOfMessagesVisible"
            && Json.IsGetAtt(a["Dimensions"]![0]!["Value"], "IngestFailureQueue", "QueueName"));
        alarms.Should().Contain(a => a["Metrics"] != null && a["Metrics"]!.AsArray().Any(m =>
            ((string?)m!["Expression"] ?? "").Contains("SegmentsInvalid", StringComparison.Ordinal)
            && ((string?)m["Expression"] ?? "").Contains("FROM XRayPipeline", StringComparison.Ordinal)));
    }

    [Fact]
    public void AlarmEmail_IsSubscribedOnlyWhenGiven()
    {
        var subscription = template.Resource("AlarmEmailSubscription");

        ((string?)subscription["Condition"]).Should().Be("HasAlarmEmail");
        Json.IsRef(subscription["Properties"]!["TopicArn"], "AlarmTopic").Should().BeTrue();
        ((string?)subscription["Properties"]!["Protocol"]).Should().Be("email");
        Json.IsRef(subscription["Properties"]!["Endpoint"], "AlarmEmail").Should().BeTrue();
    }

    [Fact]
    public void AthenaStack_IsTheGeneratedAthenaTemplate_GivenEveryParameterItNeeds()
    {
        var nested = template.Properties("AthenaStack");
        var declared = template.AthenaTemplate["Parameters"]!.AsObject();
        var passed = nested["Parameters"]!.AsObject();

        ((string?)template.Resource("AthenaStack")["Type"]).Should().Be("AWS::CloudFormation::Stack");
        ((string?)nested["TemplateURL"]).Should().EndWith("/athena/template-athena.yaml");
        passed.Select(p => p.Key).Should().BeSubsetOf(declared.Select(p => p.Key));
        declared.Where(p => p.Value!["Default"] is null).Select(p => p.Key).Should().BeSubsetOf(passed.Select(p => p.Key));
        Json.IsRef(passed["ArchiveBucket"], "ArchiveBucket").Should().BeTrue();
        Json.IsRef(passed["AthenaResultsBucket"], "AthenaResultsBucket").Should().BeTrue();
        template.AthenaTemplate["Resources"]!.AsObject().Select(r => (string?)r.Value!["Type"]).Should().Contain(
            ["AWS::Glue::Database", "AWS::Glue::Table", "AWS::Athena::WorkGroup", "AWS::Athena::NamedQuery"]);
    }

    [Fact]
    public void AthenaStackOutputs_UsedByTheTemplate_AreOutputsOfTheAthenaTemplate()
    {
        var outputs = template.AthenaTemplate["Outputs"]!.AsObject().Select(o => o.Key).ToHashSet();
        var used = new List<string>();
        Collect(template.Template, used);

        used.Should().Contain(["AthenaWorkGroupName", "ArchiveDatabaseName"]);
        used.Should().BeSubsetOf(outputs);
        var environment = template.Properties("ServiceGraphFunction")["Environment"]!["Variables"]!;
        Json.IsGetAtt(environment["ATHENA_WORKGROUP"], "AthenaStack", "Outputs.AthenaWorkGroupName").Should().BeTrue();
        Json.IsGetAtt(environment["ATHENA_DATABASE"], "AthenaStack", "Outputs.ArchiveDatabaseName").Should().BeTrue();

        static void Collect(JsonNode? node, List<string> used)
        {
            if (Json.IsGetAtt(node, out var id, out var attribute) && id == "AthenaStack")
            {
                used.Add(attribute["Outputs.".Length..]);
            }
            else if (Json.SubText(node) is { } text)
            {
                used.AddRange(System.Text.RegularExpressions.Regex.Matches(text, @"\$\{AthenaStack\.Outputs\.([A-Za-z0-9]+)\}")
                    .Select(m => m.Groups[1].Value));
            }

            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, value) in o)
                    {
                        Collect(value, used);
                    }

                    break;
                case JsonArray a:
                    foreach (var value in a)
                    {
                        Collect(value, used);
                    }

                    break;
            }
        }
    }

    [Fact]
    public void Outputs_NameTheStreamBucketRelayPolicyAndWorkgroup()
    {
        var outputs = template.Template["Outputs"]!;

        Json.IsRef(outputs["StreamName"]?["Value"], "TraceStream").Should().BeTrue();
        Json.IsRef(outputs["ArchiveBucketName"]?["Value"], "ArchiveBucket").Should().BeTrue();
        Json.IsRef(outputs["RelayPolicyArn"]?["Value"], "RelayPolicy").Should().BeTrue();
        Json.IsGetAtt(outputs["AthenaWorkGroupName"]?["Value"], "AthenaStack", "Outputs.AthenaWorkGroupName").Should().BeTrue();
    }

    private static IEnumerable<JsonObject> Statements(JsonObject role) =>
        role["Policies"]!.AsArray().SelectMany(p => p!["PolicyDocument"]!["Statement"]!.AsArray()).Select(s => s!.AsObject());

    /// <summary>
    /// Allow statements name their actions (no service:* or *) and their resources; "*" only for
    /// X-Ray, whose PutTraceSegments, PutTelemetryRecords and sampling calls have no resource-level
    /// permissions.
    /// </summary>
    private static void AssertLeastPrivilege(string owner, JsonObject statement)
    {
        ((string?)statement["Effect"]).Should().Be("Allow", owner);
        statement["NotAction"].Should().BeNull(owner);
        statement["NotResource"].Should().BeNull(owner);
        var actions = Json.Strings(statement["Action"]);
        actions.Should().NotBeEmpty(owner).And.OnlyContain(a => !a.Contains('*'), owner);
        var resources = Json.List(statement["Resource"]);
        resources.Should().NotBeEmpty(owner);
        if (resources.Any(r => r is JsonValue v && (string?)v == "*"))
        {
            actions.Should().OnlyContain(a => a.StartsWith("xray:", StringComparison.Ordinal), $"{owner}: only X-Ray may use \"*\"");
            ((string?)statement["Sid"]).Should().Be("XRayNoResourceLevelPermissions", owner);
        }
    }
}
