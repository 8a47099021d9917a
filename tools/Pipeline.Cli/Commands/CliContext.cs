using Pipeline.Runtime.Configuration;
using Pipeline.Cli.Local;
using Pipeline.Cli.Output;

namespace Pipeline.Cli.Commands;

/// <summary>
/// What the local-mode commands need from the composition root (Program.cs): clock, environment
/// seam, the one pooled HttpClient, the repository root, whether output is a terminal.
/// </summary>
internal sealed class CliContext
{
    /// <summary>Set by the <c>./pipeline</c> script: the repository the CLI was built from.</summary>
    public const string RootVariable = "PIPELINE_ROOT";

    public CliContext(TimeProvider time, IEnvironment environment, HttpClient http, string workingDirectory, bool outputIsTerminal)
    {
        Time = time;
        Environment = environment;
        Http = http;
        WorkingDirectory = workingDirectory;
        OutputIsTerminal = outputIsTerminal;
    }

    public TimeProvider Time { get; }

    public IEnvironment Environment { get; }

    public HttpClient Http { get; }

    public string WorkingDirectory { get; }

    public bool OutputIsTerminal { get; }

    /// <summary>The repository root: PIPELINE_ROOT, else the working directory.</summary>
    public string Root => Environment.GetVariable(RootVariable) is { Length: > 0 } root ? root : WorkingDirectory;

    /// <summary>The state directory: the flag, else PIPELINE_STATE_DIR, else &lt;root&gt;/.pipeline.</summary>
    public StatePaths Paths(string? stateDirFlag) => StatePaths.Resolve(stateDirFlag, Environment, Root, WorkingDirectory);

    public CliConsole Console(TextWriter output, TextWriter error) => new(output, error, OutputIsTerminal);
}
