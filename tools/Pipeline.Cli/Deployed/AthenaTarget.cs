using Pipeline.Aws.CloudFormation;

namespace Pipeline.Cli.Deployed;

/// <summary>
/// Where <c>--target athena</c> runs a query: the deployed stack's work group (its enforced
/// result location and encryption, its bytes-scanned cutoff), database and results location.
/// The work group is always set: without one, Athena uses the account's primary work group,
/// which has no result location unless someone gave it one ("No output location provided").
/// A flag overrides its output; the stack is read unless all three flags are given.
/// </summary>
internal sealed record AthenaTarget(string WorkGroup, string Database, string OutputLocation)
{
    public static async Task<AthenaTarget> ResolveAsync(
        Func<ICloudFormationClient> cloudFormation,
        string? stackFlag,
        string? workGroupFlag,
        string? databaseFlag,
        string? outputLocationFlag,
        string workingDirectory,
        string region,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudFormation);
        if (workGroupFlag is not null && databaseFlag is not null && outputLocationFlag is not null)
        {
            return new AthenaTarget(workGroupFlag, databaseFlag, outputLocationFlag);
        }

        var stack = await DeployedStack.FindAsync(cloudFormation(), stackFlag, workingDirectory, region, cancellationToken).ConfigureAwait(false);
        return new AthenaTarget(
            workGroupFlag ?? stack.Output(DeployedStack.AthenaWorkGroupName),
            databaseFlag ?? stack.Output(DeployedStack.AthenaDatabaseName),
            outputLocationFlag ?? stack.Output(DeployedStack.AthenaResultsLocation));
    }
}
