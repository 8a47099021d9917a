using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Pipeline.Testing;
using Pipeline.LocalAws.Processes;
using Pipeline.LocalAws.Stack;

namespace Pipeline.IntegrationTests.LocalMode;

/// <summary>
/// `./pipeline up` run as a new user runs it: the script at the repository root, as a child
/// process, with its own state directory and a non-default UDP port so that tests never meet a
/// developer's running stack. Reads stack.json, the archive in moto S3, and stops it with SIGTERM.
/// </summary>
internal sealed class PipelineUp : IAsyncDisposable
{
    /// <summary>A cold build of the CLI and the relay by the script on a busy machine fits in this.</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(6);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private AmazonS3Client? _s3;

    private PipelineUp(Process process, string stateDir)
    {
        _process = process;
        StateDir = stateDir;
    }

    public string StateDir { get; }

    /// <summary>stack.json as `up` wrote it when ready, read through the harness's one model.</summary>
    public StackFile? Stack { get; private set; }

    public string Output => string.Join('\n', _output);

    public string DaemonAddress => Stack!.Relay.DaemonAddress;

    public string RelayUdp => Stack!.Relay.Udp;

    public string ArchiveBucket => Stack!.Buckets.Archive;

    /// <summary>Every pid stack.json records (up, moto, relay, demo processes).</summary>
    public IReadOnlyList<int> RecordedPids => [.. Stack!.Pids.All];

    /// <summary>The command line a new user types, plus the flags that keep tests apart.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(RepoPaths.Root, "pipeline"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "AWS_XRAY_DAEMON_ADDRESS", "AWS_ENDPOINT_URL", "PIPELINE_STATE_DIR", "AWS_PROFILE" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return start;
    }

    /// <summary>Starts `./pipeline up` and waits for its `pipeline ready` line.</summary>
    public static async Task<PipelineUp> StartAsync(IEnumerable<string> extraArgs, IReadOnlyDictionary<string, string>? environment = null)
    {
        var stateDir = Directory.CreateTempSubdirectory("pipeline-up-").FullName;
        var udp = LoopbackPorts.FreeUdp();
        var args = new List<string> { "up", "--udp", $"127.0.0.1:{udp.ToString(CultureInfo.InvariantCulture)}", "--tcp", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--otlp-grpc", "127.0.0.1:0", "--state-dir", stateDir };
        args.AddRange(extraArgs);
        var process = Process.Start(StartInfo(args, environment))!;
        var up = new PipelineUp(process, stateDir);
        process.OutputDataReceived += (_, e) => up.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => up.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var first = await Task.WhenAny(up._ready.Task, process.WaitForExitAsync(TestContext.Current.CancellationToken), Task.Delay(ReadyTimeout, TestContext.Current.CancellationToken));
            if (first != up._ready.Task)
            {
                throw new InvalidOperationException($"pipeline up did not print 'pipeline ready' (exited: {process.HasExited}):\n{up.Output}");
            }

            up.Stack = StackFile.TryRead(Path.Combine(stateDir, "stack.json"))
                ?? throw new InvalidOperationException($"pipeline up printed 'pipeline ready' without a readable stack.json:\n{up.Output}");
            var endpoint = up.Stack.Endpoint;
            up._s3 = new AmazonS3Client(
                new Amazon.Runtime.BasicAWSCredentials("testing", "testing"),
                new AmazonS3Config { ServiceURL = endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
            return up;
        }
        catch
        {
            await up.DisposeAsync();
            throw;
        }
    }

    /// <summary>Reads stack.json again (`up --demo` adds the demo's pids once the demo runs).</summary>
    public void RefreshStack() => Stack = StackFile.TryRead(Path.Combine(StateDir, "stack.json")) ?? Stack;

    /// <summary>Runs `./pipeline ARGS` to completion (help, send, status, a failing up): exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        using var process = Process.Start(StartInfo(args))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Every archived segment document (segments/ prefix, gzip NDJSON) now in moto S3.</summary>
    public async Task<List<JsonElement>> ArchivedSegmentsAsync()
    {
        var segments = new List<JsonElement>();
        var request = new ListObjectsV2Request { BucketName = ArchiveBucket, Prefix = "segments/" };
        ListObjectsV2Response page;
        do
        {
            page = await _s3!.ListObjectsV2Async(request, TestContext.Current.CancellationToken);
            foreach (var o in page.S3Objects ?? [])
            {
                using var response = await _s3.GetObjectAsync(ArchiveBucket, o.Key, TestContext.Current.CancellationToken);
                await using var gzip = new GZipStream(response.ResponseStream, CompressionMode.Decompress);
                using var reader = new StreamReader(gzip, Encoding.UTF8);
                while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
                {
                    if (line.Length > 0)
                    {
                        using var doc = JsonDocument.Parse(line);
                        segments.Add(doc.RootElement.Clone());
                    }
                }
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return segments;
    }

    /// <summary>Polls the archive until <paramref name="done"/> holds (bounded by <paramref name="timeout"/>); returns the last read.</summary>
    public async Task<List<JsonElement>> WaitForArchiveAsync(Func<List<JsonElement>, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var segments = await ArchivedSegmentsAsync();
            if (done(segments) || clock.Elapsed > timeout || _process.HasExited)
            {
                return segments;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>SIGTERM (as systemd, Kubernetes or `kill` send it) and the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        await Signals.TerminateAsync(_process.Id);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // A failed test: stop it in order if it still listens, kill it otherwise.
            try
            {
                await TerminateAsync(TimeSpan.FromSeconds(60));
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        if (Stack is not null)
        {
            foreach (var pid in RecordedPids.Where(Signals.IsAlive))
            {
                try
                {
                    Process.GetProcessById(pid).Kill(entireProcessTree: true);
                }
                catch (ArgumentException)
                {
                    // Gone in between.
                }
            }
        }

        _s3?.Dispose();
        _process.Dispose();
        try
        {
            Directory.Delete(StateDir, recursive: true);
        }
        catch (IOException)
        {
            // A log still being written by a dying child; the temp dir is the OS's to clean.
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        if (line == "pipeline ready")
        {
            _ready.TrySetResult();
        }
    }
}
