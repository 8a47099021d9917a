using System.Text.Json;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.XRay;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>
/// GetSamplingRules/GetSamplingTargets are 404 in moto, so they run against an in-test stub on
/// loopback, reached through AWS_ENDPOINT_URL_XRAY while every other service would go elsewhere.
/// </summary>
public sealed class XRaySamplingStubTests
{
    private const string RulesBody = """
        {"SamplingRuleRecords":[{"CreatedAt":1.60253E9,"ModifiedAt":1602537377.5,
          "SamplingRule":{"RuleName":"Default","RuleARN":"arn:aws:xray:us-east-1:123456789012:sampling-rule/Default",
          "ResourceARN":"*","Priority":10000,"FixedRate":0.05,"ReservoirSize":1,"ServiceName":"*","ServiceType":"*",
          "Host":"*","HTTPMethod":"*","URLPath":"*","Version":1,"Attributes":{}}},
          {"SamplingRule":{"RuleName":"api","ResourceARN":"*","Priority":1,"FixedRate":1.0,"ReservoirSize":50,
          "ServiceName":"service-a","ServiceType":"AWS::EC2::Instance","Host":"*","HTTPMethod":"GET","URLPath":"/api/*","Version":1}}],
         "NextToken":"page-2"}
        """;

    private const string TargetsBody = """
        {"SamplingTargetDocuments":[{"RuleName":"api","FixedRate":0.1,"ReservoirQuota":7,"ReservoirQuotaTTL":1602537400,"Interval":10}],
         "LastRuleModification":1602537377,
         "UnprocessedStatistics":[{"RuleName":"gone","ErrorCode":"400","Message":"Unknown rule"}]}
        """;

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false });
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetSamplingRules_StubAnswer_ParsesRulesAndSendsASignedXRayRequest()
    {
        await using var stub = LoopbackHttpStub.Start(_ => new StubResponse(200, RulesBody));
        using var aws = ClientsFor(stub);

        var page = await aws.XRay.GetSamplingRulesAsync(cancellationToken: _ct);

        page.NextToken.Should().Be("page-2");
        page.SamplingRuleRecords.Should().HaveCount(2);
        var first = page.SamplingRuleRecords[0];
        first.SamplingRule.RuleName.Should().Be("Default");
        first.SamplingRule.FixedRate.Should().Be(0.05);
        first.ModifiedAt.Should().Be(DateTimeOffset.FromUnixTimeMilliseconds(1602537377500));
        var api = page.SamplingRuleRecords[1].SamplingRule;
        (api.ServiceName, api.ServiceType, api.HTTPMethod, api.URLPath, api.ReservoirSize).Should().Be(("service-a", "AWS::EC2::Instance", "GET", "/api/*", 50));
        page.SamplingRuleRecords[1].CreatedAt.Should().BeNull();

        var request = stub.Requests.Single();
        (request.Method, request.Path).Should().Be(("POST", "/GetSamplingRules"));
        request.Header("Content-Type").Should().Be("application/json");
        request.Header("Authorization").Should().StartWith("AWS4-HMAC-SHA256 Credential=testing/").And.Contain("/us-east-1/xray/aws4_request");
        request.BodyText.Should().Be("{}");
    }

    [Fact]
    public async Task GetSamplingRules_WithNextToken_SendsIt()
    {
        await using var stub = LoopbackHttpStub.Start(_ => new StubResponse(200, """{"SamplingRuleRecords":[]}"""));
        using var aws = ClientsFor(stub);

        var page = await aws.XRay.GetSamplingRulesAsync("page-2", _ct);

        page.SamplingRuleRecords.Should().BeEmpty();
        page.NextToken.Should().BeNull();
        JsonDocument.Parse(stub.Requests.Single().BodyText).RootElement.GetProperty("NextToken").GetString().Should().Be("page-2");
    }

    [Fact]
    public async Task GetSamplingTargets_Statistics_AreSentAsEpochSecondsAndTargetsParsed()
    {
        await using var stub = LoopbackHttpStub.Start(_ => new StubResponse(200, TargetsBody));
        using var aws = ClientsFor(stub);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1602537390250);

        var result = await aws.XRay.GetSamplingTargetsAsync([new SamplingStatistics("api", "0123456789abcdef01234567", at, 40, 12, 2)], _ct);

        var target = result.SamplingTargetDocuments.Single();
        (target.RuleName, target.FixedRate, target.ReservoirQuota, target.Interval).Should().Be(("api", 0.1, 7, 10));
        target.ReservoirQuotaTTL.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1602537400));
        result.LastRuleModification.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1602537377));
        result.UnprocessedStatistics.Single().RuleName.Should().Be("gone");

        var request = stub.Requests.Single();
        request.Path.Should().Be("/SamplingTargets");
        var sent = JsonDocument.Parse(request.BodyText).RootElement.GetProperty("SamplingStatisticsDocuments")[0];
        sent.GetProperty("RuleName").GetString().Should().Be("api");
        sent.GetProperty("ClientID").GetString().Should().Be("0123456789abcdef01234567");
        sent.GetProperty("Timestamp").GetDecimal().Should().Be(1602537390.25m);
        (sent.GetProperty("RequestCount").GetInt32(), sent.GetProperty("SampledCount").GetInt32(), sent.GetProperty("BorrowCount").GetInt32()).Should().Be((40, 12, 2));
    }

    [Fact]
    public async Task GetSamplingRules_ThrottledOnce_IsRetriedAndSucceeds()
    {
        var calls = 0;
        await using var stub = LoopbackHttpStub.Start(_ => Interlocked.Increment(ref calls) == 1
            ? new StubResponse(429, """{"message":"Rate exceeded"}""") { Headers = new Dictionary<string, string> { ["x-amzn-ErrorType"] = "ThrottledException" } }
            : new StubResponse(200, """{"SamplingRuleRecords":[]}"""));
        using var aws = ClientsFor(stub);

        var page = await aws.XRay.GetSamplingRulesAsync(cancellationToken: _ct);

        page.SamplingRuleRecords.Should().BeEmpty();
        stub.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task GetSamplingTargets_InvalidRequest_ThrowsValidationAfterOneCall()
    {
        await using var stub = LoopbackHttpStub.Start(_ => new StubResponse(400, """{"message":"bad statistics"}""")
        {
            Headers = new Dictionary<string, string> { ["x-amzn-ErrorType"] = "InvalidRequestException:http://internal.amazon.com/coral/com.amazon.xray/", ["x-amzn-RequestId"] = "req-42" },
        });
        using var aws = ClientsFor(stub);

        var act = () => aws.XRay.GetSamplingTargetsAsync([], _ct);

        var error = await act.Should().ThrowAsync<AwsValidationException>();
        (error.Which.ErrorCode, error.Which.RequestId, error.Which.ServiceMessage).Should().Be(("InvalidRequestException", "req-42", "bad statistics"));
        stub.Requests.Should().ContainSingle();
    }

    private static AwsClients ClientsFor(LoopbackHttpStub stub)
    {
        var settings = AwsSettings.FromEnvironment(new DictionaryEnvironment(new Dictionary<string, string>
        {
            [AwsSettings.ServiceEndpointUrlVariablePrefix + "XRAY"] = stub.Endpoint.ToString(),
            [AwsSettings.EndpointUrlVariable] = "http://127.0.0.1:9/",
            [AwsSettings.AccessKeyIdVariable] = "testing",
            [AwsSettings.SecretAccessKeyVariable] = "testing",
        })) with
        {
            Retry = new RetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) },
        };
        settings.ResolveEndpoint(AwsService.Kinesis).Port.Should().Be(9);
        return AwsClients.Create(settings, Http);
    }
}
