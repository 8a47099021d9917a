using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Functions.Configuration;
using Pipeline.Functions.Hosting;
using Pipeline.Lambda;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.Functions.Tests.Hosting;

public sealed class HandlerRegistryTests
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler());

    private static HandlerInitContext Init(IEnvironment environment) =>
        new(environment, TimeProvider.System, Http, NullLogger.Instance);

    [Fact]
    public async Task CreateAsync_RegisteredName_BuildsThatHandler()
    {
        var registry = new HandlerRegistry().Add("echo", _ => new EchoHandler()).Add("other", _ => throw new InvalidOperationException());

        var handler = await registry.CreateAsync("echo", Init(new DictionaryEnvironment()), TestContext.Current.CancellationToken);

        handler.Should().BeOfType<EchoHandler>();
        registry.Names.Should().Equal("echo", "other");
    }

    [Fact]
    public async Task CreateAsync_UnknownName_ThrowsNoSuchHandlerListingKnownNames()
    {
        var registry = new HandlerRegistry().Add("b-func", _ => new EchoHandler()).Add("a-func", _ => new EchoHandler());

        var create = async () => await registry.CreateAsync("c-func", Init(new DictionaryEnvironment()), TestContext.Current.CancellationToken);

        var thrown = await create.Should().ThrowAsync<LambdaInitException>();
        thrown.Which.ErrorType.Should().Be(LambdaError.Types.NoSuchHandler);
        thrown.Which.Message.Should().Be("_HANDLER 'c-func' is not a handler of this bootstrap; known handlers: a-func, b-func.");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public async Task CreateAsync_MissingName_ThrowsNoSuchHandler(string? name)
    {
        var create = async () => await new HandlerRegistry().CreateAsync(name, Init(new DictionaryEnvironment()), TestContext.Current.CancellationToken);

        (await create.Should().ThrowAsync<LambdaInitException>()).Which.Message.Should().Be("_HANDLER is not set; set it to one of: (none registered).");
    }

    [Fact]
    public void Add_DuplicateName_Throws()
    {
        var registry = new HandlerRegistry().Add(FunctionContract.IngestHandler, _ => new EchoHandler());

        var again = () => registry.Add(FunctionContract.IngestHandler, _ => new EchoHandler());

        again.Should().Throw<ArgumentException>().WithMessage("*ingest*already registered*");
    }

    [Fact]
    public void FunctionCatalog_RegistersOnlyTheTemplateNames()
    {
        FunctionCatalog.Create().Names.Should().BeSubsetOf(FunctionContract.HandlerNames);
    }

    [Fact]
    public async Task Bootstrap_WithRegisteredHandler_ServesInvocationsThroughTheRuntimeApi()
    {
        await using var emulator = await RuntimeApiEmulator.StartAsync(TestContext.Current.CancellationToken);
        var first = emulator.Enqueue("hello");
        var second = emulator.Enqueue("world");
        var environment = new DictionaryEnvironment
        {
            [LambdaEnvironmentVariables.RuntimeApi] = emulator.Address,
            [LambdaEnvironmentVariables.Handler] = "echo",
        };
        using var log = new MemoryStream();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = Bootstrap.RunAsync(new HandlerRegistry().Add("echo", _ => new EchoHandler()), environment, TimeProvider.System, log, stopping.Token);
        var outcomes = await Task.WhenAll(first.Outcome, second.Outcome).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await stopping.CancelAsync();

        outcomes.Select(o => o.BodyText).Should().Equal("hello", "world");
        (await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)).Should().Be(LambdaExitCodes.Stopped);
    }

    [Fact]
    public async Task Bootstrap_MalformedRuntimeApi_ExitsWithoutCallingIt()
    {
        var environment = new DictionaryEnvironment { [LambdaEnvironmentVariables.RuntimeApi] = "not a host/and path" };
        using var log = new MemoryStream();

        var exit = await Bootstrap.RunAsync(new HandlerRegistry(), environment, TimeProvider.System, log, TestContext.Current.CancellationToken);

        exit.Should().Be(LambdaExitCodes.NoRuntimeApi);
        Encoding.UTF8.GetString(log.ToArray()).Should().Contain("AWS_LAMBDA_RUNTIME_API is malformed");
    }

    private sealed class EchoHandler : ILambdaHandler
    {
        public Task<Stream> HandleAsync(Stream input, InvocationContext context)
        {
            context.Logger.LogInformation("echo");
            return Task.FromResult(input);
        }
    }
}
