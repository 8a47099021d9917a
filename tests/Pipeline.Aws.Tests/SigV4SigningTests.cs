using System.Net;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Tests.Support;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws.Tests;

/// <summary>
/// The signature on the wire must equal one computed here from the SigV4 spec steps (canonical
/// request → string to sign → derived key → HMAC), independently of the SDK's signer.
/// </summary>
public sealed class SigV4SigningTests
{
    [Fact]
    public void ReferenceSigner_AwsTestSuiteGetVanilla_MatchesThePublishedSignature()
    {
        // aws-sig-v4-test-suite "get-vanilla": proves the reference implementation below.
        var canonical = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + Hex(SHA256.HashData([]));

        var signature = ReferenceSignature(canonical, "20150830T123600Z", "us-east-1", "service", TestAws.SecretKey);

        signature.Should().Be("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    }

    [Fact]
    public async Task KinesisCall_FixedCredentialsAndTime_CarriesTheSpecSignature()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"Shards":[]}""");
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        using var aws = TestAws.Clients(handler, time);

        await aws.Kinesis.ListShardsAsync("traces", TestContext.Current.CancellationToken);

        var request = handler.Requests.Single();
        var body = request.Body;
        Encoding.UTF8.GetString(body).Should().Be("""{"StreamName":"traces"}""");
        var bodyHash = Hex(SHA256.HashData(body));
        request.Header("X-Amz-Date").Should().Be("20150830T123600Z");
        request.Header("X-Amz-Content-SHA256").Should().Be(bodyHash);
        request.Header("Host").Should().Be("kinesis.us-east-1.amazonaws.com");
        var canonical = string.Join('\n',
            "POST",
            "/",
            string.Empty,
            "content-type:application/x-amz-json-1.1",
            "host:kinesis.us-east-1.amazonaws.com",
            "x-amz-content-sha256:" + bodyHash,
            "x-amz-date:20150830T123600Z",
            "x-amz-target:Kinesis_20131202.ListShards",
            string.Empty,
            "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target",
            bodyHash);
        var expected = ReferenceSignature(canonical, "20150830T123600Z", "us-east-1", "kinesis", TestAws.SecretKey);

        request.Header("Authorization").Should().Be(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=" + expected);
    }

    [Fact]
    public async Task SesCall_WithSessionTokenAndCustomPort_SignsTokenHostPortAndPath()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"IdentityType":"EMAIL_ADDRESS","VerifiedForSendingStatus":true}""");
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        var settings = TestAws.Settings() with { SessionToken = "token/with+chars=", Region = "eu-west-1", EndpointUrl = new Uri("http://127.0.0.1:4566") };
        using var aws = TestAws.Clients(handler, time, settings);

        await aws.Ses.CreateEmailIdentityAsync("ops@example.com", TestContext.Current.CancellationToken);

        var request = handler.Requests.Single();
        request.Uri.Should().Be(new Uri("http://127.0.0.1:4566/v2/email/identities"));
        request.Header("X-Amz-Security-Token").Should().Be("token/with+chars=");
        var bodyHash = Hex(SHA256.HashData(request.Body));
        var canonical = string.Join('\n',
            "POST",
            "/v2/email/identities",
            string.Empty,
            "content-type:application/json",
            "host:127.0.0.1:4566",
            "x-amz-content-sha256:" + bodyHash,
            "x-amz-date:20150830T123600Z",
            "x-amz-security-token:token/with+chars=",
            string.Empty,
            "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
            bodyHash);
        var expected = ReferenceSignature(canonical, "20150830T123600Z", "eu-west-1", "ses", TestAws.SecretKey);

        request.Header("Authorization").Should().EndWith("Signature=" + expected)
            .And.Contain("Credential=AKIDEXAMPLE/20150830/eu-west-1/ses/aws4_request");
    }

    [Fact]
    public async Task Retry_ReSignsEachAttemptAtTheCurrentTime()
    {
        var handler = FakeAwsHandler.Sequence(
            () => FakeAwsHandler.Response(HttpStatusCode.InternalServerError, "{}"),
            () => FakeAwsHandler.Response(HttpStatusCode.OK, """{"Shards":[]}"""));
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        using var aws = TestAws.Clients(handler, time, TestAws.Settings(new BackoffOptions { MaxAttempts = 2, BaseDelay = TimeSpan.FromSeconds(2), MaxDelay = TimeSpan.FromSeconds(2) }));

        await time.RunAsync(aws.Kinesis.ListShardsAsync("traces", TestContext.Current.CancellationToken));

        var retriedAt = TestAws.SigningTime + time.DueTimes.Single();
        handler.Requests.Select(r => r.Header("X-Amz-Date")).Should().Equal("20150830T123600Z", retriedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        handler.Requests[0].Header("Authorization").Should().NotBe(handler.Requests[1].Header("Authorization"));
    }

    private static string ReferenceSignature(string canonicalRequest, string amzDate, string region, string service, string secret)
    {
        var date = amzDate[..8];
        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), date);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        return Hex(Hmac(key, stringToSign));
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
