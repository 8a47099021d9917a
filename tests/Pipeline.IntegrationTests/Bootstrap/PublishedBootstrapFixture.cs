using System.Diagnostics;
using System.Text;
using Pipeline.Testing;
using Pipeline.LocalAws.Processes;

namespace Pipeline.IntegrationTests.Bootstrap;

/// <summary>
/// Tests that run the published bootstrap join this collection (<c>[Collection(PublishedBootstrapGroup.Name)]</c>
/// and take a <see cref="PublishedBootstrapFixture"/> in their constructor): the publish then runs
/// once per test run, and only when such a test runs.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PublishedBootstrapGroup : ICollectionFixture<PublishedBootstrapFixture>
{
    public const string Name = "Published bootstrap";
}

/// <summary>
/// Publishes the <c>bootstrap</c> executable (linux-x64, self-contained, ReadyToRun: the same
/// publish the Makefile does for Lambda) once per test run into a temp directory, and runs it
/// against a <see cref="RuntimeApiEmulator"/>: what we ship is what we test.
/// Extend with <see cref="RunBootstrapAsync(string?, string[])"/> once a handler is registered.
/// </summary>
public sealed class PublishedBootstrapFixture : IAsyncLifetime
{
    public const string RuntimeIdentifier = "linux-x64";

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(8);

    private readonly string _workDirectory = Path.Combine(Path.GetTempPath(), "pipeline-bootstrap-" + Guid.NewGuid().ToString("N"));
    private Exception? _publishFailure;
    private string? _executable;

    /// <summary>Full path of the published <c>bootstrap</c>.</summary>
    public string Executable => _executable ?? throw new InvalidOperationException("The bootstrap was not published.", _publishFailure);

    public async ValueTask InitializeAsync()
    {
        var publishDirectory = Path.Combine(_workDirectory, "publish");
        var project = Path.Combine(RepoPaths.Root, "functions", "Pipeline.Functions", "Pipeline.Functions.csproj");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

        // Own artifacts path: the publish never touches the repository's obj/bin that the test build uses.
        var result = await ChildProcess.RunAsync(
            dotnet,
            ["publish", project, "-c", "Release", "-r", RuntimeIdentifier, "-o", publishDirectory,
             "--artifacts-path", Path.Combine(_workDirectory, "artifacts"), "-nologo", "-v", "quiet", "-clp:ErrorsOnly"],
            environment: new Dictionary<string, string?> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["MSBUILDNOINPROCNODE"] = null },
            PublishTimeout,
            TestContext.Current.CancellationToken);
        var executable = Path.Combine(publishDirectory, "bootstrap");
        if (result.ExitCode != 0 || !File.Exists(executable))
        {
            _publishFailure = new InvalidOperationException($"dotnet publish failed ({result.ExitCode}):\n{result.StandardOutput}\n{result.StandardError}");
            throw _publishFailure;
        }

        _executable = executable;
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(_workDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Runs the bootstrap with <c>_HANDLER</c>=<paramref name="handlerName"/> on the given events.</summary>
    public Task<BootstrapRun> RunBootstrapAsync(string? handlerName, params string[] events) =>
        RunBootstrapAsync(new BootstrapRunOptions { HandlerName = handlerName, Events = events });

    /// <summary>
    /// Starts an emulator, queues the events, starts the published bootstrap pointed at it and
    /// waits until every event has an outcome (with no events: until the process exits), the process exits, or <see cref="BootstrapRunOptions.Timeout"/>
    /// passes; a process still running then is killed (Lambda would freeze it).
    /// </summary>
    public async Task<BootstrapRun> RunBootstrapAsync(BootstrapRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var emulator = await RuntimeApiEmulator.StartAsync(cancellationToken);
        var invocations = options.Events.Select(e => emulator.Enqueue(e, options.InvocationTimeout)).ToList();

        var environment = new Dictionary<string, string?>
        {
            ["AWS_LAMBDA_RUNTIME_API"] = emulator.Address,
            ["_HANDLER"] = options.HandlerName,
            ["AWS_LAMBDA_FUNCTION_NAME"] = "pipeline-test",
            ["AWS_REGION"] = "us-east-1",
        };
        foreach (var (name, value) in options.Environment)
        {
            environment[name] = value;
        }

        var started = Stopwatch.GetTimestamp();
        await using var process = ChildProcess.Start("bootstrap", Executable, [], environment, workingDirectory: null, logPath: null, options: new ChildProcessOptions { CaptureOutput = true });
        var exited = process.Exited.WaitAsync(cancellationToken);
        // With no events there is nothing to answer: wait for the process to end by itself.
        var answered = invocations.Count == 0
            ? Task.Delay(Timeout.Infinite, cancellationToken)
            : Task.WhenAll(invocations.Select(i => i.Outcome));
        var finished = await Task.WhenAny(exited, answered, Task.Delay(options.Timeout, cancellationToken));
        var timedOut = finished != exited && finished != answered;
        if (!process.HasExited)
        {
            process.Kill();
        }

        var exitCode = await process.Exited.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        var output = process.StandardOutput;
        var error = process.StandardError;

        return new BootstrapRun(
            ExitCode: finished == exited ? exitCode : null,
            TimedOut: timedOut,
            StandardOutput: output,
            StandardError: error,
            Invocations: invocations,
            InitErrors: emulator.InitErrors,
            Calls: emulator.Calls,
            StartTimestamp: started);
    }
}

/// <summary>How to run the published bootstrap.</summary>
public sealed record BootstrapRunOptions
{
    /// <summary>The <c>_HANDLER</c> value; null leaves it unset.</summary>
    public string? HandlerName { get; init; }

    public IReadOnlyList<string> Events { get; init; } = [];

    /// <summary>Variables to add or (with a null value) remove, applied after the defaults.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    public TimeSpan InvocationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bound on the whole run.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>What happened in one run of the bootstrap.</summary>
/// <param name="ExitCode">The exit code if the process ended by itself; null if it was still serving and was killed.</param>
/// <param name="StartTimestamp">Stopwatch timestamp just before the process started (cold start = first call − this).</param>
public sealed record BootstrapRun(
    int? ExitCode,
    bool TimedOut,
    string StandardOutput,
    string StandardError,
    IReadOnlyList<EmulatedInvocation> Invocations,
    IReadOnlyList<RecordedError> InitErrors,
    IReadOnlyList<RuntimeApiCall> Calls,
    long StartTimestamp)
{
    /// <summary>Time from process start to the first Runtime API request, if any.</summary>
    public TimeSpan? TimeToFirstCall => Calls.Count == 0 ? null : Stopwatch.GetElapsedTime(StartTimestamp, Calls[0].Timestamp);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("exit=").Append(ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(killed)")
            .Append(" timedOut=").Append(TimedOut)
            .Append("\ncalls: ").AppendJoin(", ", Calls.Select(c => $"{c.Method} {c.Path}"))
            .Append("\nstdout:\n").Append(StandardOutput)
            .Append("\nstderr:\n").Append(StandardError);
        return text.ToString();
    }
}
