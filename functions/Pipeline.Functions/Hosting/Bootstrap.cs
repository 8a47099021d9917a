using System.Net;
using Microsoft.Extensions.Logging;
using Pipeline.Aws.Http;
using Pipeline.Lambda;
using Pipeline.Lambda.Logging;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Telemetry;

namespace Pipeline.Functions.Hosting;

/// <summary>
/// The composition root of the <c>bootstrap</c> executable: reads the Lambda environment, builds
/// the Runtime API client and the handler named by <c>_HANDLER</c>, and runs the host loop.
/// </summary>
internal static class Bootstrap
{
    public static async Task<int> RunAsync(
        HandlerRegistry registry,
        IEnvironment environment,
        TimeProvider timeProvider,
        Stream logOutput,
        CancellationToken stoppingToken)
    {
        var logger = new JsonLineLogger(
            logOutput,
            timeProvider,
            JsonLineLogger.ParseLevel(environment.GetVariable(LambdaEnvironmentVariables.LogLevel)));

        var runtimeApi = environment.GetVariable(LambdaEnvironmentVariables.RuntimeApi);
        if (string.IsNullOrWhiteSpace(runtimeApi))
        {
            logger.LogCritical(
                "{Variable} is not set: this executable is a Lambda custom runtime and needs the Runtime API address (host:port)",
                LambdaEnvironmentVariables.RuntimeApi);
            return LambdaExitCodes.NoRuntimeApi;
        }

        using var runtimeHttp = CreateRuntimeApiHttpClient();
        RuntimeApiClient client;
        try
        {
            client = new RuntimeApiClient(runtimeHttp, runtimeApi);
        }
        catch (ArgumentException ex)
        {
            logger.LogCritical(ex, "{Variable} is malformed", LambdaEnvironmentVariables.RuntimeApi);
            return LambdaExitCodes.NoRuntimeApi;
        }

        using var awsHttp = AwsHttp.CreateClient();
        var handlerName = environment.GetVariable(LambdaEnvironmentVariables.Handler);
        using var metrics = new EmfPublisher(
            [new(PipelineMetrics.FunctionDimension, handlerName ?? string.Empty)],
            new StreamMetricsSink(logOutput),
            timeProvider);
        var host = new LambdaHost(client, environment, timeProvider, logger, metrics: metrics);
        var init = new HandlerInitContext(environment, timeProvider, awsHttp, logger);
        return await host.RunAsync(ct => registry.CreateAsync(handlerName, init, ct), stoppingToken).ConfigureAwait(false);
    }

    // No timeout: invocation/next long-polls for as long as the sandbox waits for an event.
    // The Runtime API is local to the sandbox, so no proxy and one kept-alive connection.
#pragma warning disable RS0030 // The bootstrap's composition root builds the Runtime API's own client (not an AWS one).
    private static HttpClient CreateRuntimeApiHttpClient() =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = 2,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
#pragma warning restore RS0030
}
