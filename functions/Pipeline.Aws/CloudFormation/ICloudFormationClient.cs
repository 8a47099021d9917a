namespace Pipeline.Aws.CloudFormation;

/// <summary>
/// The AWS CloudFormation calls the CLI makes to find a deployed stack's parts (query protocol,
/// API version 2010-05-15). AWSSDK.CloudFormation is not served here, so this is our own small
/// client; the interface is shaped so the official package could replace it.
/// </summary>
public interface ICloudFormationClient
{
    /// <summary>DescribeStacks for one stack by name; null when no such stack exists in the region.</summary>
    Task<StackDescription?> DescribeStackAsync(string stackName, CancellationToken cancellationToken = default);

    /// <summary>ListStackResources, every page: the stack's resources with their physical ids; null when no such stack exists.</summary>
    Task<IReadOnlyList<StackResource>?> ListStackResourcesAsync(string stackName, CancellationToken cancellationToken = default);
}

/// <param name="PhysicalId">The resource's name or id in its service (a function name, a mapping's UUID, an alarm name); empty when CloudFormation gave none.</param>
public sealed record StackResource(string LogicalId, string PhysicalId, string ResourceType, string ResourceStatus);

/// <param name="Outputs">OutputKey → OutputValue (an output whose condition is false is absent).</param>
public sealed record StackDescription(string StackName, string StackId, string StackStatus, IReadOnlyDictionary<string, string> Outputs)
{
    /// <summary>CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE, IMPORT_COMPLETE…: the stack's resources are in place.</summary>
    public bool IsUsable => StackStatus.EndsWith("_COMPLETE", StringComparison.Ordinal)
        && StackStatus is not ("ROLLBACK_COMPLETE" or "DELETE_COMPLETE" or "IMPORT_ROLLBACK_COMPLETE");
}
