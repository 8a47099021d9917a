using Pipeline.Testing.Iam;

namespace Pipeline.IntegrationTests.Iam;

/// <summary>The test-side IAM evaluator against the rules of the IAM JSON policy reference it claims to follow.</summary>
public sealed class IamEvaluatorTests
{
    private const string Bucket = "arn:aws:s3:::archive";

    [Theory]
    [InlineData("s3:GetObject", "s3:GetObject", true)]
    [InlineData("s3:getobject", "s3:GetObject", true)]
    [InlineData("s3:Get*", "s3:GetObject", true)]
    [InlineData("s3:Get?bject", "s3:GetObject", true)]
    [InlineData("s3:*", "s3:PutObject", true)]
    [InlineData("*", "kinesis:PutRecords", true)]
    [InlineData("s3:Get*", "s3:PutObject", false)]
    [InlineData("s3:GetObject", "s3:GetObjectAcl", false)]
    [InlineData("kinesis:PutRecord", "kinesis:PutRecords", false)]
    public void Action_MatchesCaseInsensitivelyWithWildcards(string pattern, string action, bool expected)
    {
        var policy = Policy($$"""{"Statement":[{"Effect":"Allow","Action":"{{pattern}}","Resource":"*"}]}""");

        IamEvaluator.Evaluate([policy], new IamRequest(action, Bucket)).IsAllowed.Should().Be(expected);
    }

    [Theory]
    [InlineData("arn:aws:s3:::archive/segments/*", "arn:aws:s3:::archive/segments/dt=2026-12-01/hour=10/a.gz", true)]
    [InlineData("arn:aws:s3:::archive/segments/*", "arn:aws:s3:::archive/graphs/dt=2026-12-01/a.json", false)]
    [InlineData("arn:aws:s3:::archive/Segments/*", "arn:aws:s3:::archive/segments/a", false)]
    [InlineData("arn:aws:s3:::archive", "arn:aws:s3:::archive/segments/a", false)]
    [InlineData("arn:aws:s3:::archive/*", "arn:aws:s3:::archive", false)]
    [InlineData("arn:aws:s3:::arch?ve/*", "arn:aws:s3:::archive/x", true)]
    [InlineData("arn:aws:ses:us-east-1:123456789012:identity/*", "arn:aws:ses:us-east-1:123456789012:identity/a@example.com", true)]
    public void Resource_MatchesCaseSensitivelyWithWildcardsAcrossSlashes(string pattern, string resource, bool expected)
    {
        var policy = Policy($$"""{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":["{{pattern}}"]}]}""");

        IamEvaluator.Evaluate([policy], new IamRequest("s3:GetObject", resource)).IsAllowed.Should().Be(expected);
    }

    [Fact]
    public void Evaluate_NoStatementApplies_IsTheImplicitDeny()
    {
        var policy = Policy("""{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}""");

        IamEvaluator.Evaluate([policy], new IamRequest("s3:GetObject", Bucket + "/a")).Verdict.Should().Be(IamVerdict.ImplicitDeny);
    }

    [Fact]
    public void Evaluate_ADenyInAnyPolicy_WinsOverAnAllow()
    {
        var allow = Policy("""{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}""");
        var deny = Policy("""{"Statement":{"Sid":"NoDeletes","Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::archive/*"}}""");

        var decision = IamEvaluator.Evaluate([allow, deny], new IamRequest("s3:DeleteObject", Bucket + "/a"));

        decision.Verdict.Should().Be(IamVerdict.ExplicitDeny);
        decision.Denying!.Value.Statement.Sid.Should().Be("NoDeletes");
        IamEvaluator.Evaluate([allow, deny], new IamRequest("s3:GetObject", Bucket + "/a")).IsAllowed.Should().BeTrue();
    }

    [Fact]
    public void NotActionAndNotResource_ApplyToEverythingElse()
    {
        var policy = Policy("""{"Statement":[{"Effect":"Allow","NotAction":"s3:DeleteObject","NotResource":"arn:aws:s3:::archive/secret/*"}]}""");

        IamEvaluator.Evaluate([policy], new IamRequest("s3:GetObject", Bucket + "/a")).IsAllowed.Should().BeTrue();
        IamEvaluator.Evaluate([policy], new IamRequest("s3:DeleteObject", Bucket + "/a")).IsAllowed.Should().BeFalse();
        IamEvaluator.Evaluate([policy], new IamRequest("s3:GetObject", Bucket + "/secret/a")).IsAllowed.Should().BeFalse();
    }

    [Theory]
    [InlineData("segments/dt=2026-12-01/", true)]
    [InlineData("xray-retry/", true)]
    [InlineData("graphs/", false)]
    [InlineData(null, false)]
    public void StringLike_OnAListRequestsPrefix_AnyValueMatches_AMissingKeyDoesNot(string? prefix, bool expected)
    {
        var policy = Policy("""
            {"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::archive",
              "Condition":{"StringLike":{"s3:prefix":["segments/*","xray-retry/*"]}}}]}
            """);

        IamEvaluator.Evaluate([policy], List(prefix)).IsAllowed.Should().Be(expected);
    }

