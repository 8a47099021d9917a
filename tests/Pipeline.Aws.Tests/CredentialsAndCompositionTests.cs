using System.Net;
using Amazon.Runtime;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Tests.Support;

namespace Pipeline.Aws.Tests;

public sealed class CredentialsAndCompositionTests
{
    [Fact]
    public async Task CredentialsFor_KeyPair_IsUsedAsGiven()
    {
        var credentials = await AwsHttpClient.CredentialsFor(TestAws.Settings()).GetCredentialsAsync();

        (credentials.AccessKey, credentials.SecretKey, credentials.UseToken).Should().Be((TestAws.AccessKey, TestAws.SecretKey, false));
    }

    [Fact]
    public async Task CredentialsFor_KeyPairAndToken_AreSessionCredentials()
    {
        var credentials = await AwsHttpClient.CredentialsFor(TestAws.Settings() with { SessionToken = "tok" }).GetCredentialsAsync();

        credentials.UseToken.Should().BeTrue();
        credentials.Token.Should().Be("tok");
    }

    [Fact]
    public void CredentialsFor_NoKeyPair_DefersToTheDefaultChainWithoutResolvingYet()
    {
        var credentials = AwsHttpClient.CredentialsFor(new AwsSettings());

        credentials.Should().NotBeOfType<BasicAWSCredentials>().And.NotBeOfType<SessionAWSCredentials>();
    }

    [Fact]
    public void Create_NoKeyPairAndNoHttpClient_BuildsWithoutTouchingTheNetwork()
    {
        using var aws = AwsClients.Create(new AwsSettings());

        aws.Kinesis.Should().NotBeNull();
        aws.XRay.Should().NotBeNull();
        aws.Ses.Should().NotBeNull();
        aws.Settings.Region.Should().Be(AwsSettings.FallbackRegion);
    }

    [Fact]
    public async Task Create_OneHttpClient_IsSharedByEveryClient()
    {
        var handler = new FakeAwsHandler((_, r) => FakeAwsHandler.Response(HttpStatusCode.OK, r.Uri.AbsolutePath switch
        {
            "/TraceSegments" => """{"UnprocessedTraceSegments":[]}""",
            "/v2/email/identities" => "{}",
            _ => """{"Shards":[]}""",
        }));
        using var aws = TestAws.Clients(handler, new RecordingTimeProvider(TestAws.SigningTime));
        var ct = TestContext.Current.CancellationToken;

        await aws.Kinesis.ListShardsAsync("s", ct);
        await aws.XRay.PutTraceSegmentsAsync(["{}"], ct);
        await aws.Ses.CreateEmailIdentityAsync("a@example.com", ct);

        handler.Requests.Select(r => r.Uri.Host).Should().Equal("kinesis.us-east-1.amazonaws.com", "xray.us-east-1.amazonaws.com", "email.us-east-1.amazonaws.com");
    }

    [Fact]
    public void Settings_ToString_RedactsTheSecretAndToken()
    {
        var text = (TestAws.Settings() with { SessionToken = "session-secret" }).ToString();

        text.Should().Contain(TestAws.AccessKey).And.Contain("us-east-1");
        text.Should().NotContain(TestAws.SecretKey).And.NotContain("session-secret");
    }
}
