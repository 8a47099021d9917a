namespace Pipeline.Aws.Configuration;

/// <summary>The one seam through which configuration reads environment variables.</summary>
public interface IEnvironment
{
    /// <summary>The variable's value, or null when it is unset.</summary>
    string? GetVariable(string name);
}

/// <summary>The real process environment.</summary>
public sealed class ProcessEnvironment : IEnvironment
{
    public static ProcessEnvironment Instance { get; } = new();

    private ProcessEnvironment()
    {
    }

#pragma warning disable RS0030 // The environment seam itself is the one place allowed to read the process environment.
    public string? GetVariable(string name) => Environment.GetEnvironmentVariable(name);
#pragma warning restore RS0030
}

/// <summary>
/// A fixed set of variables: tests, and children that get their AWS settings handed to them
/// (e.g. the moto fixture's variables) instead of mutating the process environment.
/// </summary>
public sealed class DictionaryEnvironment(IReadOnlyDictionary<string, string> variables) : IEnvironment
{
    private readonly IReadOnlyDictionary<string, string> _variables = variables;

    public string? GetVariable(string name) => _variables.TryGetValue(name, out var value) ? value : null;
}
