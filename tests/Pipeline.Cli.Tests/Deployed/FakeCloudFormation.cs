using Pipeline.Aws.CloudFormation;

using Pipeline.Cli.Deployed;

namespace Pipeline.Cli.Tests.Deployed;

/// <summary>In-memory CloudFormation: the stacks it knows by name (with their resources), and the names it was asked for.</summary>
internal sealed class FakeCloudFormation : ICloudFormationClient
{
    private readonly Dictionary<string, StackDescription> _stacks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<StackResource>> _resources = new(StringComparer.Ordinal);

    public List<string> Asked { get; } = [];

    /// <summary>A CREATE_COMPLETE stack with these outputs.</summary>
    public FakeCloudFormation With(string name, IReadOnlyDictionary<string, string> outputs, string status = "CREATE_COMPLETE")
    {
        _stacks[name] = new StackDescription(name, $"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1", status, outputs);
        return this;
    }

    /// <summary>The Athena outputs of a stack as template.yaml names them.</summary>
    public static Dictionary<string, string> AthenaOutputs(string stack) => new(StringComparer.Ordinal)
    {
        [DeployedStack.AthenaWorkGroupName] = stack + "-archive",
        [DeployedStack.AthenaDatabaseName] = "xray_pipeline",
        [DeployedStack.AthenaResultsLocation] = $"s3://{stack}-athenaresults/athena-results/",
    };

    /// <summary>Adds a resource to a stack that <see cref="With"/> added.</summary>
    public FakeCloudFormation WithResource(string stack, string logicalId, string type, string physicalId)
    {
        if (!_resources.TryGetValue(stack, out var list))
        {
            _resources[stack] = list = [];
        }

        list.Add(new StackResource(logicalId, physicalId, type, "CREATE_COMPLETE"));
        return this;
    }

    public Task<IReadOnlyList<StackResource>?> ListStackResourcesAsync(string stackName, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<StackResource>?>(
            _stacks.ContainsKey(stackName) ? (_resources.GetValueOrDefault(stackName) ?? []) : null);

    public Task<StackDescription?> DescribeStackAsync(string stackName, CancellationToken cancellationToken = default)
    {
        Asked.Add(stackName);
        return Task.FromResult(_stacks.GetValueOrDefault(stackName));
    }
}
