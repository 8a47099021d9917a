using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Pipeline.Testing;

/// <summary>
/// One <c>moto_server</c> child process serving every AWS service on a free loopback port.
/// Start it with <see cref="StartAsync"/>, point clients at <see cref="Endpoint"/> (or hand
/// <see cref="EnvironmentVariables"/> to the client settings or a child process), and dispose it
/// to kill its process tree. See /work/shared/MOTO.md for what moto does and does not emulate.
/// </summary>
public sealed class MotoServer : IAsyncDisposable
{
    /// <summary>Region of every request; moto keeps a separate store per region.</summary>
    public const string DefaultRegion = "us-east-1";

    /// <summary>Fake credentials: moto never checks signatures, but routes by the SigV4 scope.</summary>
    public const string AccessKeyId = "testing";

    /// <inheritdoc cref="AccessKeyId"/>
    public const string SecretAccessKey = "testing";

    /// <summary>The executable looked up on PATH (installed with the machine image; see tests/setup).</summary>
    public const string Executable = "moto_server";

    private const string Shell = "/bin/sh";
    private const string WatchdogScript = "exec 3<&0; \"$0\" \"$@\" </dev/null & m=$!; (cat <&3; kill $m) >/dev/null 2>&1 & wait $m";
    private const int MaxPortAttempts = 5;
    private const int OutputTailLines = 40;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    // Loopback only, never through a proxy from the environment.
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    private readonly Process _process;
    private readonly OutputTail _output;
    private int _disposed;

