using Pipeline.Runtime.Configuration;

namespace Pipeline.Cli.Local;

/// <summary>
/// Where local mode keeps its state: <c>--state-dir</c>, else <c>PIPELINE_STATE_DIR</c>, else
/// <c>.pipeline/</c> under the repository root (the <c>./pipeline</c> script exports
/// <c>PIPELINE_ROOT</c>) or the working directory.
/// </summary>
internal sealed record StatePaths(string Root)
{
    public const string StateDirVariable = "PIPELINE_STATE_DIR";
    public const string DefaultDirName = ".pipeline";

    /// <summary>
    /// The one resolution of the state directory, for every command: <paramref name="stateDirFlag"/>,
    /// else PIPELINE_STATE_DIR, else <c>&lt;root&gt;/.pipeline</c>; relative to <paramref name="workingDirectory"/>.
    /// </summary>
    public static StatePaths Resolve(string? stateDirFlag, IEnvironment environment, string root, string workingDirectory)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var dir = stateDirFlag
            ?? (environment.GetVariable(StateDirVariable) is { Length: > 0 } fromEnv ? fromEnv : null)
            ?? Path.Combine(root, DefaultDirName);
        return new StatePaths(Path.GetFullPath(dir, workingDirectory));
    }

    public string StackFile => Path.Combine(Root, "stack.json");

    public string CounterFile => Path.Combine(Root, "counters.json");

    public string LogDir => Path.Combine(Root, "logs");

    public string SpoolDir => Path.Combine(Root, "spool");

    /// <summary>The default <c>--data-dir</c>: where <c>pipeline query</c> looks by default too.</summary>
    public string DefaultDataDir => Path.Combine(Root, "archive");

    public string ReportsDir => Path.Combine(Root, "reports");

    public string Log(string name) => Path.Combine(LogDir, name + ".log");
}
