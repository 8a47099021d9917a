using System.Text;
using Pipeline.Testing.Faults;
using Pipeline.Testing.Iam;

namespace Pipeline.IntegrationTests.Iam;

/// <summary>Wire requests as the pipeline's clients send them, mapped to what IAM authorizes.</summary>
public sealed class AwsCallAuthorizationTests
{
    private const string Account = "123456789012";

    [Theory]
    [InlineData("GET", "/archive/segments/dt%3D2026-12-01/hour%3D10/shard-1.ndjson.gz", "", "s3:GetObject", "arn:aws:s3:::archive/segments/dt=2026-12-01/hour=10/shard-1.ndjson.gz")]
    [InlineData("HEAD", "/archive/graphs/a.json", "", "s3:GetObject", "arn:aws:s3:::archive/graphs/a.json")]
    [InlineData("PUT", "/archive/reports/dt=2026-12-01/report.html", "", "s3:PutObject", "arn:aws:s3:::archive/reports/dt=2026-12-01/report.html")]
    [InlineData("DELETE", "/archive/xray-retry/a.ndjson", "", "s3:DeleteObject", "arn:aws:s3:::archive/xray-retry/a.ndjson")]
    [InlineData("POST", "/archive/big.gz", "?uploads", "s3:PutObject", "arn:aws:s3:::archive/big.gz")]
    [InlineData("DELETE", "/archive/big.gz", "?uploadId=u1", "s3:AbortMultipartUpload", "arn:aws:s3:::archive/big.gz")]
    [InlineData("GET", "/archive", "?location", "s3:GetBucketLocation", "arn:aws:s3:::archive")]
    [InlineData("HEAD", "/archive", "", "s3:ListBucket", "arn:aws:s3:::archive")]
    public void S3_PathStyleRequests_MapToTheirActionAndArn(string method, string path, string query, string action, string resource)
    {
        var request = new AwsCallAuthorization(Account).For(Call("s3", method, path, query)).Should().ContainSingle().Subject;

        request.Action.Should().Be(action);
        request.Resource.Should().Be(resource);
        request.Context["aws:SecureTransport"].Should().Be("true");
    }

    [Fact]
    public void S3_ListObjectsV2_CarriesTheDecodedPrefixAndDelimiterAsConditionKeys()
    {
        var request = new AwsCallAuthorization(Account)
            .For(Call("s3", "GET", "/archive", "?list-type=2&prefix=usage%2Fdt%3D2026-12-01%2F&delimiter=%2F&max-keys=1000"))
            .Should().ContainSingle().Subject;

        request.Action.Should().Be("s3:ListBucket");
        request.Resource.Should().Be("arn:aws:s3:::archive");
        request.Context["s3:prefix"].Should().Be("usage/dt=2026-12-01/");
        request.Context["s3:delimiter"].Should().Be("/");
        request.Context["s3:max-keys"].Should().Be("1000");
    }

    [Fact]
    public void S3_DeleteObjects_AuthorizesDeleteObjectOnEveryKey()
    {
        var body = "<Delete><Object><Key>xray-retry/a</Key></Object><Object><Key>xray-retry/b</Key></Object></Delete>";

        var requests = new AwsCallAuthorization(Account).For(Call("s3", "POST", "/archive", "?delete", body: body));

        requests.Select(r => (r.Action, r.Resource)).Should().Equal(
            ("s3:DeleteObject", "arn:aws:s3:::archive/xray-retry/a"), ("s3:DeleteObject", "arn:aws:s3:::archive/xray-retry/b"));
    }

    [Theory]
    [InlineData("GET", "/archive/a", "?acl")]
    [InlineData("PUT", "/archive", "")]
    [InlineData("GET", "/", "")]
    [InlineData("GET", "/archive", "?policy")]
    public void S3_CallsThePipelineDoesNotMake_AreNotMappedSilently(string method, string path, string query)
    {
        var map = () => new AwsCallAuthorization(Account).For(Call("s3", method, path, query));

        map.Should().Throw<UnmappedCallException>();
    }

