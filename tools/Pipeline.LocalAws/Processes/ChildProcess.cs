using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Pipeline.LocalAws.Processes;

/// <summary>
/// The one child-process runner, for <c>pipeline up</c> (moto_server, the relay, the demo's node
/// processes) and the tests (moto, the published bootstrap, make, python scripts): its output goes
/// line by line to a log file (bounded) and to an optional callback, the last lines are kept for
/// error messages (the whole output too with <see cref="ChildProcessOptions.CaptureOutput"/>), and
/// it is stopped with SIGTERM, then killed after a grace period.
/// </summary>
/// <remarks>
/// Children start in their own session (<c>setsid</c>, which execs in place, so the pid is the
/// program's): a Ctrl-C on the terminal then reaches only <c>pipeline up</c>, which stops them in
/// order (relay drained before moto goes away) instead of every process dying at once.
/// </remarks>
public sealed class ChildProcess : IAsyncDisposable
{
    /// <summary>Log files stop growing here; a line says so (moto logs every request).</summary>
    public const long MaxLogBytes = 64L * 1024 * 1024;

    /// <summary>Captured output (<see cref="ChildProcessOptions.CaptureOutput"/>) stops growing here, per stream.</summary>
    public const int MaxCapturedChars = 16 * 1024 * 1024;

    private const int TailLines = 40;
    private const string SetSid = "/usr/bin/setsid";
    private const string Shell = "/bin/sh";

    // The watchdog of ChildProcessOptions.StopWithParent: runs the program and kills it when our
    // end of its stdin pipe closes, so a parent that crashes or is killed leaves no orphan behind.
    // (Asynchronous lists read /dev/null unless redirected, hence fd 3; the watcher lets go of our
    // output pipes so that they end when the program ends.) sh exits with the program's code.
    private const string WatchdogScript = "exec 3<&0; \"$0\" \"$@\" </dev/null & m=$!; (cat <&3; kill $m) >/dev/null 2>&1 & wait $m";

    private readonly Process _process;
    private readonly Queue<string> _tail = new(TailLines);
    private readonly Lock _gate = new();
    private readonly StreamWriter? _log;
    private readonly Action<string>? _onLine;
    private readonly ChildProcessOptions _options;
    private readonly StringBuilder? _stdout;
    private readonly StringBuilder? _stderr;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _logBytes;
    private int _disposed;

    private ChildProcess(string name, Process process, StreamWriter? log, Action<string>? onLine, ChildProcessOptions options)
    {
        Name = name;
        _process = process;
        _log = log;
        _onLine = onLine;
        _options = options;
        if (options.CaptureOutput)
        {
            _stdout = new StringBuilder();
            _stderr = new StringBuilder();
        }
    }

    public string Name { get; }

    public int Id { get; private set; }

    /// <summary>Completes with the exit code when the process exits (and its output is drained).</summary>
    public Task<int> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Everything the process wrote to stdout (with <see cref="ChildProcessOptions.CaptureOutput"/>; else empty).</summary>
    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout?.ToString() ?? string.Empty;
            }
        }
    }

    /// <inheritdoc cref="StandardOutput"/>
    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr?.ToString() ?? string.Empty;
            }
        }
    }

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
        Action<string>? onLine = null,
        ChildProcessOptions? options = null)
    {
        options ??= ChildProcessOptions.Default;
        var ownSession = File.Exists(SetSid);
        var program = new List<string>();
        if (options.StopWithParent)
        {
            program.AddRange([Shell, "-c", WatchdogScript]);
        }

        program.Add(fileName);
        var start = new ProcessStartInfo(ownSession ? SetSid : program[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in ownSession ? program : program.Skip(1))
        {
            start.ArgumentList.Add(argument);
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
        var child = new ChildProcess(name, process, log, onLine, options);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, child._stdout);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, child._stderr);
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
        if (!options.StopWithParent)
        {
            process.StandardInput.Close();
        }

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

        if (_options.StopWithParent)
        {
            // The watchdog stops the program when its stdin ends (a signal to sh would orphan it).
            CloseInput();
        }
        else
        {
            await Signals.TerminateAsync(Id).ConfigureAwait(false);
        }

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

    /// <summary>
    /// Runs <paramref name="fileName"/> to completion with its whole output captured; kills it
    /// and throws <see cref="TimeoutException"/> when it takes longer than <paramref name="timeout"/>.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> environment,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        string? workingDirectory = null)
    {
        var argumentList = arguments.ToList();
        var child = Start(Path.GetFileName(fileName), fileName, argumentList, environment, workingDirectory, logPath: null, options: new ChildProcessOptions { CaptureOutput = true });
        await using (child.ConfigureAwait(false))
        {
            int code;
            try
            {
                code = await child.Exited.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                child.Kill();
                throw new TimeoutException($"{fileName} {string.Join(' ', argumentList)} did not finish within {timeout}.");
            }

            return new ProcessResult(code, child.StandardOutput, child.StandardError);
        }
    }

    /// <summary>SIGKILL to the process and its children (what a test does to a process it gives up on).</summary>
    public void Kill()
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

    private void CloseInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (InvalidOperationException)
        {
            // Exited and disposed in between.
        }
    }

    private void OnLine(string? line, StringBuilder? capture)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            if (capture is not null && capture.Length < MaxCapturedChars)
            {
                capture.Append(line).Append('\n');
            }

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

/// <summary>How <see cref="ChildProcess.Start"/> runs a process beyond its command line.</summary>
public sealed record ChildProcessOptions
{
    public static ChildProcessOptions Default { get; } = new();

    /// <summary>Keep the whole of stdout and stderr (bounded by <see cref="ChildProcess.MaxCapturedChars"/>), not only the tail.</summary>
    public bool CaptureOutput { get; init; }

    /// <summary>
    /// Run it under a small sh watchdog that kills it when this process goes away (its stdin pipe
    /// closes): for test fixtures, so a crashed test host leaves no server behind. The process id
    /// is then the watchdog's, and <see cref="ChildProcess.StopAsync"/> stops it by closing stdin.
    /// </summary>
    public bool StopWithParent { get; init; }
}

/// <summary>Exit code and whole output of <see cref="ChildProcess.RunAsync"/>.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>For assertion messages: the exit code and the tails of both streams.</summary>
    public string Describe(string what) =>
        $"{what} exited {ExitCode}\n--- stderr ---\n{Tail(StandardError)}\n--- stdout ---\n{Tail(StandardOutput)}";

    private static string Tail(string text) => text.Length <= 4000 ? text : "..." + text[^4000..];
}

/// <summary>Signals by pid, through kill(1): .NET's Process.Kill only sends SIGKILL.</summary>
public static class Signals
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
