using System.Collections.Concurrent;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Testing;

/// <summary>
/// The environment test double: the product's <see cref="DictionaryEnvironment"/> (variables of
/// its own) that also records every name read, so a test can prove an options binder reads only
/// what FunctionContract (and so template.yaml) lists for it.
/// </summary>
public sealed class RecordingEnvironment(DictionaryEnvironment variables) : IEnvironment
{
    private readonly ConcurrentQueue<string> _read = new();

    public RecordingEnvironment()
        : this(new DictionaryEnvironment())
    {
    }

    public DictionaryEnvironment Variables { get; } = variables;

    /// <summary>Every name read, in order, repeats included.</summary>
    public IReadOnlyCollection<string> Read => _read;

    public string? GetVariable(string name)
    {
        _read.Enqueue(name);
        return Variables.GetVariable(name);
    }

    public void SetVariable(string name, string? value) => Variables.SetVariable(name, value);
}
