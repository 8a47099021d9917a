using System.Text.Json;

namespace Pipeline.IntegrationTests.Bootstrap;

/// <summary>The published bootstrap speaking to a real HTTP Runtime API.</summary>
[Collection(PublishedBootstrapGroup.Name)]
public sealed class PublishedBootstrapTests(PublishedBootstrapFixture bootstrap)
{
    private const int InitFailed = 1;
    private const int NoRuntimeApi = 4;

    [Fact]
    public async Task Bootstrap_UnknownHandler_PostsInitErrorListingKnownNamesAndExitsNonZero()
    {
        var run = await bootstrap.RunBootstrapAsync("no-such-function", """{"Records":[]}""");

        run.ExitCode.Should().Be(InitFailed, run.ToString());
        var error = run.InitErrors.Should().ContainSingle().Subject;
        error.ErrorType.Should().Be("Runtime.NoSuchHandler");
        error.ErrorTypeHeader.Should().Be("Runtime.NoSuchHandler");
        error.ErrorMessage.Should().Contain("_HANDLER 'no-such-function'").And.Contain("known handlers");
        run.Calls.Select(c => $"{c.Method} {c.Path}").Should().Equal("POST /2018-06-01/runtime/init/error");
        run.Invocations.Should().AllSatisfy(i => i.Outcome.IsCompleted.Should().BeFalse("no event is taken after a failed init"));
    }

    [Fact]
    public async Task Bootstrap_HandlerNotSet_PostsInitErrorAndExitsNonZero()
    {
        var run = await bootstrap.RunBootstrapAsync(handlerName: null);

        run.ExitCode.Should().Be(InitFailed, run.ToString());
        run.InitErrors.Should().ContainSingle().Which.ErrorMessage.Should().Contain("_HANDLER is not set");
    }

    [Fact]
    public async Task Bootstrap_NoRuntimeApiAddress_LogsWhyAndExitsNonZero()
    {
        var run = await bootstrap.RunBootstrapAsync(new BootstrapRunOptions
        {
            HandlerName = "ingest",
            Environment = new Dictionary<string, string?> { ["AWS_LAMBDA_RUNTIME_API"] = null },
        });

        run.ExitCode.Should().Be(NoRuntimeApi, run.ToString());
        run.Calls.Should().BeEmpty();
        var line = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle().Subject;
        using var log = JsonDocument.Parse(line);
        log.RootElement.GetProperty("level").GetString().Should().Be("FATAL");
        log.RootElement.GetProperty("message").GetString().Should().Contain("AWS_LAMBDA_RUNTIME_API is not set");
    }

    [Fact]
    public async Task Bootstrap_RuntimeApiUnreachable_LogsThatInitErrorCouldNotBeReportedAndExitsNonZero()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var address = closed.LocalEndpoint.ToString()!;
        closed.Stop();

        var run = await bootstrap.RunBootstrapAsync(new BootstrapRunOptions
        {
            HandlerName = "no-such-function",
            Environment = new Dictionary<string, string?> { ["AWS_LAMBDA_RUNTIME_API"] = address },
        });

        run.ExitCode.Should().Be(InitFailed, run.ToString());
        run.StandardOutput.Should().Contain("Could not report the init error to the Runtime API");
    }

    [Fact]
    public async Task Bootstrap_InitError_IsAlsoLoggedAsJsonLineOnStdout()
    {
        var run = await bootstrap.RunBootstrapAsync("no-such-function");

        run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Should().Contain(e => e.GetProperty("level").GetString() == "FATAL"
                && e.GetProperty("errorType").GetString() == "Runtime.NoSuchHandler");
    }

    [Fact]
    public void Bootstrap_Published_IsAnElfExecutableForTheTargetWithReadyToRunCode()
    {
        var header = new byte[20];
        using (var file = File.OpenRead(bootstrap.Executable))
        {
            file.ReadExactly(header);
        }

        header[..4].Should().Equal(0x7F, (byte)'E', (byte)'L', (byte)'F');
        BitConverter.ToUInt16(header, 18).Should().Be(62, "e_machine 62 is x86-64");
        var directory = Path.GetDirectoryName(bootstrap.Executable)!;
        File.Exists(Path.Combine(directory, "libcoreclr.so")).Should().BeTrue("the bundle is self-contained");
        IsReadyToRun(Path.Combine(directory, "bootstrap.dll")).Should().BeTrue();
        IsReadyToRun(Path.Combine(directory, "Pipeline.Lambda.dll")).Should().BeTrue();
    }

    private static bool IsReadyToRun(string assembly)
    {
        using var stream = File.OpenRead(assembly);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        return pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0;
    }
}
