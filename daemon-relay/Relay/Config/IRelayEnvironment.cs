namespace Relay.Config;

/// <summary>The one seam through which the relay reads environment variables.</summary>
public interface IRelayEnvironment
{
    string? Read(string name);
}

/// <summary>Names of the environment variables the relay reads.</summary>
public static class RelayEnvironmentVariables
{
    public const string Stream = "RELAY_STREAM";
    /// <summary>The SDKs' daemon address; when set, the relay listens where the applications send.</summary>
    public const string DaemonAddress = "AWS_XRAY_DAEMON_ADDRESS";
    public const string Region = "AWS_REGION";
    public const string DefaultRegion = "AWS_DEFAULT_REGION";
}

/// <summary>Reads the process environment (composition root only).</summary>
public sealed class ProcessEnvironment : IRelayEnvironment
{
#pragma warning disable RS0030 // The environment seam is the one place allowed to read the process environment.
    public string? Read(string name) => Environment.GetEnvironmentVariable(name);
#pragma warning restore RS0030
}

/// <summary>An environment from a dictionary, for tests and embedding.</summary>
public sealed class DictionaryEnvironment(IReadOnlyDictionary<string, string> values) : IRelayEnvironment
{
    public string? Read(string name) => values.TryGetValue(name, out var value) ? value : null;
}
