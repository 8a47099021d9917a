using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Pipeline.Cli.Local;

/// <summary>Starts <c>moto_server</c> (the embedded AWS, see docs and MOTO.md) on a free loopback port.</summary>
internal static class MotoLauncher
{
    public const string DefaultExecutable = "moto_server";

    private const int MaxPortAttempts = 3;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Starts moto and waits until it answers; retries another port when the chosen one was taken in between.</summary>
    public static async Task<(ChildProcess Process, Uri Endpoint)> StartAsync(string executable, string logPath, HttpClient http, CancellationToken cancellationToken)
    {
        var failure = "";
        for (var attempt = 0; attempt < MaxPortAttempts; attempt++)
        {
            var port = LoopbackPorts.FreeTcp();
            var endpoint = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
            var child = ChildProcess.Start(
                "moto_server",
                executable,
                ["-H", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture)],
                new Dictionary<string, string?> { ["PYTHONUNBUFFERED"] = "1", ["NO_PROXY"] = "*" },
                workingDirectory: null,
                logPath);
            if (await WaitUntilAnswersAsync(child, endpoint, http, cancellationToken).ConfigureAwait(false))
            {
                return (child, endpoint);
            }

            failure = child.Tail;
            await child.DisposeAsync().ConfigureAwait(false);
            if (!failure.Contains("in use", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }
        }

        var hint = failure.Contains("No such file", StringComparison.Ordinal)
            ? $"{Environment.NewLine}{executable} is not installed or not on PATH: it comes with moto (pip install 'moto[server]'; tests/setup checks the prerequisites), or pass --moto PATH"
            : "";
        throw new InvalidOperationException($"moto_server did not start:{Environment.NewLine}{failure}{hint}");
    }

    private static async Task<bool> WaitUntilAnswersAsync(ChildProcess child, Uri endpoint, HttpClient http, CancellationToken cancellationToken)
    {
        var probe = new Uri(endpoint, "/moto-api/");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout && !child.HasExited)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                using var response = await http.GetAsync(probe, timeout.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A slow answer while it starts.
            }

            await Task.Delay(ProbeInterval, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }
}

/// <summary>Loopback port checks.</summary>
internal static class LoopbackPorts
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it).</summary>
    public static int FreeTcp()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Null when <paramref name="endpoint"/> can be bound for UDP (or TCP) now, else why not.</summary>
    public static string? WhyNotBindable(IPEndPoint endpoint, ProtocolType protocol)
    {
        using var socket = protocol == ProtocolType.Udp
            ? new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
            : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            return null;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return "already in use";
        }
        catch (SocketException e)
        {
            return e.Message;
        }
    }
}
