using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Pipeline.Aws.Http;
using Pipeline.LocalAws.Processes;

namespace Pipeline.LocalAws.Moto;

/// <summary>
/// The one moto launcher: one <c>moto_server</c> child process serving every AWS service on a free
/// loopback port, for <c>pipeline up</c> and the tests. Start it with <see cref="StartAsync(MotoServerOptions, CancellationToken)"/>,
/// point clients at <see cref="Endpoint"/> (or hand <see cref="EnvironmentVariables"/> to the client
/// settings or a child process), and dispose it to stop it. See /work/shared/MOTO.md for what moto
/// does and does not emulate.
/// </summary>
public sealed class MotoServer : IAsyncDisposable
{
    /// <summary>Region of every request; moto keeps a separate store per region.</summary>
    public const string DefaultRegion = "us-east-1";

    /// <summary>Fake credentials: moto never checks signatures, but routes by the SigV4 scope.</summary>
    public const string AccessKeyId = "testing";

    /// <inheritdoc cref="AccessKeyId"/>
    public const string SecretAccessKey = "testing";

    /// <summary>The account moto reports in ARNs.</summary>
    public const string AccountId = "123456789012";

    /// <summary>The executable looked up on PATH (installed with the machine image; see tests/setup).</summary>
    public const string Executable = "moto_server";

    private const int MaxPortAttempts = 5;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    // Loopback probes and /moto-api calls when the caller brings no client of its own.
    private static readonly Lazy<HttpClient> DefaultHttp = new(() => AwsHttp.CreateClient());

    private readonly HttpClient _http;
    private int _disposed;

    private MotoServer(ChildProcess process, int port, HttpClient http)
    {
        Process = process;
        _http = http;
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

    /// <summary>The supervised process (exit, output tail, ordered stop).</summary>
    public ChildProcess Process { get; }

    /// <summary>
    /// Id of the server's process: moto_server itself, or with <see cref="MotoServerOptions.StopWithParent"/>
    /// the sh watchdog whose child it is.
    /// </summary>
    public int ProcessId => Process.Id;

    /// <summary>
    /// The standard AWS variables that point a client or a child process at this server with fake
    /// credentials: AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY. Pass them to settings/child processes; never set them process-wide.
    /// </summary>
    public IReadOnlyDictionary<string, string> EnvironmentVariables { get; }

    /// <summary>Whether the process is still running.</summary>
    public bool IsRunning => Volatile.Read(ref _disposed) == 0 && !Process.HasExited;

    /// <summary>The last lines moto wrote (stdout and stderr), for failure messages.</summary>
    public string OutputTailText => Process.Tail;

    /// <summary>Starts moto_server from PATH under a watchdog (the tests' default).</summary>
    public static Task<MotoServer> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(new MotoServerOptions(), cancellationToken);

    /// <summary>As <see cref="StartAsync(CancellationToken)"/> with another executable: a name looked up on PATH or a path.</summary>
    public static Task<MotoServer> StartAsync(string executable, CancellationToken cancellationToken = default) =>
        StartAsync(new MotoServerOptions { Executable = executable }, cancellationToken);

    /// <summary>
    /// Starts moto_server on a port chosen by the OS and waits until it answers. Retries with
    /// another port when the chosen one was taken in between. Throws
    /// <see cref="InvalidOperationException"/> with moto's output tail when it is missing or fails.
    /// </summary>
    public static async Task<MotoServer> StartAsync(MotoServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Executable);
        var http = options.Http ?? DefaultHttp.Value;
        var failures = new List<string>();
        var missing = false;
        for (var attempt = 1; attempt <= MaxPortAttempts; attempt++)
        {
            var port = LoopbackPorts.FreeTcp();
            var (server, failure, portTaken) = await TryStartAsync(options, port, http, cancellationToken).ConfigureAwait(false);
            if (server is not null)
            {
                return server;
            }

            failures.Add($"attempt {attempt.ToString(CultureInfo.InvariantCulture)} (port {port.ToString(CultureInfo.InvariantCulture)}): {failure}");
            missing = failure.Contains("No such file", StringComparison.Ordinal) || failure.Contains("not found", StringComparison.Ordinal) || failure.Contains("cannot run", StringComparison.Ordinal);
            if (!portTaken)
            {
                break;
            }
        }

        var hint = missing
            ? $"{Environment.NewLine}'{options.Executable}' was not found: {Executable} comes with moto (moto 5.2.1 with the machine image; pip install 'moto[server]'); run tests/setup to check the prerequisites{options.NotFoundHint}"
            : "";
        throw new InvalidOperationException($"{Executable} did not start ({options.Executable}):{Environment.NewLine}{string.Join(Environment.NewLine, failures)}{hint}");
    }