    [Fact]
    public void Kinesis_ResourceIsTheStreamFromItsNameOrArn()
    {
        var mapper = new AwsCallAuthorization(Account);

        var byName = mapper.For(Call("kinesis", "POST", "/", target: "Kinesis_20131202.PutRecords", body: """{"StreamName":"trace-stream","Records":[]}""")).Single();
        var byArn = mapper.For(Call("kinesis", "POST", "/", target: "Kinesis_20131202.DescribeStreamSummary", body: """{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s2"}""")).Single();

        (byName.Action, byName.Resource).Should().Be(("kinesis:PutRecords", "arn:aws:kinesis:us-east-1:123456789012:stream/trace-stream"));
        (byArn.Action, byArn.Resource).Should().Be(("kinesis:DescribeStreamSummary", "arn:aws:kinesis:us-east-1:123456789012:stream/s2"));
    }

    [Fact]
    public void DynamoDb_BatchCallsAuthorizeEveryTableTheyName()
    {
        var requests = new AwsCallAuthorization(Account).For(Call(
            "dynamodb", "POST", "/", target: "DynamoDB_20120810.BatchGetItem", body: """{"RequestItems":{"decisions":{"Keys":[]},"other":{"Keys":[]}}}"""));

        requests.Select(r => (r.Action, r.Resource)).Should().Equal(
            ("dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/decisions"),
            ("dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/other"));
    }

    [Fact]
    public void Ses_RawSendEmail_IsAuthorizedOnTheFromHeadersIdentity()
    {
        var mime = Convert.ToBase64String(Encoding.UTF8.GetBytes("From: Pipeline <pipeline@example.com>\r\nTo: ops@example.com\r\nSubject: x\r\n\r\nFrom: not-a-header@example.com\r\n"));

        var request = new AwsCallAuthorization(Account)
            .For(Call("ses", "POST", "/v2/email/outbound-emails", body: "{\"Content\":{\"Raw\":{\"Data\":\"" + mime + "\"}}}")).Single();

        (request.Action, request.Resource).Should().Be(("ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/pipeline@example.com"));
    }

    [Fact]
    public void Athena_FollowUpCallsAreAuthorizedOnTheWorkGroupTheQueryStartedIn()
    {
        var mapper = new AwsCallAuthorization(Account);

        var start = mapper.For(Call("athena", "POST", "/", target: "AmazonAthena.StartQueryExecution", body: """{"QueryString":"select 1","WorkGroup":"stack-archive"}""", response: """{"QueryExecutionId":"q-1"}""")).Single();
        var poll = mapper.For(Call("athena", "POST", "/", target: "AmazonAthena.GetQueryExecution", body: """{"QueryExecutionId":"q-1"}""")).Single();
        var primary = mapper.For(Call("athena", "POST", "/", target: "AmazonAthena.StartQueryExecution", body: """{"QueryString":"select 1"}""", response: """{"QueryExecutionId":"q-2"}""")).Single();
        var unknown = () => mapper.For(Call("athena", "POST", "/", target: "AmazonAthena.GetQueryResults", body: """{"QueryExecutionId":"q-9"}"""));

        start.Resource.Should().Be("arn:aws:athena:us-east-1:123456789012:workgroup/stack-archive");
        (poll.Action, poll.Resource).Should().Be(("athena:GetQueryExecution", start.Resource));
        primary.Resource.Should().EndWith(":workgroup/primary");
        unknown.Should().Throw<UnmappedCallException>();
    }

    [Fact]
    public void XRay_HasNoResourceLevelPermissions()
    {
        var request = new AwsCallAuthorization(Account).For(Call("xray", "POST", "/TraceSegments", operation: "PutTraceSegments")).Single();

        (request.Action, request.Resource).Should().Be(("xray:PutTraceSegments", "*"));
    }

    [Fact]
    public void UnsignedOrUnknownServiceCalls_Throw()
    {
        var mapper = new AwsCallAuthorization(Account);

        mapper.Invoking(m => m.For(Call("sqs", "POST", "/"))).Should().Throw<UnmappedCallException>();
        mapper.Invoking(m => m.For(Call("s3", "GET", "/archive/a") with { Region = null })).Should().Throw<UnmappedCallException>();
    }

    private static RecordedExchange Call(
        string service, string method, string path, string query = "", string? target = null, string body = "", string? operation = null, string response = "") =>
        new(
            new FaultRequest(1, method, path, service, operation ?? method),
            query,
            "ASIAEXAMPLE",
            "us-east-1",
            target,
            null,
            new Dictionary<string, string>(),
            Encoding.UTF8.GetBytes(body),
            false,
            200,
            Encoding.UTF8.GetBytes(response));
}
