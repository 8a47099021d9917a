using System.Collections;
using System.Collections.Concurrent;

namespace Pipeline.Runtime.Configuration;

/// <summary>
/// The one seam through which every executable (relay, bootstrap, CLI) and every options binder
/// reads environment variables. Bind through <see cref="EnvironmentBinder"/>, never by hand.
/// </summary>
public interface IEnvironment
{
    /// <summary>The variable's value, or null when it is unset.</summary>
    string? GetVariable(string name);

    /// <summary>Sets (or with <c>null</c> removes) a variable; the Lambda host uses it for the trace id.</summary>
    void SetVariable(string name, string? value);
}

/// <summary>The real process environment; only composition roots use it.</summary>
public sealed class ProcessEnvironment : IEnvironment
{
    public static ProcessEnvironment Instance { get; } = new();

    private ProcessEnvironment()
    {
    }

#pragma warning disable RS0030 // The environment seam itself is the one place allowed to read the process environment.
    public string? GetVariable(string name) => Environment.GetEnvironmentVariable(name);
#pragma warning restore RS0030

    public void SetVariable(string name, string? value) => Environment.SetEnvironmentVariable(name, value);
}

/// <summary>
/// A set of variables of its own: a function's environment in local mode (the stand-in for the
/// sandbox's), a child's variables handed to it (the moto fixture's), and the test double
/// (<c>new DictionaryEnvironment { ["ARCHIVE_BUCKET"] = "b" }</c>). Never the process environment.
/// </summary>
public sealed class DictionaryEnvironment : IEnvironment, IEnumerable<KeyValuePair<string, string>>
{
    private readonly ConcurrentDictionary<string, string> _variables;

    public DictionaryEnvironment()
        : this([])
    {
    }

    public DictionaryEnvironment(IEnumerable<KeyValuePair<string, string>> variables) =>
        _variables = new ConcurrentDictionary<string, string>(variables, StringComparer.Ordinal);

    /// <summary>Reads or sets a variable (collection initialisers use the setter).</summary>
    public string? this[string name]
    {
        get => GetVariable(name);
        set => SetVariable(name, value);
    }

    public string? GetVariable(string name) => _variables.TryGetValue(name, out var value) ? value : null;

    public void SetVariable(string name, string? value)
    {
        if (value is null)
        {
            _variables.TryRemove(name, out _);
        }
        else
        {
            _variables[name] = value;
        }
    }

    /// <summary>A copy with <paramref name="name"/> set to <paramref name="value"/> (null removes it).</summary>
    public DictionaryEnvironment With(string name, string? value)
    {
        var copy = new DictionaryEnvironment(_variables);
        copy.SetVariable(name, value);
        return copy;
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _variables.OrderBy(v => v.Key, StringComparer.Ordinal).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
