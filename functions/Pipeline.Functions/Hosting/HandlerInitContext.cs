using Microsoft.Extensions.Logging;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Lambda;

namespace Pipeline.Functions.Hosting;

/// <summary>What a handler factory gets from the composition root at init.</summary>
/// <param name="Environment">Configuration source; bind options from it and fail init with a <see cref="LambdaInitException"/>.</param>
/// <param name="TimeProvider">The clock.</param>
/// <param name="Http">One pooled HttpClient for outbound AWS calls (not the Runtime API's client).</param>
/// <param name="Logger">Init-time logger (JSON lines on stdout).</param>
public sealed record HandlerInitContext(
    IEnvironmentVariables Environment,
    TimeProvider TimeProvider,
    HttpClient Http,
    ILogger Logger)
{
    /// <summary>The Lambda environment as the seam Pipeline.Aws binds its settings from.</summary>
    public IEnvironment AwsEnvironment => new AwsEnvironmentView(Environment);

    /// <summary>
    /// The function's AWS clients (endpoints, region and credentials from the environment), with a
    /// setting that cannot be used reported as an init error. Owned by the handler, which lives as
    /// long as the sandbox.
    /// </summary>
    public AwsClients CreateAwsClients()
    {
        try
        {
            return AwsClients.Create(AwsSettings.FromEnvironment(AwsEnvironment), Http, TimeProvider);
        }
        catch (AwsConfigurationException ex)
        {
            throw new LambdaInitException(LambdaError.Types.ConfigInvalid, ex.Message);
        }
    }

    private sealed class AwsEnvironmentView(IEnvironmentVariables environment) : IEnvironment
    {
        public string? GetVariable(string name) => environment.GetEnvironmentVariable(name);
    }
}
