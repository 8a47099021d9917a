using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws;
using Pipeline.Aws.Http;
using Pipeline.Aws.Sts;
using Pipeline.IntegrationTests.Aws;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.Testing.Aws;
using Relay.Aws;
using Relay.Config;
using Relay.Logging;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>
/// Region and credentials as on an EC2 node with IMDSv2 enforced (a loopback <see cref="ImdsStub"/>),
/// and -r/--role-arn against moto's STS. moto keys the assumed role's credentials to the role's
/// account, so a stream created with them lives in that other account: the relay writing there
/// is the daemon's cross-account case.
/// </summary>
public sealed class RelayIdentityTests(MotoFixture moto) : IAsyncDisposable
{
    private const string OtherAccount = "210987654321";
    private readonly ImdsStub _imds = ImdsStub.Start();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync() => _imds.DisposeAsync();

    private static string RoleArn() => $"arn:aws:iam::{OtherAccount}:role/{MotoFixture.UniqueName("writer")}";

    /// <summary>What a node has: no region, no keys, IMDS (the stub) and AWS endpoints pointed at moto.</summary>
    private Dictionary<string, string> NodeEnvironment() => new()
    {
        ["AWS_ACCESS_KEY_ID"] = "",
        ["AWS_SECRET_ACCESS_KEY"] = "",
        ["AWS_REGION"] = "",
        ["AWS_DEFAULT_REGION"] = "",
        ["AWS_EC2_METADATA_DISABLED"] = "",
        [InstanceMetadataClient.EndpointVariable] = _imds.Endpoint.ToString(),
        ["AWS_ENDPOINT_URL"] = moto.Endpoint.ToString(),
    };

    /// <summary>Kinesis as the role's account sees it (signed with that role's moto credentials).</summary>
    private async Task<SignedAwsClients> OtherAccountAsync(string roleArn)
    {
        var sts = StsClientFactory.Create(MotoAws.Settings(moto), MotoAws.Http);
        var key = await sts.AssumeRoleAsync(roleArn, "integration-test", TimeSpan.FromHours(1), _ct);
        return SignedAwsClients.Create(MotoAws.Settings(moto), MotoAws.Http, TimeProvider.System, new SessionAWSCredentials(key.AccessKeyId, key.SecretAccessKey, key.SessionToken));
    }

    [Fact]
    public async Task Relay_OnANodeWithRoleArn_WritesToTheRolesAccount_RegionAndBaseKeyFromImdsV2()
    {
        _imds.Region = moto.Region;
        var roleArn = RoleArn();
        using var other = await OtherAccountAsync(roleArn);
        var stream = MotoFixture.UniqueName("xacct");
        await other.Kinesis.CreateStreamAsync(stream, 1, _ct);
        using var home = MotoAws.Clients(moto);
        var inHome = () => home.Kinesis.DescribeStreamSummaryAsync(stream, _ct);
        await inHome.Should().ThrowAsync<AwsServiceException>("the stream exists only in the role's account");

        await using var relay = await RelayProcess.StartAsync(
            ["-b", "127.0.0.1:0", "-t", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--stream", stream, "-l", "debug", "-r", roleArn],
            NodeEnvironment());
        relay.Send(Enumerable.Range(0, 50).Select(i => RelayData.Datagram(i, i)));
        var records = await RelayData.WaitForRecordsAsync(other.Kinesis, stream, 50);

        records.Should().HaveCount(50, relay.Stdout);
        relay.Stdout.Should().Contain("\"region_from\":\"imds\"").And.Contain("\"credentials\":\"assume_role via imds\"");
        (await relay.MetricAsync("xray_relay_credential_renewals_total{source=\"imds\"}")).Should().Be(1);
        (await relay.MetricAsync("xray_relay_credential_renewals_total{source=\"assume_role\"}")).Should().Be(1);
        (await relay.MetricAsync("xray_relay_credential_expiry_seconds{source=\"assume_role\"}")).Should().BeInRange(3000, 3600);
        _imds.UntokenedRequests.Should().Be(0, "IMDSv1 is never tried");
        (await relay.TerminateAsync(TimeSpan.FromSeconds(20))).Should().Be(0);
    }

    [Fact]
    public async Task Relay_WithHangingImds_ExitsOneAndSaysWhatToCheck()
    {
        _imds.Fault = ImdsFault.Hang;

        var (exitCode, _, stderr) = await RelayProcess.RunToExitAsync(
            ["-b", "127.0.0.1:0", "-t", "127.0.0.1:0", "--metrics", "off", "--otlp-http", "off", "--stream", "s"],
            NodeEnvironment());

        exitCode.Should().Be(1, stderr);
        stderr.Should().Contain("did not answer PUT /latest/api/token after 3 attempts").And.Contain("HttpPutResponseHopLimit");
    }

    [Fact]
    public async Task Relay_InLocalModeWithoutRegion_ExitsTwoWithoutAskingImds()
    {
        var (exitCode, _, stderr) = await RelayProcess.RunToExitAsync(["-o", "--stream", "s"], NodeEnvironment());

        exitCode.Should().Be(2, stderr);
        stderr.Should().Contain("no region").And.Contain("local mode");
        _imds.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task AssumedRole_IsRenewedFromMotoBeforeItExpires_AndTheNewKeyWrites()
    {
        var roleArn = RoleArn();
        using var other = await OtherAccountAsync(roleArn);
        var stream = MotoFixture.UniqueName("renew");
        await other.Kinesis.CreateStreamAsync(stream, 1, _ct);
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var environment = new DictionaryEnvironment(NodeEnvironment());
        var settings = Pipeline.Aws.Configuration.AwsSettings.FromEnvironment(environment);
        using var identity = await RelayIdentity.ResolveAsync(
            new RelayOptions { Stream = stream, RoleArn = roleArn }, environment, settings, MotoAws.Http, time, JsonLog.Null);
        var first = await identity.Credentials!.GetCredentialsAsync();

        // 56 minutes into the 1-hour session: inside the 5-minute window, the old key still signs.
        time.Advance(TimeSpan.FromMinutes(56));
        (await identity.Credentials.GetCredentialsAsync()).AccessKey.Should().Be(first.AccessKey);
        var source = identity.Metrics.Source(CredentialMetrics.AssumeRoleSource);
        await RelayData.WaitUntilAsync(() => Task.FromResult(source.Renewals == 2));
        var second = await identity.Credentials.GetCredentialsAsync();

        second.AccessKey.Should().NotBe(first.AccessKey);
        source.Failures.Should().Be(0);
        using var renewed = SignedAwsClients.Create(settings with { Region = identity.Region }, MotoAws.Http, TimeProvider.System, identity.Credentials);
        var put = await renewed.Kinesis.PutRecordsAsync(stream, [new Pipeline.Aws.Kinesis.PutRecordsEntry("renewed"u8.ToArray(), "k")], _ct);
        put.FailedRecordCount.Should().Be(0);
        (await RelayData.ReadAllAsync(other.Kinesis, stream)).Should().ContainSingle("the renewed key writes into the role's account");
    }
}
