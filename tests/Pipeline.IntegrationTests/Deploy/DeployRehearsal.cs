using System.Text.Json.Nodes;
using Pipeline.Testing;
using Pipeline.LocalAws.Moto;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// Deploys the transformed template to a moto CloudFormation of its own, once, with the
/// parameters of samconfig.toml's default environment (what `sam deploy` would pass) plus an IRSA
/// provider, and keeps what the script read back. The server is private to this fixture because
/// a Lambda function in moto breaks /moto-api/data.json for everyone else on that server; it runs
/// until the fixture is disposed, so that a test class can call the rehearsed stack as the CLI
/// would call a deployed one (each class that takes the fixture gets its own server and stack).
/// </summary>
public sealed class DeployRehearsal : IAsyncLifetime
{
    public const string StackName = "xray-pipeline-rehearsal";
    public const string OidcProviderArn =
        "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";
    public const string OidcIssuer = "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";

    /// <summary>A schedule unlike the default, to see a parameter reach the created rule.</summary>
    public const string GraphSchedule = "rate(30 minutes)";

    private JsonObject? _facts;
    private MotoServer? _server;

    /// <summary>The rehearsal script's answer: stackStatus, resources, functions, eventSourceMappings, rules, roles, ...</summary>
    public JsonObject Facts => _facts ?? throw new InvalidOperationException("not initialized");

    public IReadOnlyDictionary<string, string> Parameters { get; private set; } = new Dictionary<string, string>();

    /// <summary>The moto server that holds the rehearsed stack.</summary>
    public MotoServer Server => _server ?? throw new InvalidOperationException("not initialized");

    /// <summary>What `sam deploy` would pass: samconfig.toml's default environment, plus <see cref="GraphSchedule"/> and an IRSA provider.</summary>
    public static async Task<Dictionary<string, string>> ParametersAsync(CancellationToken cancellationToken)
    {
        var config = await SamScript.ReadSamConfigAsync(cancellationToken);
        var parameters = config["default"]!["deploy"]!["parameter_overrides"]!.AsObject()
            .ToDictionary(p => p.Key, p => (string)p.Value!);
        parameters["GraphSchedule"] = GraphSchedule;
        parameters["RelayOidcProviderArn"] = OidcProviderArn;
        return parameters;
    }

    public async ValueTask InitializeAsync()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var parameters = await ParametersAsync(cancellationToken);
        Parameters = parameters;

        _server = await MotoServer.StartAsync(cancellationToken);
        _facts = await SamScript.RehearseAsync(_server.Endpoint, StackName, parameters, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    public IEnumerable<JsonObject> Items(string name) => Facts[name]!.AsArray().Select(n => n!.AsObject());

    public JsonObject Item(string name, string logicalId) =>
        Items(name).SingleOrDefault(i => (string?)i["logicalId"] == logicalId)
        ?? throw new KeyNotFoundException($"the rehearsal has no {name} entry for {logicalId}");
}
