using Pipeline.Aws.Configuration;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.Testing.Aws;
using Relay.Aws;
using Relay.Config;
using Relay.Logging;

namespace Relay.Tests.Aws;

public sealed class RelayIdentityTests : IAsyncLifetime
{
#pragma warning disable RS0030 // Test composition root.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false });
#pragma warning restore RS0030
    private readonly ImdsStub _imds = ImdsStub.Start();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _imds.DisposeAsync();

    private static RelayOptions Options(string region = "", bool localMode = false, string? roleArn = null) =>
        new() { Stream = "segments", Region = region, LocalMode = localMode, RoleArn = roleArn };

    private DictionaryEnvironment Environment(params (string Name, string Value)[] extra)
    {
        var environment = new DictionaryEnvironment { [InstanceMetadataClient.EndpointVariable] = _imds.Endpoint.ToString() };
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        return environment;
    }

    private static Task<RelayIdentity> ResolveAsync(RelayOptions options, IEnvironment environment) =>
        RelayIdentity.ResolveAsync(options, environment, AwsSettings.FromEnvironment(environment), Http, TimeProvider.System, JsonLog.Null, TimeSpan.FromMilliseconds(300));

    [Fact]
    public async Task NoRegionNoKeys_RegionAndCredentialsComeFromInstanceMetadata()
    {
        _imds.Region = "sa-east-1";

        using var identity = await ResolveAsync(Options(), Environment());

        identity.Region.Should().Be("sa-east-1");
        identity.RegionSource.Should().Be("imds");
        identity.CredentialSource.Should().Be("imds");
        var key = await identity.Credentials!.GetCredentialsAsync();
        key.AccessKey.Should().Be(ImdsStub.AccessKeyIdFor(1));
        key.Token.Should().Be("stub-session-token-1");
        identity.Metrics.Source(CredentialMetrics.ImdsSource).Renewals.Should().Be(1);
        _imds.UntokenedRequests.Should().Be(0, "IMDSv1 is never tried");
    }

    [Fact]
    public async Task RegionGiven_OnlyCredentialsAreAskedFor()
    {
        using var identity = await ResolveAsync(Options(region: "us-west-2"), Environment());

        identity.Region.Should().Be("us-west-2");
        identity.RegionSource.Should().Be("options");
        _imds.Requests.Should().NotContain(r => r.Contains("identity", StringComparison.Ordinal) || r.Contains("placement", StringComparison.Ordinal));
        _imds.CredentialRequests.Should().Be(1);
    }

    [Fact]
    public async Task LocalMode_NeverAsksInstanceMetadata()
    {
        using var identity = await ResolveAsync(Options(region: "us-east-1", localMode: true), Environment());

        identity.CredentialSource.Should().Be("sdk_chain");
        identity.Credentials.Should().BeNull();
        _imds.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task LocalModeWithoutRegion_IsAClearError()
    {
        var act = () => ResolveAsync(Options(localMode: true), Environment());

        await act.Should().ThrowAsync<AwsIdentityException>().WithMessage("no region*local mode*");
        _imds.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task MetadataDisabledVariable_IsHonoured()
    {
        var act = () => ResolveAsync(Options(), Environment((InstanceMetadataClient.DisabledVariable, "true")));

        await act.Should().ThrowAsync<AwsIdentityException>().WithMessage("no region*AWS_EC2_METADATA_DISABLED*");
        _imds.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task EnvironmentKeys_WinOverTheInstanceRole()
    {
        using var identity = await ResolveAsync(
            Options(region: "us-east-1"),
            Environment(("AWS_ACCESS_KEY_ID", "AKIAENV"), ("AWS_SECRET_ACCESS_KEY", "secret")));

        identity.CredentialSource.Should().Be("environment");
        identity.Credentials.Should().BeNull("the settings' key pair signs");
        _imds.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")]
    [InlineData("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x")]
    [InlineData("AWS_PROFILE", "relay")]
    public async Task ConfiguredSdkChainSource_WinsOverTheInstanceRole(string variable, string value)
    {
        using var identity = await ResolveAsync(Options(region: "us-east-1"), Environment((variable, value)));

        identity.CredentialSource.Should().Be("sdk_chain");
        _imds.CredentialRequests.Should().Be(0);
    }

    [Fact]
    public async Task HangingMetadataAtStart_FailsWithTheReason()
    {
        _imds.Fault = ImdsFault.Hang;

        var act = () => ResolveAsync(Options(), Environment());

        await act.Should().ThrowAsync<AwsIdentityException>().WithMessage("*did not answer PUT /latest/api/token*");
    }

    [Fact]
    public async Task AssumeRoleRefused_NamesTheRoleAndStsError()
    {
        await using var sts = LoopbackHttpStub.Start(_ => new StubResponse(
            403,
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
            "text/xml"));
        var environment = Environment(("AWS_ENDPOINT_URL_STS", sts.Endpoint.ToString()));

        var act = () => ResolveAsync(Options(region: "us-east-1", roleArn: "arn:aws:iam::210987654321:role/stream-writer"), environment);

        (await act.Should().ThrowAsync<AwsIdentityException>())
            .WithMessage("STS AssumeRole of arn:aws:iam::210987654321:role/stream-writer (signed with imds credentials) failed: sts AccessDenied (403)*not authorized*");
        var call = sts.Requests.Should().ContainSingle().Subject;
        call.BodyText.Should().Contain("Action=AssumeRole").And.Contain("RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fstream-writer").And.Contain("DurationSeconds=3600");
        call.Header("Authorization").Should().Contain("Credential=" + ImdsStub.AccessKeyIdFor(1) + "/").And.Contain("/us-east-1/sts/aws4_request");
        call.Header("X-Amz-Security-Token").Should().Be("stub-session-token-1");
    }

    [Theory]
    [InlineData("ip-10-0-0-1.ec2.internal", "xray-relay-ip-10-0-0-1.ec2.internal")]
    [InlineData("node/with spaces", "xray-relay-node-with-spaces")]
    [InlineData("", "xray-relay-node")]
    public void SessionName_IsValidForSts(string host, string expected)
    {
        RelayIdentity.SessionName(host).Should().Be(expected);
    }

    [Fact]
    public void SessionName_IsAtMost64Characters()
    {
        RelayIdentity.SessionName(new string('a', 200)).Should().HaveLength(64);
    }
}
