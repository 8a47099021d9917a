using Pipeline.Testing.Iam;

namespace Pipeline.IntegrationTests.Deploy.LeastPrivilege;

/// <summary>
/// Least privilege, both ways, for every function role of the deployed template: every AWS call a
/// function makes is allowed by its own role (as IAM evaluates it, conditions included, with S3's
/// 403-for-a-missing-key rule), and every action on every resource a role grants is used by a call
/// or by an AWS service on the role's behalf (<see cref="ServiceUses"/>, each with its reason).
/// moto's IAM checks are compared with ours on the S3 object calls, the part moto evaluates.
/// </summary>
public sealed class LeastPrivilegeTests(LeastPrivilegeRun run) : IClassFixture<LeastPrivilegeRun>
{
    /// <summary>
    /// Grants that no call of our code uses, because an AWS service uses them with the role's
    /// credentials: (role, statement Sid, action as the statement writes it) → why.
    /// </summary>
    public static readonly IReadOnlyDictionary<(string Role, string Sid, string Action), string> ServiceUses =
        new Dictionary<(string, string, string), string>
        {
            [("IngestRole", "Logs", "logs:CreateLogStream")] = LambdaLogs,
            [("IngestRole", "Logs", "logs:PutLogEvents")] = LambdaLogs,
            [("ServiceGraphRole", "Logs", "logs:CreateLogStream")] = LambdaLogs,
            [("ServiceGraphRole", "Logs", "logs:PutLogEvents")] = LambdaLogs,
            [("CostReportRole", "Logs", "logs:CreateLogStream")] = LambdaLogs,
            [("CostReportRole", "Logs", "logs:PutLogEvents")] = LambdaLogs,
            [("XRayReplayRole", "Logs", "logs:CreateLogStream")] = LambdaLogs,
            [("XRayReplayRole", "Logs", "logs:PutLogEvents")] = LambdaLogs,
            [("IngestRole", "ReadStream", "kinesis:DescribeStream")] = KinesisMapping,
            [("IngestRole", "ReadStream", "kinesis:DescribeStreamSummary")] = KinesisMapping,
            [("IngestRole", "ReadStream", "kinesis:GetRecords")] = KinesisMapping,
            [("IngestRole", "ReadStream", "kinesis:GetShardIterator")] = KinesisMapping,
            [("IngestRole", "ReadStream", "kinesis:ListShards")] = KinesisMapping,
            [("IngestRole", "ReportFailedBatches", "sqs:SendMessage")] =
                "the event source mapping's OnFailure destination sends the failed batch's shard and sequence range with the function's role (Lambda developer guide, 'Retaining records of asynchronous invocations / event source mapping destinations')",
            [("ServiceGraphRole", "XRayNoResourceLevelPermissions", "xray:PutTraceSegments")] = ActiveTracing,
            [("ServiceGraphRole", "XRayNoResourceLevelPermissions", "xray:PutTelemetryRecords")] = ActiveTracing,
            [("CostReportRole", "XRayNoResourceLevelPermissions", "xray:PutTraceSegments")] = ActiveTracing,
            [("CostReportRole", "XRayNoResourceLevelPermissions", "xray:PutTelemetryRecords")] = ActiveTracing,
            [("XRayReplayRole", "XRayNoResourceLevelPermissions", "xray:PutTelemetryRecords")] = ActiveTracing,
            [("ServiceGraphRole", "RunQueries", "athena:StartQueryExecution")] = AthenaEngine,
            [("ServiceGraphRole", "RunQueries", "athena:GetQueryExecution")] = AthenaEngine,
            [("ServiceGraphRole", "RunQueries", "athena:GetQueryResults")] = AthenaEngine,
            [("ServiceGraphRole", "ReadCatalog", "glue:GetDatabase")] = AthenaCaller,
            [("ServiceGraphRole", "ReadCatalog", "glue:GetTable")] = AthenaCaller,
            [("ServiceGraphRole", "ReadCatalog", "glue:GetPartitions")] = AthenaCaller,
            [("ServiceGraphRole", "AthenaBucketLocations", "s3:GetBucketLocation")] = AthenaCaller,
            [("ServiceGraphRole", "AthenaResultsList", "s3:ListBucket")] = AthenaCaller,
            [("ServiceGraphRole", "AthenaResultsList", "s3:ListBucketMultipartUploads")] = AthenaCaller,
            [("ServiceGraphRole", "AthenaResults", "s3:GetObject")] = AthenaCaller,
            [("ServiceGraphRole", "AthenaResults", "s3:PutObject")] = AthenaCaller,
            [("ServiceGraphRole", "AthenaResults", "s3:AbortMultipartUpload")] = AthenaCaller,
            [("ServiceGraphRole", "AthenaResults", "s3:ListMultipartUploadParts")] = AthenaCaller,
        };

