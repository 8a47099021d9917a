using System.Diagnostics;

namespace Pipeline.IntegrationTests.Bootstrap;

/// <summary>Starts child processes with a controlled environment and captured output.</summary>
internal static class ProcessRunner
{
    public static RunningProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> environment,
        string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The test host may run inside Lambda-like variables (or a runner's): the child gets only what we say.
        info.Environment.Remove("AWS_LAMBDA_RUNTIME_API");
        info.Environment.Remove("_HANDLER");
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.StandardInput.Close();
        return new RunningProcess(process);
    }

    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> environment,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        string? workingDirectory = null)
    {
        var argumentList = arguments.ToList();
        using var process = Start(fileName, argumentList, environment, workingDirectory);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(bounded.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', argumentList)} did not finish within {timeout}.");
        }

        return new ProcessResult(process.ExitCode, await process.StandardOutputTask, await process.StandardErrorTask);
    }
}

internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>For assertion messages: the exit code and the tails of both streams.</summary>
    public string Describe(string what) =>
        $"{what} exited {ExitCode}\n--- stderr ---\n{Tail(StandardError)}\n--- stdout ---\n{Tail(StandardOutput)}";

    private static string Tail(string text) => text.Length <= 4000 ? text : "..." + text[^4000..];
}

/// <summary>A started process whose output is drained as it runs (so a full pipe never blocks it).</summary>
internal sealed class RunningProcess : IDisposable
{
    private readonly Process _process;

    public RunningProcess(Process process)
    {
        _process = process;
        StandardOutputTask = process.StandardOutput.ReadToEndAsync();
        StandardErrorTask = process.StandardError.ReadToEndAsync();
    }

    public Task<string> StandardOutputTask { get; }

    public Task<string> StandardErrorTask { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public void Kill(bool entireProcessTree) => _process.Kill(entireProcessTree);

    public void Dispose() => _process.Dispose();
}
