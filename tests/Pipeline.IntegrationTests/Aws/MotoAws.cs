using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>Clients pointed at the assembly's moto server through settings, not the process environment.</summary>
internal static class MotoAws
{
    // One pooled client for every test, as the composition root would have; never via a proxy.
    public static HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public static AwsSettings Settings(MotoFixture moto) =>
        AwsSettings.FromEnvironment(new DictionaryEnvironment(moto.EnvironmentVariables));

    public static AwsClients Clients(MotoFixture moto) => AwsClients.Create(Settings(moto), Http);
}