    [Fact]
    public void Conditions_EveryKeyAndEveryOperatorMustHold()
    {
        var policy = Policy("""
            {"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::archive",
              "Condition":{"StringLike":{"s3:prefix":"usage/*"},"StringEquals":{"s3:delimiter":"/"}}}]}
            """);

        IamEvaluator.Evaluate([policy], List("usage/", ("s3:delimiter", "/"))).IsAllowed.Should().BeTrue();
        IamEvaluator.Evaluate([policy], List("usage/")).IsAllowed.Should().BeFalse();
        IamEvaluator.Evaluate([policy], List("reports/", ("s3:delimiter", "/"))).IsAllowed.Should().BeFalse();
    }

    [Fact]
    public void NegatedOperators_HoldWhenTheKeyIsMissingOrNoValueMatches()
    {
        var policy = Policy("""
            {"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
              "Condition":{"StringNotLike":{"s3:prefix":["quarantine/*","config/*"]}}}]}
            """);

        IamEvaluator.Evaluate([policy], List(null)).IsAllowed.Should().BeTrue();
        IamEvaluator.Evaluate([policy], List("usage/")).IsAllowed.Should().BeTrue();
        IamEvaluator.Evaluate([policy], List("config/x")).IsAllowed.Should().BeFalse();
    }

    [Fact]
    public void IfExists_HoldsWhenTheKeyIsMissing_NullTestsPresence()
    {
        var ifExists = Policy("""{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLikeIfExists":{"s3:prefix":"usage/*"}}}]}""");
        var absent = Policy("""{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"Null":{"s3:prefix":"true"}}}]}""");

        IamEvaluator.Evaluate([ifExists], List(null)).IsAllowed.Should().BeTrue();
        IamEvaluator.Evaluate([ifExists], List("graphs/")).IsAllowed.Should().BeFalse();
        IamEvaluator.Evaluate([absent], List(null)).IsAllowed.Should().BeTrue();
        IamEvaluator.Evaluate([absent], List("usage/")).IsAllowed.Should().BeFalse();
    }

    [Fact]
    public void Bool_TheTlsOnlyBucketPolicyDeniesPlainHttpOnly()
    {
        var policy = Policy("""
            {"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
              {"Sid":"DenyInsecureTransport","Effect":"Deny","Action":"s3:*","Resource":["arn:aws:s3:::archive","arn:aws:s3:::archive/*"],
               "Condition":{"Bool":{"aws:SecureTransport":false}}}]}
            """);

        IamEvaluator.Evaluate([policy], Get(("aws:SecureTransport", "true"))).IsAllowed.Should().BeTrue();
        IamEvaluator.Evaluate([policy], Get(("aws:SecureTransport", "false"))).Verdict.Should().Be(IamVerdict.ExplicitDeny);
    }

    [Theory]
    [InlineData("""{"NumericLessThan":{"s3:max-keys":"10"}}""")]
    [InlineData("""{"ForAnyValue:StringLike":{"s3:prefix":"a*"}}""")]
    [InlineData("""{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}""")]
    public void UnknownConditionOperators_Throw_NeverPassSilently(string condition)
    {
        var policy = Policy($$"""{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{{condition}}}]}""");

        var evaluate = () => IamEvaluator.Evaluate([policy], List("a"));

        evaluate.Should().Throw<NotSupportedException>();
    }

    [Fact]
    public void PolicyVariables_Throw()
    {
        var policy = Policy("""{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::archive/${aws:username}/*"}]}""");

        var evaluate = () => IamEvaluator.Evaluate([policy], Get());

        evaluate.Should().Throw<NotSupportedException>();
    }

    [Theory]
    [InlineData("""{"Statement":[{"Effect":"Permit","Action":"s3:*","Resource":"*"}]}""")]
    [InlineData("""{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}""")]
    [InlineData("""{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}]}""")]
    [InlineData("""{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}""")]
    public void Parse_MalformedOrResourcePolicyStatements_Throw(string document)
    {
        var parse = () => IamPolicy.Parse("bad", document);

        parse.Should().Throw<Exception>().Where(e => e is FormatException || e is NotSupportedException);
    }

    private static IamPolicy Policy(string json) => IamPolicy.Parse("test", json);

    private static IamRequest List(string? prefix, params (string Key, string Value)[] more)
    {
        var context = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (prefix is not null)
        {
            context["s3:prefix"] = prefix;
        }

        foreach (var (key, value) in more)
        {
            context[key] = value;
        }

        return new IamRequest("s3:ListBucket", Bucket, context);
    }

    private static IamRequest Get(params (string Key, string Value)[] context) =>
        new("s3:GetObject", Bucket + "/segments/a", context.ToDictionary(c => c.Key, c => c.Value, StringComparer.OrdinalIgnoreCase));
}
