using Microsoft.Extensions.Logging;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Functions.Hosting;

/// <summary>What a handler factory gets from the composition root at init.</summary>
/// <param name="Environment">
/// Configuration source; bind options from it with an <see cref="EnvironmentBinder"/>: a
/// <see cref="ConfigurationException"/> fails init as Runtime.ConfigInvalid.
/// </param>
/// <param name="TimeProvider">The clock.</param>
/// <param name="Http">The one pooled HttpClient (<c>AwsHttp.CreateClient</c>) for every AWS client, the AWSSDK ones included.</param>
/// <param name="Logger">Init-time logger (JSON lines on stdout).</param>
public sealed record HandlerInitContext(
    IEnvironment Environment,
    TimeProvider TimeProvider,
    HttpClient Http,
    ILogger Logger)
{
    /// <summary>
    /// The function's AWS clients (endpoints, region and credentials from the environment). Owned
    /// by the handler, which lives as long as the sandbox.
    /// </summary>
    public AwsClients CreateAwsClients() => AwsClients.Create(AwsSettings.FromEnvironment(Environment), Http, TimeProvider);
}