    /// <summary>Clears every service's state (POST /moto-api/reset).</summary>
    public async Task ResetAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(new Uri(Endpoint, "/moto-api/reset"), content: null, cancellationToken).ConfigureAwait(false);
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
        using var response = await _http.PostAsync(new Uri(Endpoint, "/moto-api/reset-auth"), body, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "POST /moto-api/reset-auth", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Everything moto stores, as JSON (GET /moto-api/data.json): service → model → items.
    /// Sent SES mail is under <c>ses</c> → <c>RawMessage</c>. Fails with 500 after a Lambda function
    /// has existed in this server, or with a stored segment whose trace id is malformed.
    /// </summary>
    public async Task<JsonElement> ReadDataJsonAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri(Endpoint, "/moto-api/data.json"), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "GET /moto-api/data.json", cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            return document.RootElement.Clone();
        }
    }

    /// <summary>Stops moto (see <see cref="ChildProcess.StopAsync"/>) and waits for it to exit.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Process.StopAsync(StopGrace).ConfigureAwait(false);
        await Process.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<(MotoServer? Server, string Failure, bool PortTaken)> TryStartAsync(
        MotoServerOptions options, int port, HttpClient http, CancellationToken cancellationToken)
    {
        // Ready = moto printed that it listens on our port (so it, not an intruder, owns the port)
        // and it answers HTTP.
        var listening = $"Running on http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(
                Executable,
                options.Executable,
                ["-H", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture)],
                // moto itself never calls out, but keep anything it might do on loopback and unbuffered.
                new Dictionary<string, string?> { ["PYTHONUNBUFFERED"] = "1", ["NO_PROXY"] = "*" },
                workingDirectory: null,
                options.LogPath,
                line =>
                {
                    if (line.Contains(listening, StringComparison.Ordinal))
                    {
                        announced.TrySetResult();
                    }
                },
                new ChildProcessOptions { StopWithParent = options.StopWithParent });
        }
        catch (InvalidOperationException e)
        {
            return (null, e.Message, false);
        }

        var server = new MotoServer(child, port, http);
        try
        {
            var failure = await WaitUntilReadyAsync(server, announced.Task, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                return (server, string.Empty, false);
            }

            var text = child.Tail;
            await server.DisposeAsync().ConfigureAwait(false);
            var portTaken = text.Contains("in use", StringComparison.OrdinalIgnoreCase);
            return (null, $"{failure}{Environment.NewLine}--- {Path.GetFileName(options.Executable)} output (last lines) ---{Environment.NewLine}{text}", portTaken);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Null when ready, else why not.</summary>
    private static async Task<string?> WaitUntilReadyAsync(MotoServer server, Task announced, CancellationToken cancellationToken)
    {
        var probe = new Uri(server.Endpoint, "/moto-api/");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (server.Process.HasExited)
            {
                var code = await server.Process.Exited.ConfigureAwait(false);
                return $"exited with code {code.ToString(CultureInfo.InvariantCulture)} before answering";
            }

            if (announced.IsCompleted && await AnswersAsync(server._http, probe, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            await Task.Delay(ProbeInterval, cancellationToken).ConfigureAwait(false);
        }

        return $"did not answer GET {probe} within {StartTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
    }

    private static async Task<bool> AnswersAsync(HttpClient http, Uri probe, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            using var response = await http.GetAsync(probe, timeout.Token).ConfigureAwait(false);
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
            $"moto {what} answered {(int)response.StatusCode}: {body}{Environment.NewLine}--- {Executable} output ---{Environment.NewLine}{Process.Tail}");
    }
}

/// <summary>How <see cref="MotoServer.StartAsync(MotoServerOptions, CancellationToken)"/> runs moto.</summary>
public sealed record MotoServerOptions
{
    /// <summary>A name looked up on PATH or a path.</summary>
    public string Executable { get; init; } = MotoServer.Executable;

    /// <summary>Where moto's output goes (bounded, see <see cref="ChildProcess.MaxLogBytes"/>); null: only the tail is kept.</summary>
    public string? LogPath { get; init; }

    /// <summary>The client for the readiness probe and /moto-api calls; null: a loopback client of the harness.</summary>
    public HttpClient? Http { get; init; }

    /// <summary>
    /// True (the tests): moto runs under a watchdog and dies with this process, and is stopped by
    /// closing its stdin. False (<c>pipeline up</c>): moto is a plain child in its own session,
    /// stopped by SIGTERM in order with the others, its pid moto's own.
    /// </summary>
    public bool StopWithParent { get; init; } = true;

    /// <summary>Appended to the "not found" message (the CLI names its --moto flag).</summary>
    public string NotFoundHint { get; init; } = "";
}
