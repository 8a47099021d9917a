using System.Net;
using Pipeline.Aws.Configuration;
using Pipeline.Core.Redaction;
using Pipeline.Functions.Ingest;
using Pipeline.IntegrationTests.Relay;
using Pipeline.Lambda;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Relay.Config;

namespace Pipeline.IntegrationTests.Proof;

/// <summary>
/// Security defaults, checked on what we ship: the relay listens on loopback unless told
/// otherwise, explicitly; redaction is on by default and secrets sent through the relay never reach
/// the archive, X-Ray or the relay's logs. The template's controls (TLS-only bucket policy, public
/// access block, SSE, no wildcard resource for data actions) are asserted by
/// Deploy/SamTemplateTests (Bucket_PolicyDeniesEveryRequestWithoutTls,
/// Buckets_AllBlockPublicAccessEnforceOwnershipAndEncrypt, FunctionRoles_AllowNoWildcardResourceExceptTheXRayActions,
/// Stream_IsEncryptedWithTheAwsManagedKinesisKey); they are not repeated here.
/// </summary>
public sealed class SecurityTests(MotoFixture moto)
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public void RelayDefaults_EveryListener_IsLoopback()
    {
        var parsed = OptionsParser.Parse(["--stream", "s", "-n", "us-east-1"], new DictionaryEnvironment(new Dictionary<string, string>()));

        var options = parsed.Options!;
        IPAddress.IsLoopback(options.UdpEndpoint.Address).Should().BeTrue();
        IPAddress.IsLoopback(options.TcpEndpoint.Address).Should().BeTrue();
        IPAddress.IsLoopback(options.MetricsEndpoint!.Address).Should().BeTrue();
        options.AllowNonLoopback.Should().BeFalse();
    }

    [Theory]
    [InlineData("-b", "0.0.0.0:2000")]
    [InlineData("-t", "0.0.0.0:2000")]
    [InlineData("--metrics", "0.0.0.0:2112")]
    [InlineData("-b", "10.1.2.3:2000")]
    public async Task RelayBinary_NonLoopbackBindWithoutTheFlag_RefusesToStart(string flag, string address)
    {
        var (exitCode, _, stderr) = await RelayProcess.RunToExitAsync(["--stream", "s", "-n", "us-east-1", flag, address]);

        exitCode.Should().Be(2);
        stderr.Should().Contain("loopback");
    }

    [Fact]
    public void RelayOptions_NonLoopbackWithTheExplicitFlag_IsAccepted()
    {
        var parsed = OptionsParser.Parse(["--stream", "s", "-n", "us-east-1", "-b", "0.0.0.0:2000", "--allow-non-loopback"], new DictionaryEnvironment(new Dictionary<string, string>()));

        parsed.Options!.UdpEndpoint.Address.Should().Be(IPAddress.Any);
        parsed.Options.AllowNonLoopback.Should().BeTrue();
    }

    [Fact]
    public void IngestOptions_FromAMinimalEnvironment_RedactWithTheDefaultPolicy()
    {
        var options = IngestOptions.FromEnvironment(new DictionaryEnvironment { ["ARCHIVE_BUCKET"] = "b", ["DECISION_TABLE"] = "t" });

        options.Redaction.HeaderNames.Should().Contain(["authorization", "cookie"]);
        options.Redaction.QueryParameters.Should().Contain("x-amz-signature");
        options.Redaction.Should().BeEquivalentTo(RedactionPolicy.Default);
    }

    [Fact]
    public async Task Pipeline_SecretsInHeadersAndUrls_NeverReachArchiveXRayOrRelayLogs()
    {
        await using var pipeline = await ProofPipeline.StartAsync(moto, seed: 301);
        var relay = await pipeline.StartRelayAsync();
        IPAddress.IsLoopback(relay.MetricsEndpoint!.Address).Should().BeTrue("the metrics endpoint is on loopback");
        IPAddress.IsLoopback(relay.UdpEndpoint.Address).Should().BeTrue();
        var sent = ProofTraffic.Segments(120, seed: 31);
        sent.Should().OnlyContain(s => System.Text.Encoding.UTF8.GetString(s.Datagram).Contains("secret", StringComparison.Ordinal), "every segment carries secrets");

        await ProofPipeline.SendAsync(relay, [.. sent.Select(s => s.Datagram)]);
        // Every trace kept, so X-Ray gets every segment.
        await using var mapping = pipeline.Mapping(() => pipeline.Ingest(samplingRate: 1.0));
        await mapping.RunUntilAsync(async () => await relay.MetricAsync("xray_relay_forwarded_segments_total") == sent.Count, TimeSpan.FromSeconds(90), _ct);

        var archived = (await pipeline.ReadLinesAsync("segments/")).Select(l => l.Line).ToList();
        var inXRay = await pipeline.XRayDocumentsAsync(sent.Select(s => s.TraceId).Distinct());
        archived.Should().HaveCount(sent.Count);
        inXRay.Should().HaveCount(sent.Count);
        foreach (var text in archived.Concat(inXRay))
        {
            text.Should().NotContain("secret", "Authorization, Cookie and X-Amz-Signature values are masked").And.Contain("REDACTED");
        }

        (relay.Stdout + relay.Stderr).Should().NotContain("secret", "the relay never logs segment content");
    }
}
