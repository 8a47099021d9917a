namespace Relay.Config;

/// <summary>Names of the environment variables the relay reads.</summary>
public static class RelayEnvironmentVariables
{
    public const string Stream = "RELAY_STREAM";
    /// <summary>The SDKs' daemon address; when set, the relay listens where the applications send.</summary>
    public const string DaemonAddress = "AWS_XRAY_DAEMON_ADDRESS";
    public const string Region = "AWS_REGION";
    public const string DefaultRegion = "AWS_DEFAULT_REGION";
}
