using Pipeline.Aws.CloudFormation;

namespace Pipeline.Cli.Deployed;

/// <summary>
/// A stack that <c>sam deploy</c> created, found by name with CloudFormation DescribeStacks, and
/// the outputs the CLI reads from it (template.yaml's Outputs; a template test checks that each
/// name here is one of them). Every failure names the stack or the output and what to do.
/// </summary>
internal sealed class DeployedStack
{
    public const string StreamName = "StreamName";
    public const string ArchiveBucketName = "ArchiveBucketName";
    public const string AthenaWorkGroupName = "AthenaWorkGroupName";
    public const string AthenaDatabaseName = "AthenaDatabaseName";
    public const string AthenaResultsLocation = "AthenaResultsLocation";

    /// <summary>Every output the CLI reads.</summary>
    public static IReadOnlyList<string> OutputsRead { get; } =
        [StreamName, ArchiveBucketName, AthenaWorkGroupName, AthenaDatabaseName, AthenaResultsLocation];

    private DeployedStack(StackDescription stack, string region)
    {
        Stack = stack;
        Region = region;
    }

    public StackDescription Stack { get; }

    public string Name => Stack.StackName;

    public string Region { get; }

    /// <summary>
    /// The stack named <paramref name="stackFlag"/>, else samconfig.toml's stack_name (found at or
    /// above <paramref name="workingDirectory"/>). Throws <see cref="DeployedStackException"/> when
    /// there is no name, no such stack, or the stack is not in a usable state.
    /// </summary>
    public static async Task<DeployedStack> FindAsync(
        ICloudFormationClient cloudFormation, string? stackFlag, string workingDirectory, string region, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudFormation);
        var name = stackFlag ?? DefaultName(workingDirectory);
        var stack = await cloudFormation.DescribeStackAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new DeployedStackException(
                $"stack '{name}' does not exist in {region}: deploy it (sam build && sam deploy), or pass --stack with the name you deployed it as (and --region, or AWS_REGION, if it is elsewhere)");
        if (!stack.IsUsable)
        {
            throw new DeployedStackException(
                $"stack '{name}' is {stack.StackStatus}: wait for it to finish, or fix and redeploy it (aws cloudformation describe-stack-events --stack-name {name})");
        }

        return new DeployedStack(stack, region);
    }

    /// <summary>The output's value; throws naming the output and the stack when it is missing or empty.</summary>
    public string Output(string key)
    {
        if (Stack.Outputs.TryGetValue(key, out var value) && value.Length > 0)
        {
            return value;
        }

        throw new DeployedStackException(
            $"stack '{Name}' has no output {key}: it was deployed from an older template.yaml; redeploy it from this checkout (sam build && sam deploy --stack-name {Name})");
    }

    private static string DefaultName(string workingDirectory)
    {
        var config = SamConfig.Locate(workingDirectory)
            ?? throw new DeployedStackException($"no --stack given and no {SamConfig.FileName} at or above {workingDirectory}: pass --stack NAME");
        return SamConfig.StackName(File.ReadAllText(config))
            ?? throw new DeployedStackException($"no --stack given and {config} sets no stack_name in [{SamConfig.DefaultEnvironment}.deploy.parameters] or [{SamConfig.DefaultEnvironment}.global.parameters]: pass --stack NAME");
    }
}

/// <summary>The deployed stack, or an output the CLI needs from it, is missing; the message says what to do.</summary>
internal sealed class DeployedStackException : Exception
{
    public DeployedStackException(string message)
        : base(message)
    {
    }

    public DeployedStackException()
    {
    }

    public DeployedStackException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