    private const string LambdaLogs =
        "Lambda writes the function's stdout (JSON logs, EMF lines) to its log group with the execution role (Lambda developer guide, 'Lambda execution role')";

    private const string KinesisMapping =
        "the Kinesis event source mapping reads the stream with the function's role (Lambda developer guide, 'Using Lambda with Kinesis', execution role permissions)";

    private const string ActiveTracing =
        "Tracing: Active: Lambda sends the function's own segments with the execution role (Lambda developer guide, 'Visualize Lambda function invocations using AWS X-Ray')";

    private const string AthenaEngine =
        "GRAPH_ENGINE athena/auto: the service graph runs athena/service_graph.sql for windows past GRAPH_SQL_THRESHOLD_SEGMENTS; moto's Athena cannot run a query, so this run keeps to the stream engine";

    private const string AthenaCaller =
        "Athena reads the catalog and the archive and writes results with the caller's credentials (Athena user guide, 'Access to Amazon S3' and 'Fine-grained access to databases and tables')";

    [Fact]
    public void EveryFunction_RanToTheEndAndCalledAws()
    {
        run.Runs.Select(r => r.FunctionLogicalId).Distinct().Should().BeEquivalentTo(run.Facts["functions"]!.AsArray().Select(f => (string?)f!["logicalId"]));
        foreach (var r in run.Runs)
        {
            r.Failure.Should().BeNull($"{r} should end with a response ({r.Failure})");
            r.Calls.Should().BePositive($"{r} should have called AWS");
        }
    }

    [Fact]
    public void EveryCall_IsSignedByTheRoleOfTheFunctionThatMadeIt()
    {
        var keys = run.Roles.Select(r => r.AccessKeyId).ToHashSet();

        run.Exchanges.Should().NotBeEmpty();
        run.Exchanges.Where(e => !keys.Contains(e.AccessKeyId ?? "")).Should().BeEmpty("the functions sign with their role session only");
    }

    [Fact]
    public void EveryCall_IsAllowedByTheCallersRole()
    {
        var violations = Evaluate()
            .Where(c => !c.Decision.IsAllowed)
            .Select(c => $"{c.Role} {c.Request} ({c.Call}): {c.Decision.Verdict}{(c.Decision.Denying is { } d ? " by " + d.Statement.Sid : "")}")
            .ToList();

        string.Join('\n', violations).Should().BeEmpty("every call a function makes must be allowed by its own role");
    }

    [Fact]
    public void EveryReadOfAMissingObject_IsAnswered404NotAccessDenied()
    {
        // S3 answers a GET of a missing key with 404 NoSuchKey only when the caller may also
        // s3:ListBucket the bucket, else 403 AccessDenied (S3 API reference, GetObject,
        // "Permissions"). Which s3:prefix, if any, that implicit check carries is not documented,
        // so the list permission must hold without one.
        var violations = new List<string>();
        foreach (var (role, request, call, _) in Evaluate().Where(c => c.Request.Action == "s3:GetObject" && c.Call.Status == 404))
        {
            var bucketArn = request.Resource[..request.Resource.IndexOf('/', StringComparison.Ordinal)];
            var list = IamEvaluator.Evaluate(role.Policies, new IamRequest("s3:ListBucket", bucketArn, new Dictionary<string, string> { ["aws:SecureTransport"] = "true" }));
            if (!list.IsAllowed)
            {
                violations.Add($"{role} reads {request.Resource}, which may not exist ({call}): S3 answers 403 AccessDenied, not 404, without s3:ListBucket on {bucketArn}");
            }
        }

        string.Join('\n', violations).Should().BeEmpty();
    }

