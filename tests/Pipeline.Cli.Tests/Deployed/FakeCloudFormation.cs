using Pipeline.Aws.CloudFormation;

using Pipeline.Cli.Deployed;

namespace Pipeline.Cli.Tests.Deployed;

/// <summary>In-memory CloudFormation: the stacks it knows by name, and the names it was asked for.</summary>
internal sealed class FakeCloudFormation : ICloudFormationClient
{
    private readonly Dictionary<string, StackDescription> _stacks = new(StringComparer.Ordinal);

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

    public Task<StackDescription?> DescribeStackAsync(string stackName, CancellationToken cancellationToken = default)
    {
        Asked.Add(stackName);
        return Task.FromResult(_stacks.GetValueOrDefault(stackName));
    }
}
