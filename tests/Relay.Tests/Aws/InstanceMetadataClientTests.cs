using System.Text;
using Pipeline.Testing.Aws;
using Relay.Aws;

namespace Relay.Tests.Aws;

public sealed class InstanceMetadataClientTests : IAsyncLifetime
{
    // One pooled client as the relay's composition root has; never via a proxy.
#pragma warning disable RS0030 // Test composition root.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false });
#pragma warning restore RS0030
    private readonly ImdsStub _imds = ImdsStub.Start();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _imds.DisposeAsync();

    private InstanceMetadataClient Client(int attempts = 2) =>
        new(Http, _imds.Endpoint, TimeProvider.System, TimeSpan.FromMilliseconds(300), attempts);

    [Fact]
    public async Task GetRegion_FromTheIdentityDocument_WithAnImdsV2Token()
    {
        _imds.Region = "eu-north-1";
        using var client = Client();

        var region = await client.GetRegionAsync(TestContext.Current.CancellationToken);

        region.Should().Be("eu-north-1");
        _imds.Requests.Should().Equal("PUT /latest/api/token", "GET /latest/dynamic/instance-identity/document");
        _imds.UntokenedRequests.Should().Be(0);
    }

    [Fact]
    public async Task GetRegion_WithoutIdentityDocument_FallsBackToPlacementRegion()
    {
        _imds.Region = "ap-southeast-2";
        _imds.IdentityDocumentMissing = true;
        using var client = Client();

        (await client.GetRegionAsync(TestContext.Current.CancellationToken)).Should().Be("ap-southeast-2");
        _imds.Requests.Should().EndWith("GET /latest/meta-data/placement/region");
    }

    [Fact]
    public async Task Calls_ReuseOneToken()
    {
        using var client = Client();

        await client.GetRegionAsync(TestContext.Current.CancellationToken);
        await client.GetRoleCredentialsAsync(TestContext.Current.CancellationToken);

        client.TokensFetched.Should().Be(1);
        _imds.TokenRequests.Should().Be(1);
    }

    [Fact]
    public async Task ExpiredToken_401_FetchesANewTokenAndAsksAgain()
    {
        using var client = Client();
        await client.GetRegionAsync(TestContext.Current.CancellationToken);
        _imds.ExpireTokens();

        var credentials = await client.GetRoleCredentialsAsync(TestContext.Current.CancellationToken);

        credentials.AccessKeyId.Should().Be(ImdsStub.AccessKeyIdFor(1));
        client.TokensFetched.Should().Be(2);
        _imds.UntokenedRequests.Should().Be(1, "the one GET with the expired token");
    }

    [Fact]
    public async Task TokenRefusedEvenWhenNew_IsAClearError()
    {
        _imds.Fault = ImdsFault.AlwaysUnauthorized;
        using var client = Client();

        var act = () => client.GetRegionAsync(TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<AwsIdentityException>().WithMessage("*401 even with a new IMDSv2 token*");
        client.TokensFetched.Should().Be(2, "one renewal, not a loop");
    }

    [Fact]
    public async Task HangingMetadata_FailsAfterTheBoundedAttempts_NamingTheHopLimit()
    {
        _imds.Fault = ImdsFault.Hang;
        using var client = Client(attempts: 2);

        var act = () => client.GetRegionAsync(TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<AwsIdentityException>())
            .WithMessage("*did not answer PUT /latest/api/token after 2 attempts*HttpPutResponseHopLimit*");
        _imds.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task ServerError_IsRetriedThenReportedWithItsStatus()
    {
        _imds.Fault = ImdsFault.ServerError;
        using var client = Client(attempts: 3);

        var act = () => client.GetRegionAsync(TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<AwsIdentityException>().WithMessage("*refused an IMDSv2 token*answered 500*");
        _imds.Requests.Should().HaveCount(3);
    }

    [Fact]
    public async Task TokenForbidden_SaysMetadataIsOffAndPointsAtLocalMode()
    {
        _imds.Fault = ImdsFault.TokenForbidden;
        using var client = Client();

        var act = () => client.GetRegionAsync(TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<AwsIdentityException>().WithMessage("*403*--local-mode*");
    }

    [Fact]
    public async Task GetRoleCredentials_ReadsTheInstanceRole()
    {
        _imds.Role = "node-role";
        using var client = Client();

        var credentials = await client.GetRoleCredentialsAsync(TestContext.Current.CancellationToken);

        credentials.AccessKeyId.Should().Be(ImdsStub.AccessKeyIdFor(1));
        credentials.SecretAccessKey.Should().Be("stub-secret-1");
        credentials.SessionToken.Should().Be("stub-session-token-1");
        credentials.Expiration.Should().BeAfter(TimeProvider.System.GetUtcNow().AddHours(5));
        _imds.Requests.Should().Contain("GET /latest/meta-data/iam/security-credentials/node-role");
    }

    [Fact]
    public async Task GetRoleCredentials_NoRoleAttached_SaysSo()
    {
        _imds.Role = null;
        using var client = Client();

        var act = () => client.GetRoleCredentialsAsync(TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<AwsIdentityException>().WithMessage("*lists no IAM role*instance profile*");
    }

    [Fact]
    public async Task GetRoleCredentials_CodeOtherThanSuccess_IsRefused()
    {
        _imds.CredentialCode = "AssumeRoleUnauthorizedAccess";
        using var client = Client();

        var act = () => client.GetRoleCredentialsAsync(TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<AwsIdentityException>().WithMessage("*AssumeRoleUnauthorizedAccess*instead of Success*");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"2030-01-01T00:00:00Z\"}")]
    [InlineData("{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"soon\"}")]
    public void ParseRoleCredentials_Malformed_IsAnIdentityError(string body)
    {
        var act = () => InstanceMetadataClient.ParseRoleCredentials(Encoding.UTF8.GetBytes(body), "latest/meta-data/iam/security-credentials/r");

        act.Should().Throw<AwsIdentityException>().WithMessage("*security-credentials/r*");
    }

    [Theory]
    [InlineData("ftp://169.254.169.254/")]
    [InlineData("not a url")]
    public void ResolveEndpoint_NotHttp_NamesTheVariable(string value)
    {
        var act = () => InstanceMetadataClient.ResolveEndpoint(value);

        act.Should().Throw<AwsIdentityException>().WithMessage("AWS_EC2_METADATA_SERVICE_ENDPOINT*");
    }

    [Fact]
    public void ResolveEndpoint_Unset_IsTheLinkLocalAddress()
    {
        InstanceMetadataClient.ResolveEndpoint(null).Should().Be(new Uri("http://169.254.169.254/"));
        InstanceMetadataClient.ResolveEndpoint("http://127.0.0.1:1338").Should().Be(new Uri("http://127.0.0.1:1338/"));
    }
}
