namespace Pipeline.Runtime.Configuration;

/// <summary>
/// Settings that cannot be used. Each problem names its source (variable, flag or key) and the
/// bad value; <see cref="Exception.Message"/> lists them all, so one start-up shows every mistake.
/// The Lambda host reports it as <c>Runtime.ConfigInvalid</c>, the relay and the CLI exit 2.
/// </summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException()
        : this([])
    {
    }

    public ConfigurationException(string message)
        : this([message])
    {
    }

    public ConfigurationException(string message, Exception innerException)
        : base(message, innerException) => Problems = [message];

    public ConfigurationException(IReadOnlyList<string> problems)
        : base(problems.Count == 0 ? "invalid configuration" : string.Join("; ", problems)) => Problems = problems;

    /// <summary>Every problem found, in the order the settings were bound.</summary>
    public IReadOnlyList<string> Problems { get; }
}