    private MotoServer(Process process, OutputTail output, int port)
    {
        _process = process;
        _output = output;
        ProcessId = process.Id;
        Endpoint = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        EnvironmentVariables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AWS_ENDPOINT_URL"] = Endpoint.ToString().TrimEnd('/'),
            ["AWS_REGION"] = DefaultRegion,
            ["AWS_DEFAULT_REGION"] = DefaultRegion,
            ["AWS_ACCESS_KEY_ID"] = AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = SecretAccessKey,
        };
    }

    /// <summary>Base address of the server, e.g. http://127.0.0.1:41237/.</summary>
    public Uri Endpoint { get; }

    /// <summary>Always <see cref="DefaultRegion"/>.</summary>
    public string Region { get; } = DefaultRegion;

    /// <summary>Id of the root of the server's process tree (a sh watchdog whose child is moto_server), killed on dispose.</summary>
    public int ProcessId { get; }

    /// <summary>
    /// The standard AWS variables that point a client or a child process at this server with fake
    /// credentials: AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY. Pass them to settings/child processes; never set them process-wide.
    /// </summary>
    public IReadOnlyDictionary<string, string> EnvironmentVariables { get; }

    /// <summary>Whether the process is still running.</summary>
    public bool IsRunning => Volatile.Read(ref _disposed) == 0 && !_process.HasExited;

    /// <summary>The last lines moto wrote (stdout and stderr), for failure messages.</summary>
    public string OutputTailText => _output.Text;

    /// <summary>
    /// Starts moto_server on a port chosen by the OS and waits until it answers. Retries with
    /// another port when the chosen one was taken in between. Throws
    /// <see cref="InvalidOperationException"/> with moto's output tail when it is missing or fails.
    /// </summary>
    public static Task<MotoServer> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(Executable, cancellationToken);

    /// <summary>
    /// As <see cref="StartAsync(CancellationToken)"/> with another executable: a name looked up
    /// on PATH or a path (tests of the failure messages use this).
    /// </summary>
    public static async Task<MotoServer> StartAsync(string executable, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executable);
        executable = (executable.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) ? FileIfExists(executable) : FindOnPath(executable))
            ?? throw new InvalidOperationException(
                $"'{executable}' was not found on PATH. {Executable} comes with the machine image (moto 5.2.1, Python 3.11); "
                + "run tests/setup to check the prerequisites.");

        var failures = new StringBuilder();
        for (var attempt = 1; attempt <= MaxPortAttempts; attempt++)
        {
            var port = FreePort.NextTcp();
            var (server, failure, portTaken) = await TryStartAsync(executable, port, cancellationToken).ConfigureAwait(false);
            if (server is not null)
            {
                return server;
            }

            failures.Append(CultureInfo.InvariantCulture, $"attempt {attempt} (port {port}): {failure}").AppendLine();
            if (!portTaken)
            {
                break;
            }
        }

        throw new InvalidOperationException($"{executable} did not start.{Environment.NewLine}{failures}");
    }

    /// <summary>Clears every service's state (POST /moto-api/reset).</summary>
    public async Task ResetAsync(CancellationToken cancellationToken = default)
    {
        using var response = await Http.PostAsync(new Uri(Endpoint, "/moto-api/reset"), content: null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "POST /moto-api/reset", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Switches moto's IAM checks on or off for every later request (POST /moto-api/reset-auth, the
    /// server's INITIAL_NO_AUTH_ACTION_COUNT: 0 checks from now on, inf never). While on, a request
    /// must be signed by a key moto knows (an IAM user's or an sts:AssumeRole session's) and pass
    /// moto's policy evaluation, which is partial: docs/iam.md says what it checks.
    /// </summary>
    public async Task SetIamChecksAsync(bool enabled, CancellationToken cancellationToken = default)
    {
        using var body = new StringContent(enabled ? "0" : "inf");
        using var response = await Http.PostAsync(new Uri(Endpoint, "/moto-api/reset-auth"), body, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "POST /moto-api/reset-auth", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Everything moto stores, as JSON (GET /moto-api/data.json): service → model → items.
    /// Sent SES mail is under <c>ses</c> → <c>RawMessage</c>. Fails with 500 after a Lambda function
    /// has existed in this server, or with a stored segment whose trace id is malformed.
    /// </summary>
    public async Task<JsonElement> ReadDataJsonAsync(CancellationToken cancellationToken = default)
    {
        using var response = await Http.GetAsync(new Uri(Endpoint, "/moto-api/data.json"), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "GET /moto-api/data.json", cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            return document.RootElement.Clone();
        }
    }

    /// <summary>Kills the moto_server process tree (by its own id) and waits for it to exit.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(_process).ConfigureAwait(false);
        _process.Dispose();
    }

    private static async Task<(MotoServer? Server, string Failure, bool PortTaken)> TryStartAsync(
        string executable, int port, CancellationToken cancellationToken)
    {
        // Through a small sh watchdog: it runs moto and kills it when our end of its stdin pipe
        // closes, so a test host that crashes or is killed leaves no orphan server behind.
        // (Asynchronous lists read /dev/null unless redirected, hence fd 3; the watcher lets go of our
    // output pipes so that they end when moto ends.) sh exits with moto's code.
        var startInfo = new ProcessStartInfo(Shell)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(WatchdogScript);
        startInfo.ArgumentList.Add(executable);
        startInfo.ArgumentList.Add("-H");
        startInfo.ArgumentList.Add("127.0.0.1");
        startInfo.ArgumentList.Add("-p");
        startInfo.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        // moto itself never calls out, but keep anything it might do on loopback and unbuffered.
        startInfo.Environment["PYTHONUNBUFFERED"] = "1";
        startInfo.Environment["NO_PROXY"] = "*";

        var output = new OutputTail(OutputTailLines);
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => output.Add(e.Data);
        try
        {
            if (!process.Start())
            {
                process.Dispose();
                return (null, $"{executable} could not be started", false);
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            return (null, $"{executable} could not be started: {ex.Message}", false);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new MotoServer(process, output, port);
        try
        {
            var failure = await WaitUntilReadyAsync(server, output, process, port, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                return (server, string.Empty, false);
            }

            var text = output.Text;
            await server.DisposeAsync().ConfigureAwait(false);
            var portTaken = text.Contains("Address already in use", StringComparison.OrdinalIgnoreCase)
                || text.Contains("is in use", StringComparison.OrdinalIgnoreCase);
            return (null, $"{failure}{Environment.NewLine}--- {Path.GetFileName(executable)} output (last {OutputTailLines} lines) ---{Environment.NewLine}{text}", portTaken);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // Ready = moto printed that it listens on our port (so it, not an intruder, owns the port)
    // and it answers HTTP. Returns null when ready, else why not.
    private static async Task<string?> WaitUntilReadyAsync(
        MotoServer server, OutputTail output, Process process, int port, CancellationToken cancellationToken)
    {
        var listening = $"Running on http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var probe = new Uri(server.Endpoint, "/moto-api/");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                // Let the output readers drain what the process wrote before it exited.
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                return $"exited with code {process.ExitCode.ToString(CultureInfo.InvariantCulture)} before answering";
            }

            if (output.Contains(listening) && await AnswersAsync(probe, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            await Task.Delay(ProbeInterval, cancellationToken).ConfigureAwait(false);
        }

        return $"did not answer GET {probe} within {StartTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
    }

    private static async Task<bool> AnswersAsync(Uri probe, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            using var response = await Http.GetAsync(probe, timeout.Token).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(StopTimeout);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already exited and reaped: nothing left to stop.
        }
        catch (OperationCanceledException)
        {
            // A SIGKILLed process that is still not reaped after the timeout is the kernel's business.
        }
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (body.Length > 2000)
        {
            body = body[..2000];
        }

        throw new InvalidOperationException(
            $"moto {what} answered {(int)response.StatusCode}: {body}{Environment.NewLine}--- {Executable} output ---{Environment.NewLine}{_output.Text}");
    }

    private static string? FileIfExists(string path) => File.Exists(path) ? Path.GetFullPath(path) : null;

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The last N lines of a process's output; moto logs every request, so bounded.</summary>
    private sealed class OutputTail(int capacity)
    {
        private readonly Queue<string> _lines = new(capacity);
        private readonly Lock _lock = new();
        private readonly List<string> _markers = [];

        public string Text
        {
            get
            {
                lock (_lock)
                {
                    return string.Join(Environment.NewLine, _lines);
                }
            }
        }

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_lock)
            {
                if (_lines.Count == capacity)
                {
                    _lines.Dequeue();
                }

                _lines.Enqueue(line);
                if (_markers.Count < capacity && line.Contains("Running on", StringComparison.Ordinal))
                {
                    _markers.Add(line);
                }
            }
        }

        // Checked against kept marker lines too: the request log can push them out of the tail.
        public bool Contains(string text)
        {
            lock (_lock)
            {
                return _markers.Exists(l => l.Contains(text, StringComparison.Ordinal))
                    || _lines.Any(l => l.Contains(text, StringComparison.Ordinal));
            }
        }
    }
}