    [Fact]
    public void EveryGrant_IsUsedByACallOrByAnAwsServiceForTheRole()
    {
        var used = new HashSet<(string Role, string Sid, string Action, string Resource)>();
        foreach (var (role, request, _, decision) in Evaluate().Where(c => c.Decision.IsAllowed))
        {
            foreach (var (_, statement) in decision.Allowing)
            {
                foreach (var action in statement.Actions.Where(a => IamEvaluator.WildcardMatch(a, request.Action, ignoreCase: true)))
                {
                    foreach (var resource in statement.Resources.Where(r => IamEvaluator.WildcardMatch(r, request.Resource, ignoreCase: false)))
                    {
                        used.Add((role.LogicalId, statement.Sid, action, resource));
                    }
                }
            }
        }

        var unused = new List<string>();
        var exemptionsSeen = new HashSet<(string, string, string)>();
        foreach (var role in FunctionRoles())
        {
            foreach (var statement in role.Policies.SelectMany(p => p.Statements).Where(s => s.Effect == IamEffect.Allow))
            {
                foreach (var action in statement.Actions)
                {
                    if (ServiceUses.ContainsKey((role.LogicalId, statement.Sid, action)))
                    {
                        exemptionsSeen.Add((role.LogicalId, statement.Sid, action));
                        continue;
                    }

                    unused.AddRange(statement.Resources
                        .Where(resource => !used.Contains((role.LogicalId, statement.Sid, action, resource)))
                        .Select(resource => $"{role} {statement.Sid}: {action} on {resource}"));
                }
            }
        }

        string.Join('\n', unused).Should().BeEmpty("a role grants nothing that no call and no AWS service on its behalf uses");
        ServiceUses.Keys.Where(k => !exemptionsSeen.Contains(k)).Should().BeEmpty("every documented service use names a grant that exists");
    }

    [Fact]
    public void MotoIamChecks_AgreeWithTheEvaluator_OnEveryS3ObjectCall()
    {
        run.MotoVerdicts.Should().NotBeEmpty();
        run.Roles.SelectMany(r => r.Policies).SelectMany(p => p.Statements).SelectMany(s => s.Resources)
            .Should().NotContain(r => r.Contains('='), "the moto comparison probes keys with '=' written as '-'");
        var disagreements = run.MotoVerdicts
            .Select(v => (v.Role, v.Request, v.MotoDenied, Ours: IamEvaluator.Evaluate(v.Role.Policies, v.Request).IsAllowed))
            .Where(v => v.MotoDenied == v.Ours)
            .Select(v => $"{v.Role} {v.Request}: moto {(v.MotoDenied ? "denies" : "allows")}, the evaluator {(v.Ours ? "allows" : "denies")}")
            .ToList();

        string.Join('\n', disagreements).Should().BeEmpty("moto evaluates S3 object ARNs, so both must reach the same verdict");
        string.Join('\n', run.MotoVerdicts.Where(v => v.MotoDenied).Select(v => $"{v.Role} {v.Request}")).Should()
            .BeEmpty("under moto's own IAM checks every object call of a function is allowed");
    }

    private IEnumerable<RoleSession> FunctionRoles() =>
        run.Facts["functions"]!.AsArray().Select(f => run.RoleOf((string)f!["logicalId"]!));

    private List<(RoleSession Role, IamRequest Request, Testing.Faults.RecordedExchange Call, IamDecision Decision)> Evaluate()
    {
        var mapper = new AwsCallAuthorization(run.Account);
        var results = new List<(RoleSession, IamRequest, Testing.Faults.RecordedExchange, IamDecision)>();
        foreach (var call in run.Exchanges)
        {
            var role = run.Roles.SingleOrDefault(r => r.AccessKeyId == call.AccessKeyId);
            if (role is null)
            {
                continue;
            }

            foreach (var request in mapper.For(call))
            {
                results.Add((role, request, call, IamEvaluator.Evaluate(role.Policies, request)));
            }
        }

        return results;
    }
}
