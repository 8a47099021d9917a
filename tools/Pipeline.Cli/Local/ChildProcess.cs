using System.Diagnostics;
using System.Globalization;

namespace Pipeline.Cli.Local;

/// <summary>
/// A child process of <c>pipeline up</c> (moto_server, the relay, the demo's node processes): its
/// output goes line by line to a log file (bounded) and to an optional callback, the last lines
/// are kept for error messages, and it is stopped with SIGTERM, then killed after a grace period.
/// </summary>
/// <remarks>
/// Children start in their own session (<c>setsid</c>, which execs in place, so the pid is the
/// program's): a Ctrl-C on the terminal then reaches only <c>pipeline up</c>, which stops them in
/// order (relay drained before moto goes away) instead of every process dying at once.
/// Kept separate from tests/Pipeline.Testing/MotoServer.cs on purpose: product code must not
/// reference the test project, and the test fixture should not drag the CLI (DuckDB, Spectre)
/// into every test project; this class is the general supervisor, MotoServer the test fixture.
/// </remarks>
internal sealed class ChildProcess : IAsyncDisposable
{
    /// <summary>Log files stop growing here; a line says so (moto logs every request).</summary>
    public const long MaxLogBytes = 64L * 1024 * 1024;

    private const int TailLines = 40;
    private const string SetSid = "/usr/bin/setsid";

    private readonly Process _process;
    private readonly Queue<string> _tail = new(TailLines);
    private readonly Lock _gate = new();
    private readonly StreamWriter? _log;
    private readonly Action<string>? _onLine;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _logBytes;
    private int _disposed;

    private ChildProcess(string name, Process process, StreamWriter? log, Action<string>? onLine)
    {
        Name = name;
        _process = process;
        _log = log;
        _onLine = onLine;
    }

    public string Name { get; }

    public int Id { get; private set; }

    /// <summary>Completes with the exit code when the process exits (and its output is drained).</summary>
    public Task<int> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The last lines of output, for error messages.</summary>
    public string Tail
    {
        get
        {
            lock (_gate)
            {
                return string.Join(Environment.NewLine, _tail);
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/>. Variables in
    /// <paramref name="environment"/> are set (a null value removes one). Throws
    /// <see cref="InvalidOperationException"/> when the program cannot be started.
    /// </summary>
    public static ChildProcess Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> environment,
        string? workingDirectory,
        string? logPath,
        Action<string>? onLine = null)
    {
        var ownSession = File.Exists(SetSid);
        var start = new ProcessStartInfo(ownSession ? SetSid : fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        if (ownSession)
        {
            start.ArgumentList.Add(fileName);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        StreamWriter? log = null;
        if (logPath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
            log = new StreamWriter(new FileStream(logPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, log, onLine);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log?.Dispose();
            process.Dispose();
            throw new InvalidOperationException($"{name}: cannot run {fileName}: {e.Message}", e);
        }

        child.Id = process.Id;
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = child.WatchAsync();
        return child;
    }

    /// <summary>
    /// SIGTERM, then up to <paramref name="grace"/> for the process to exit, then SIGKILL to its
    /// tree. Returns the exit code (null when it had to be killed).
    /// </summary>
    public async Task<int?> StopAsync(TimeSpan grace)
    {
        if (HasExited)
        {
            return await Exited.ConfigureAwait(false);
        }

        await Signals.TerminateAsync(Id).ConfigureAwait(false);
        try
        {
            return await Exited.WaitAsync(grace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Kill();
            try
            {
                await Exited.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // A SIGKILLed process that is not reaped yet is the kernel's business now.
            }

            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!HasExited)
        {
            await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        _process.Dispose();
        lock (_gate)
        {
            _log?.Dispose();
        }
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited in between.
        }
    }

    private async Task WatchAsync()
    {
        // WaitForExitAsync also waits for the redirected output to reach EOF.
        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        _exited.TrySetResult(_process.ExitCode);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_tail.Count == TailLines)
            {
                _tail.Dequeue();
            }

            _tail.Enqueue(line);
            if (_log is not null && Volatile.Read(ref _disposed) == 0 && _logBytes < MaxLogBytes)
            {
                _logBytes += line.Length + 1;
                _log.WriteLine(_logBytes < MaxLogBytes ? line : string.Create(CultureInfo.InvariantCulture, $"[log capped at {MaxLogBytes} bytes]"));
            }
        }

        _onLine?.Invoke(line);
    }
}

/// <summary>Signals by pid, through kill(1): .NET's Process.Kill only sends SIGKILL.</summary>
internal static class Signals
{
    public static async Task<bool> TerminateAsync(int pid)
    {
        var start = new ProcessStartInfo("kill")
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.ArgumentList.Add("-TERM");
        start.ArgumentList.Add(pid.ToString(CultureInfo.InvariantCulture));
        using var kill = Process.Start(start)!;
        await kill.WaitForExitAsync().ConfigureAwait(false);
        return kill.ExitCode == 0;
    }

    /// <summary>The process's command line (arguments joined by spaces), or empty when it is gone.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>Whether a process with this id exists (and is not a zombie).</summary>
    public static bool IsAlive(int pid)
    {
        var stat = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat";
        try
        {
            var text = File.ReadAllText(stat);
            // Field 3 (after the parenthesised command) is the state; Z = zombie, X = dead.
            var close = text.LastIndexOf(')');
            return close > 0 && close + 2 < text.Length && text[close + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }
}
