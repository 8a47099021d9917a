using System.Text;
using Amazon.Runtime;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Sts;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Resilience;
using Relay.Config;
using Relay.Logging;

namespace Relay.Aws;

/// <summary>
/// Where the relay runs and as whom it signs, decided once at start:
/// region from -n/--region, AWS_REGION, AWS_DEFAULT_REGION, else (not in local mode) EC2 instance
/// metadata; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the SDK's chain when
/// one of its sources is configured (IRSA web identity, container credentials, AWS_PROFILE) or in
/// local mode, else the instance role from IMDSv2; then, with -r/--role-arn, that role assumed
/// through STS with those credentials. Temporary keys renew before they expire
/// (<see cref="RefreshingCredentials"/>). Every failure is an <see cref="AwsIdentityException"/>
/// that says what to check.
/// </summary>
public sealed class RelayIdentity : IDisposable
{
    /// <summary>The SDK chain's own sources: when one is set, it wins over the instance role.</summary>
    public static readonly string[] SdkChainVariables =
    [
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_PROFILE",
    ];

    /// <summary>STS's default session length; every role allows at least this (MaxSessionDuration ≥ 1 h).</summary>
    public static readonly TimeSpan AssumeRoleDuration = TimeSpan.FromHours(1);

    public const string SessionNamePrefix = "xray-relay-";

    private readonly InstanceMetadataClient? _imds;

    private RelayIdentity(string region, string regionSource, AWSCredentials? credentials, string credentialSource, CredentialMetrics metrics, InstanceMetadataClient? imds)
    {
        _imds = imds;
        Region = region;
        RegionSource = regionSource;
        Credentials = credentials;
        CredentialSource = credentialSource;
        Metrics = metrics;
    }

    public string Region { get; }

    /// <summary>"options" or "imds".</summary>
    public string RegionSource { get; }

    /// <summary>The credentials to sign with; null: the settings' key pair or the SDK's default chain.</summary>
    public AWSCredentials? Credentials { get; }

    /// <summary>"environment", "sdk_chain", "imds", or "assume_role via ..." (for the start-up log line).</summary>
    public string CredentialSource { get; }

    public CredentialMetrics Metrics { get; }

    public void Dispose() => _imds?.Dispose();

    /// <summary>
    /// Resolves region and credentials. Instance metadata is asked only when needed and never in
    /// local mode or with AWS_EC2_METADATA_DISABLED=true; the first temporary key (and the assumed
    /// role) is fetched here so that a start without credentials fails at once with the reason.
    /// </summary>
    public static async Task<RelayIdentity> ResolveAsync(
        RelayOptions options,
        IEnvironment environment,
        AwsSettings settings,
        HttpClient http,
        TimeProvider time,
        JsonLog log,
        TimeSpan? metadataAttemptTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(settings);
        var metrics = new CredentialMetrics();
        var metadataOff = options.LocalMode
            || string.Equals(environment.GetVariable(InstanceMetadataClient.DisabledVariable)?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
        var imds = metadataOff
            ? null
            : new InstanceMetadataClient(http, InstanceMetadataClient.ResolveEndpoint(environment.GetVariable(InstanceMetadataClient.EndpointVariable)), time, metadataAttemptTimeout);

        try
        {
            return await ResolveAsync(options, environment, settings, http, time, log, metrics, imds).ConfigureAwait(false);
        }
        catch
        {
            imds?.Dispose();
            throw;
        }
    }

    private static async Task<RelayIdentity> ResolveAsync(
        RelayOptions options, IEnvironment environment, AwsSettings settings, HttpClient http, TimeProvider time, JsonLog log, CredentialMetrics metrics, InstanceMetadataClient? imds)
    {
        var region = options.Region;
        var regionSource = "options";
        if (region.Length == 0)
        {
            if (imds is null)
            {
                throw new AwsIdentityException(
                    options.LocalMode
                        ? "no region: pass -n/--region or set AWS_REGION (local mode does not look it up in EC2 instance metadata)"
                        : $"no region: pass -n/--region or set AWS_REGION ({InstanceMetadataClient.DisabledVariable} turns the instance metadata lookup off)");
            }

            region = await imds.GetRegionAsync().ConfigureAwait(false);
            regionSource = "imds";
        }

        AWSCredentials? credentials = null;
        var credentialSource = "sdk_chain";
        if (settings.AccessKeyId is not null && settings.SecretAccessKey is not null)
        {
            credentialSource = "environment";
        }
        else if (imds is not null && !Array.Exists(SdkChainVariables, v => environment.GetVariable(v) is { Length: > 0 }))
        {
            var instanceRole = new RefreshingCredentials(imds.GetRoleCredentialsAsync, time, metrics.Source(CredentialMetrics.ImdsSource), log);
            await instanceRole.InitializeAsync().ConfigureAwait(false);
            credentials = instanceRole;
            credentialSource = "imds";
        }

        if (options.RoleArn is { Length: > 0 } roleArn)
        {
            // STS calls are rare (once an hour): they get the standard bounded retry, unlike PutRecords.
            var sts = StsClientFactory.Create(settings with { Region = region, Retry = BackoffOptions.Default }, http, credentials, time);
            var session = SessionName(Environment.MachineName);
            async Task<TemporaryCredentials> AssumeAsync(CancellationToken cancellationToken)
            {
                try
                {
                    return await sts.AssumeRoleAsync(roleArn, session, AssumeRoleDuration, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is AwsServiceException or HttpRequestException or InvalidDataException or TaskCanceledException)
                {
                    throw new AwsIdentityException($"STS AssumeRole of {roleArn} (signed with {credentialSource} credentials) failed: {e.Message}", e);
                }
            }

            var assumed = new RefreshingCredentials(AssumeAsync, time, metrics.Source(CredentialMetrics.AssumeRoleSource), log);
            await assumed.InitializeAsync().ConfigureAwait(false);
            credentials = assumed;
            credentialSource = "assume_role via " + credentialSource;
        }

        return new RelayIdentity(region, regionSource, credentials, credentialSource, metrics, imds);
    }

    /// <summary>RoleSessionName: the prefix and the host name reduced to STS's [\w+=,.@-], at most 64 characters.</summary>
    public static string SessionName(string hostName)
    {
        var name = new StringBuilder(SessionNamePrefix, 64);
        foreach (var c in hostName ?? "")
        {
            if (name.Length == 64)
            {
                break;
            }

            name.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '+' or '=' or ',' or '.' or '@' or '-' ? c : '-');
        }

        return name.Length == SessionNamePrefix.Length ? SessionNamePrefix + "node" : name.ToString();
    }
}
